/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "eset-parse.h"
#include "plugin-util.h"

static int output_check(const char *out, size_t size) {
        return plugin_text_check(out, size, ESET_OUTPUT_MAX, 0, false);
}

/* Finds a line starting with prefix; returns a pointer to the rest of it (bounded copy into buf). */
static int line_after(const char *out, const char *prefix, char *buf, size_t size) {
        size_t pl = strlen(prefix);

        for (const char *p = out; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t) (nl - p) : strlen(p);
                if (len >= pl && strncmp(p, prefix, pl) == 0) {
                        size_t vl = len - pl;
                        while (vl > 0 && (p[pl + vl - 1] == '\r' || p[pl + vl - 1] == ' '))
                                vl--;
                        if (vl >= size)
                                return -EBADMSG;
                        memcpy(buf, p + pl, vl);
                        buf[vl] = '\0';
                        return 0;
                }
                p = nl ? nl + 1 : NULL;
        }
        return -ENOENT;
}

int eset_parse_upd_version(const char *out, size_t size, char *buf, size_t buf_size) {
        const char *p;
        size_t n;
        int r;

        r = output_check(out, size);
        if (r < 0)
                return r;
        p = strstr(out, "(eea) ");
        if (!p)
                return -EBADMSG;
        p += 6;
        n = strspn(p, "0123456789.");
        if (n == 0 || n >= buf_size || (p[n] && !strchr("\r\n ", p[n])))
                return -EBADMSG;
        memcpy(buf, p, n);
        buf[n] = '\0';
        return 0;
}

int eset_parse_engine_date(const char *out, size_t size, time_t *ret) {
        char rest[256];
        unsigned ver, y, m, d;
        char tail[64];
        int r;

        r = output_check(out, size);
        if (r < 0)
                return r;
        r = line_after(out, "EM002 ", rest, sizeof rest);
        if (r < 0)
                return -EBADMSG;
        {
                const char *paren = strchr(rest, '(');
                if (!paren || strspn(paren + 1, "0123456789") != 8 || paren[9] != ')')
                        return -EBADMSG;
        }
        if (sscanf(rest, "%u (%4u%2u%2u) %63[^\n]", &ver, &y, &m, &d, tail) != 5 || y < 2000 || y > 2200 || m < 1 || m > 12 ||
            d < 1 || d > 31)
                return -EBADMSG;
        {
                struct tm tm = { .tm_year = (int) y - 1900, .tm_mon = (int) m - 1, .tm_mday = (int) d };
                *ret = timegm(&tm);
        }
        return 0;
}

int eset_parse_odscan(const char *out, size_t size, char *log_name, size_t log_name_size) {
        struct json_tokener *tok;
        struct json_object *obj, *v;
        const char *nl, *s;
        int r;

        r = output_check(out, size);
        if (r < 0)
                return r;
        nl = strchr(out, '\n');
        tok = json_tokener_new_ex(4);
        if (!tok)
                return -ENOMEM;
        obj = json_tokener_parse_ex(tok, out, nl ? (int) (nl - out) : (int) size);
        r = json_tokener_get_error(tok) == json_tokener_success ? 0 : -EBADMSG;
        json_tokener_free(tok);
        if (r < 0 || !obj || !json_object_is_type(obj, json_type_object) || !json_object_object_get_ex(obj, "log_name", &v) ||
            !json_object_is_type(v, json_type_string)) {
                json_object_put(obj);
                return -EBADMSG;
        }
        s = json_object_get_string(v);
        /* a file name we pass on as an argument: no slashes, no leading dash */
        if (!*s || strlen(s) >= log_name_size || strchr(s, '/') || s[0] == '-' || s[0] == '.') {
                json_object_put(obj);
                return -EBADMSG;
        }
        strcpy(log_name, s);
        json_object_put(obj);
        return 0;
}

int eset_parse_lslog(const char *out, size_t size, unsigned *ret_detections, char *threat, size_t threat_size) {
        char v[512];
        char *end;
        unsigned long n;
        int r;

        r = output_check(out, size);
        if (r < 0)
                return r;
        if (line_after(out, "Detections occurred: ", v, sizeof v) < 0)
                return -EBADMSG;
        errno = 0;
        n = strtoul(v, &end, 10);
        if (errno || end == v || *end || n > 1000000)
                return -EBADMSG;
        *ret_detections = (unsigned) n;
        if (threat && threat_size > 0) {
                threat[0] = '\0';
                /* [INF] Detection: "<path>" - <threat> - action: <action> */
                if (line_after(out, "Detection: ", v, sizeof v) == 0) {
                        char *a = strstr(v, "\" - "), *b;
                        if (a && (b = strstr(a + 4, " - action:")))
                                snprintf(threat, threat_size, "%.*s", (int) (b - (a + 4)), a + 4);
                }
        }
        return 0;
}

int eset_parse_rtp_status(const char *out, size_t size) {
        char v[64];
        int r;

        r = output_check(out, size);
        if (r < 0)
                return r;
        if (line_after(out, "Real-time file system protection: ", v, sizeof v) < 0)
                return -EBADMSG;
        if (strcmp(v, "enabled") == 0)
                return 1;
        if (strcmp(v, "disabled") == 0)
                return 0;
        return -EBADMSG;
}

const char *eset_odscan_exit_message(int code) {
        switch (code) {
        case 0:
                return "no threat found";
        case 1:
                return "threat found and cleaned";
        case 10:
                return "scan incomplete: some files could not be scanned";
        case 50:
                return "threat found";
        case 100:
                return "scan error";
        default:
                return "undocumented exit code";
        }
}
