/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "plugin-util.h"
#include "sophos-parse.h"

static int missing(PluginParseError *err, const char *what) {
        return plugin_parse_fail(err, 0, what, strlen(what));
}

int sophos_parse_version_ini(const char *text, size_t size, char *buf, size_t buf_size, PluginParseError *err) {
        const char *line, *p = text, *v;
        size_t len, vl;
        unsigned n = 0;

        if (plugin_text_check(text, size, SOPHOS_OUTPUT_MAX, 0, false) < 0)
                return missing(err, "empty, oversized or binary file");
        while (plugin_text_next_line(&p, &line, &len)) {
                n++;
                if (!plugin_text_kv(line, len, "PRODUCT_VERSION", '=', &v, &vl))
                        continue;
                if (vl == 0 || vl >= buf_size || strspn(v, "0123456789.") < vl || v[0] == '.')
                        return plugin_parse_fail(err, n, line, len);
                memcpy(buf, v, vl);
                buf[vl] = '\0';
                return 0;
        }
        return missing(err, "no PRODUCT_VERSION line");
}

int sophos_parse_avscanner(const char *out, size_t size, SophosScan *ret, PluginParseError *err) {
        static const char detected[] = "Detected \"", infected[] = " is infected with ";
        const char *line, *p = out;
        size_t len;
        unsigned n = 0;

        *ret = (SophosScan){ 0 };
        if (!out && size == 0)
                return 0;
        if (plugin_text_check(out, size, SOPHOS_OUTPUT_MAX, 0, true) < 0)
                return missing(err, "oversized or binary output");
        while (plugin_text_next_line(&p, &line, &len)) {
                const char *d, *q, *m, *t, *e = line + len;
                size_t tl;

                n++;
                if (memmem(line, len, "Failed to scan", 14)) {
                        ret->errors++;
                        continue;
                }
                d = memmem(line, len, detected, sizeof detected - 1);
                if (!d)
                        continue;
                q = d + sizeof detected - 1;
                /* the path ends at the last '"' before " is infected with" */
                m = NULL;
                for (const char *s = q; (s = memmem(s, (size_t) (e - s), infected, sizeof infected - 1)); s++)
                        m = s;
                if (!m)
                        return plugin_parse_fail(err, n, line, len);
                t = m + sizeof infected - 1;
                tl = (size_t) (e - t);
                if (tl == 0)
                        return plugin_parse_fail(err, n, line, len);
                if (ret->detections++ == 0) {
                        const char *pe = memchr(q, '"', (size_t) (m - q));
                        /* " (scanType)" since 2022-09: a trailing parenthesis after a blank */
                        if (t[tl - 1] == ')') {
                                const char *o = NULL;
                                for (const char *s = t; s < t + tl; s++)
                                        if (*s == '(' && s > t && s[-1] == ' ')
                                                o = s;
                                if (o) {
                                        snprintf(ret->scan_type, sizeof ret->scan_type, "%.*s", (int) (t + tl - 1 - o - 1), o + 1);
                                        tl = (size_t) (o - 1 - t);
                                }
                        }
                        if (tl == 0)
                                return plugin_parse_fail(err, n, line, len);
                        snprintf(ret->threat, sizeof ret->threat, "%.*s", (int) tl, t);
                        snprintf(ret->path, sizeof ret->path, "%.*s", (int) (pe ? pe - q : 0), q);
                }
        }
        return 0;
}

int sophos_parse_on_access_status(const char *text, size_t size, PluginParseError *err) {
        const char *line, *p = text;
        size_t len;

        if (plugin_text_check(text, size, 4096, 0, false) < 0)
                return missing(err, "empty, oversized or binary file");
        if (!plugin_text_next_line(&p, &line, &len))
                return missing(err, "empty file");
        /* Sophos' StatusFile::isEnabled() reads one byte: 'e' is enabled */
        if (len >= 7 && memcmp(line, "enabled", 7) == 0)
                return 1;
        if (len >= 8 && memcmp(line, "disabled", 8) == 0)
                return 0;
        return plugin_parse_fail(err, 1, line, len);
}

const char *sophos_exit_message(int code) {
        switch (code) {
        case 0:
                return "no threat found";
        case 1:
                return "failure";
        case 3:
                return "bad option";
        case 8:
                return "generic failure (a scan error, e.g. file/folder does not exist)";
        case 15:
                return "terminated";
        case 16:
                return "password-protected file, not scanned";
        case 20:
                return "threat found and disinfected";
        case 24:
                return "threat found";
        case 25:
                return "scan aborted after finding threats";
        case 28:
                return "threat found in memory";
        case 32:
                return "integrity check failure";
        case 36:
                return "scan aborted";
        case 40:
        case 41:
                return "scan interrupted";
        default:
                return "undocumented exit code";
        }
}
