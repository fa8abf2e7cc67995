/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>

#include "plugin-util.h"

int plugin_text_check(const char *out, size_t size, size_t max, size_t line_max, bool allow_empty) {
        size_t line = 0;

        if (!out || size > max || strlen(out) != size || (!allow_empty && size == 0))
                return -EBADMSG;
        for (size_t i = 0; i < size; i++) {
                unsigned char c = (unsigned char) out[i];
                if (c == '\n') {
                        line = 0;
                        continue;
                }
                if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
                        return -EBADMSG;
                if (line_max && ++line > line_max)
                        return -EBADMSG;
        }
        return 0;
}

int plugin_text_next_line(const char **p, const char **ret_line, size_t *ret_len) {
        const char *s = *p, *nl;
        size_t len;

        if (!s || !*s)
                return 0;
        nl = strchr(s, '\n');
        len = nl ? (size_t) (nl - s) : strlen(s);
        *p = nl ? nl + 1 : s + len;
        while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
                len--;
        *ret_line = s;
        *ret_len = len;
        return 1;
}

bool plugin_text_kv(const char *line, size_t len, const char *key, char sep, const char **ret_value, size_t *ret_value_len) {
        const char *e = line + len, *p = line;
        size_t kl = strlen(key);

        while (p < e && (*p == ' ' || *p == '\t'))
                p++;
        if ((size_t) (e - p) < kl || memcmp(p, key, kl) != 0)
                return false;
        p += kl;
        while (p < e && (*p == ' ' || *p == '\t'))
                p++;
        if (p >= e || *p != sep)
                return false;
        p++;
        while (p < e && (*p == ' ' || *p == '\t'))
                p++;
        *ret_value = p;
        *ret_value_len = (size_t) (e - p);
        return true;
}

void plugin_text_quote(const char *line, size_t len, char *buf, size_t size) {
        size_t n = 0;

        if (size == 0)
                return;
        for (size_t i = 0; i < len && n + 1 < size; i++)
                buf[n++] = (unsigned char) line[i] < 0x20 ? '?' : line[i];
        buf[n] = '\0';
}

int plugin_parse_fail(PluginParseError *err, unsigned line, const char *text, size_t len) {
        if (err) {
                err->line = line;
                plugin_text_quote(text ? text : "", text ? len : 0, err->text, sizeof err->text);
        }
        return -EBADMSG;
}
