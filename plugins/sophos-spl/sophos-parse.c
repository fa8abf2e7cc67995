/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sophos-parse.h"
#include "plugin-util.h"

static int output_check(const char *out, size_t size, bool allow_empty) {
        return plugin_text_check(out, size, SOPHOS_OUTPUT_MAX, 0, allow_empty);
}

int sophos_parse_version_ini(const char *text, size_t size, char *buf, size_t buf_size) {
        static const char key[] = "PRODUCT_VERSION";
        int r;

        r = output_check(text, size, false);
        if (r < 0)
                return r;
        for (const char *p = text; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t) (nl - p) : strlen(p);

                if (len > sizeof key && strncmp(p, key, sizeof key - 1) == 0) {
                        const char *v = p + sizeof key - 1;
                        size_t vl;
                        while (*v == ' ')
                                v++;
                        if (*v != '=')
                                goto next;
                        v++;
                        while (*v == ' ')
                                v++;
                        vl = (size_t) (p + len - v);
                        while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
                                vl--;
                        if (vl == 0 || vl >= buf_size || strspn(v, "0123456789.") < vl)
                                return -EBADMSG;
                        memcpy(buf, v, vl);
                        buf[vl] = '\0';
                        return 0;
                }
next:
                p = nl ? nl + 1 : NULL;
        }
        return -EBADMSG;
}

int sophos_parse_avscanner(const char *out, size_t size, bool *ret_detected, char *threat, size_t threat_size) {
        static const char marker[] = "\" is infected with ";
        int r;

        r = output_check(out, size, true);
        if (r < 0)
                return r;
        *ret_detected = false;
        if (threat && threat_size)
                threat[0] = '\0';
        for (const char *p = out; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t) (nl - p) : strlen(p);

                if (len > 10 && strncmp(p, "Detected \"", 10) == 0) {
                        const char *m = strstr(p, marker), *t, *paren;
                        if (!m || m > p + len)
                                return -EBADMSG;
                        t = m + sizeof marker - 1;
                        paren = memchr(t, '(', (size_t) (p + len - t));
                        if (!paren || paren == t || paren[-1] != ' ')
                                return -EBADMSG;
                        *ret_detected = true;
                        if (threat && threat_size)
                                snprintf(threat, threat_size, "%.*s", (int) (paren - 1 - t), t);
                        return 0;
                }
                p = nl ? nl + 1 : NULL;
        }
        return 0;
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
                return "generic failure";
        case 16:
                return "password-protected file, not scanned";
        case 20:
                return "threat found and disinfected";
        case 24:
                return "threat found";
        case 25:
                return "scan aborted after finding threats";
        case 36:
                return "scan aborted";
        case 40:
        case 41:
                return "scan interrupted";
        default:
                return "undocumented exit code";
        }
}
