/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "eset-parse.h"
#include "plugin-util.h"

static int output_check(const char *out, size_t size, PluginParseError *err) {
        if (plugin_text_check(out, size, ESET_OUTPUT_MAX, 0, false) < 0) {
                static const char what[] = "empty, oversized or binary output";
                return plugin_parse_fail(err, 0, what, sizeof what - 1);
        }
        return 0;
}

static int missing(PluginParseError *err, const char *what) {
        return plugin_parse_fail(err, 0, what, strlen(what));
}

static const char *skip_blanks(const char *p, const char *e) {
        while (p < e && (*p == ' ' || *p == '\t'))
                p++;
        return p;
}

int eset_parse_upd_version(const char *out, size_t size, char *buf, size_t buf_size, PluginParseError *err) {
        const char *line, *p = out;
        size_t len;
        unsigned n = 0;
        int r;

        r = output_check(out, size, err);
        if (r < 0)
                return r;
        while (plugin_text_next_line(&p, &line, &len)) {
                const char *e = line + len, *v, *m;
                size_t vl;

                n++;
                m = memmem(line, len, "(eea)", 5);
                if (!m)
                        continue;
                v = skip_blanks(m + 5, e);
                vl = strspn(v, "0123456789.");
                if (v + vl > e)
                        vl = (size_t) (e - v);
                if (vl == 0 || vl >= buf_size || skip_blanks(v + vl, e) != e || !strchr("0123456789", v[0]))
                        return plugin_parse_fail(err, n, line, len);
                memcpy(buf, v, vl);
                buf[vl] = '\0';
                return 0;
        }
        return missing(err, "no \"(eea) <version>\" line");
}

int eset_parse_engine_date(const char *out, size_t size, time_t *ret, PluginParseError *err) {
        const char *line, *p = out;
        size_t len;
        unsigned n = 0;
        int r;

        r = output_check(out, size, err);
        if (r < 0)
                return r;
        while (plugin_text_next_line(&p, &line, &len)) {
                const char *e = line + len, *q;
                unsigned y, m, d;
                size_t k;

                n++;
                q = skip_blanks(line, e);
                /* EM002 and a blank: not EM0020 */
                if ((size_t) (e - q) < 6 || memcmp(q, "EM002", 5) != 0 || (q[5] != ' ' && q[5] != '\t'))
                        continue;
                q = skip_blanks(q + 5, e);
                k = strspn(q, "0123456789.");
                if (k == 0 || q + k > e)
                        return plugin_parse_fail(err, n, line, len);
                q = skip_blanks(q + k, e);
                if (e - q < 10 || q[0] != '(' || strspn(q + 1, "0123456789") != 8 || q[9] != ')')
                        return plugin_parse_fail(err, n, line, len);
                y = (unsigned) (q[1] - '0') * 1000 + (unsigned) (q[2] - '0') * 100 + (unsigned) (q[3] - '0') * 10 +
                        (unsigned) (q[4] - '0');
                m = (unsigned) (q[5] - '0') * 10 + (unsigned) (q[6] - '0');
                d = (unsigned) (q[7] - '0') * 10 + (unsigned) (q[8] - '0');
                if (y < 2000 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31)
                        return plugin_parse_fail(err, n, line, len);
                /* the module's name follows; any name (it is localised in the GUI) */
                if (skip_blanks(q + 10, e) == e)
                        return plugin_parse_fail(err, n, line, len);
                {
                        struct tm tm = { .tm_year = (int) y - 1900, .tm_mon = (int) m - 1, .tm_mday = (int) d };
                        *ret = timegm(&tm);
                }
                return 0;
        }
        return missing(err, "no EM002 (detection engine) line");
}

int eset_parse_lic_status(const char *out, size_t size, char *validity, size_t validity_size, PluginParseError *err) {
        const char *line, *p = out, *v;
        size_t len, vl;
        unsigned n = 0;
        int status = -1, r;

        r = output_check(out, size, err);
        if (r < 0)
                return r;
        if (validity && validity_size)
                validity[0] = '\0';
        while (plugin_text_next_line(&p, &line, &len)) {
                n++;
                if (plugin_text_kv(line, len, "Status", ':', &v, &vl)) {
                        if (vl == 0)
                                return plugin_parse_fail(err, n, line, len);
                        status = vl == 9 && memcmp(v, "Activated", 9) == 0;
                } else if (plugin_text_kv(line, len, "License Validity", ':', &v, &vl) && validity && validity_size) {
                        if (vl >= validity_size)
                                return plugin_parse_fail(err, n, line, len);
                        memcpy(validity, v, vl);
                        validity[vl] = '\0';
                }
        }
        if (status < 0)
                return missing(err, "no \"Status:\" line");
        return status;
}

/* Reads `key="value"` at *p (after blanks and an optional comma); value has no quote. */
static int attr(const char **p, const char *e, char *key, size_t key_size, const char **ret_v, size_t *ret_vl) {
        const char *q = skip_blanks(*p, e), *eq, *end;

        if (q < e && *q == ',')
                q = skip_blanks(q + 1, e);
        if (q >= e)
                return 0;
        eq = memchr(q, '=', (size_t) (e - q));
        if (!eq || eq == q || (size_t) (eq - q) >= key_size || eq + 1 >= e || eq[1] != '"')
                return -EBADMSG;
        end = memchr(eq + 2, '"', (size_t) (e - eq - 2));
        if (!end)
                return -EBADMSG;
        memcpy(key, q, (size_t) (eq - q));
        key[eq - q] = '\0';
        *ret_v = eq + 2;
        *ret_vl = (size_t) (end - eq - 2);
        *p = end + 1;
        return 1;
}

static void copy_value(char *buf, size_t size, const char *v, size_t vl) {
        snprintf(buf, size, "%.*s", (int) vl, v);
}

int eset_parse_odscan(const char *out, size_t size, EsetOdscan *ret, PluginParseError *err) {
        const char *line, *p = out, *json_start = NULL;
        size_t len;
        unsigned n = 0, json_line = 0;
        int depth = 0, r;

        *ret = (EsetOdscan){ 0 };
        /* empty output is fine: a clean scan without --show-scan-info may print nothing [INF] */
        if (!out && size == 0)
                return 0;
        if (plugin_text_check(out, size, ESET_OUTPUT_MAX, 0, true) < 0)
                return missing(err, "oversized or binary output");
        while (plugin_text_next_line(&p, &line, &len)) {
                const char *e = line + len, *q = skip_blanks(line, e);

                n++;
                if (!json_start && q < e && *q == '{') {
                        json_start = q;
                        json_line = n;
                }
                if (json_start) {
                        for (const char *c = q; c < e; c++)
                                depth += *c == '{' ? 1 : *c == '}' ? -1 : 0;
                        if (depth <= 0) {
                                struct json_tokener *tok = json_tokener_new_ex(4);
                                struct json_object *obj, *v;
                                const char *s;

                                if (!tok)
                                        return -ENOMEM;
                                obj = json_tokener_parse_ex(tok, json_start, (int) (e - json_start));
                                r = json_tokener_get_error(tok) == json_tokener_success ? 0 : -EBADMSG;
                                json_tokener_free(tok);
                                if (r < 0 || !obj || !json_object_is_type(obj, json_type_object)) {
                                        json_object_put(obj);
                                        return plugin_parse_fail(err, json_line, json_start, (size_t) (e - json_start));
                                }
                                if (json_object_object_get_ex(obj, "log_name", &v)) {
                                        s = json_object_get_string(v);
                                        /* a file name we pass on as an argument: no slash, no leading dash or dot */
                                        if (!json_object_is_type(v, json_type_string) || !*s ||
                                            strlen(s) >= sizeof ret->log_name || strchr(s, '/') || s[0] == '-' || s[0] == '.') {
                                                json_object_put(obj);
                                                return plugin_parse_fail(err, json_line, json_start, (size_t) (e - json_start));
                                        }
                                        strcpy(ret->log_name, s);
                                }
                                json_object_put(obj);
                                json_start = NULL;
                                depth = 0;
                        }
                        continue;
                }
                if ((size_t) (e - q) >= 6 && memcmp(q, "name=\"", 6) == 0) {
                        char key[32], path[256] = "", threat[128] = "", action[64] = "";
                        const char *v, *a = q;
                        size_t vl;

                        while ((r = attr(&a, e, key, sizeof key, &v, &vl)) > 0) {
                                if (strcmp(key, "name") == 0)
                                        copy_value(path, sizeof path, v, vl);
                                else if (strcmp(key, "result") == 0 || strcmp(key, "threat") == 0)
                                        copy_value(threat, sizeof threat, v, vl);
                                else if (strcmp(key, "action") == 0)
                                        copy_value(action, sizeof action, v, vl);
                                /* info= and keys of later versions: ignored */
                        }
                        if (r < 0 || !path[0])
                                return plugin_parse_fail(err, n, line, len);
                        /* result="" is how a clean object could be listed: not a detection */
                        if (!threat[0])
                                continue;
                        if (ret->detections++ == 0) {
                                snprintf(ret->path, sizeof ret->path, "%s", path);
                                snprintf(ret->threat, sizeof ret->threat, "%s", threat);
                                snprintf(ret->action, sizeof ret->action, "%s", action);
                        }
                }
        }
        if (json_start)
                return plugin_parse_fail(err, json_line, json_start, strcspn(json_start, "\n"));
        return 0;
}

static int count(const char *v, size_t vl, int *ret) {
        char buf[16], *end;
        long k;

        if (vl == 0 || vl >= sizeof buf)
                return -EBADMSG;
        memcpy(buf, v, vl);
        buf[vl] = '\0';
        errno = 0;
        k = strtol(buf, &end, 10);
        if (errno || *end || k < 0 || k > 100000000)
                return -EBADMSG;
        *ret = (int) k;
        return 0;
}

int eset_parse_lslog(const char *out, size_t size, EsetScanLog *ret, PluginParseError *err) {
        static const struct {
                const char *key;
                size_t off;
        } keys[] = {
                { "Detections occurred", offsetof(EsetScanLog, detections) },
                { "Scanned", offsetof(EsetScanLog, scanned) },
                { "Not scanned", offsetof(EsetScanLog, not_scanned) },
                { "Cleaned", offsetof(EsetScanLog, cleaned) },
        };
        const char *line, *p = out, *v;
        size_t len, vl;
        unsigned n = 0;
        int r;

        r = output_check(out, size, err);
        if (r < 0)
                return r;
        *ret = (EsetScanLog){ .detections = -1, .scanned = -1, .not_scanned = -1, .cleaned = -1 };
        while (plugin_text_next_line(&p, &line, &len)) {
                n++;
                if (plugin_text_kv(line, len, "Time of completion", ':', &v, &vl)) {
                        ret->completed = vl > 0;
                        continue;
                }
                for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
                        if (plugin_text_kv(line, len, keys[i].key, ':', &v, &vl)) {
                                if (count(v, vl, (int *) ((char *) ret + keys[i].off)) < 0)
                                        return plugin_parse_fail(err, n, line, len);
                                break;
                        }
        }
        if (ret->detections < 0)
                return missing(err, "no \"Detections occurred:\" line");
        return 0;
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
