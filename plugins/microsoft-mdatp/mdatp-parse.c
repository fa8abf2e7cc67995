/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "mdatp-parse.h"
#include "plugin-util.h"

static int output_check(const char *out, size_t size) {
        return plugin_text_check(out, size, MDATP_OUTPUT_MAX, 0, false);
}

/* Skips leading blank lines and lines starting with "ATTENTION". */
static const char *skip_attention(const char *p) {
        for (;;) {
                while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
                        p++;
                if (strncmp(p, "ATTENTION", 9) != 0)
                        return p;
                p = strchr(p, '\n');
                if (!p)
                        return "";
        }
}

int mdatp_parse_field(const char *out, size_t size, char *buf, size_t buf_size) {
        const char *p, *e;
        size_t n;
        int r;

        r = output_check(out, size);
        if (r < 0)
                return r;
        p = skip_attention(out);
        e = p + strlen(p);
        while (e > p && strchr(" \t\r\n", e[-1]))
                e--;
        if (e - p >= 2 && *p == '"' && e[-1] == '"') {
                p++;
                e--;
        }
        n = (size_t) (e - p);
        if (n == 0 || n >= buf_size || memchr(p, '\n', n))
                return -EBADMSG;
        memcpy(buf, p, n);
        buf[n] = '\0';
        return 0;
}

int mdatp_parse_bool(const char *v) {
        if (!v)
                return -EBADMSG;
        if (strcasecmp(v, "true") == 0 || strcasecmp(v, "enabled") == 0)
                return 1;
        if (strcasecmp(v, "false") == 0 || strcasecmp(v, "disabled") == 0)
                return 0;
        return -EBADMSG;
}

static int parse_json(const char *out, size_t size, struct json_object **ret) {
        struct json_tokener *tok;
        struct json_object *obj;
        const char *p;
        size_t off, len;
        int r;

        r = output_check(out, size);
        if (r < 0)
                return r;
        p = skip_attention(out);
        off = (size_t) (p - out);
        len = size - off;
        tok = json_tokener_new_ex(16);
        if (!tok)
                return -ENOMEM;
        obj = json_tokener_parse_ex(tok, p, (int) len);
        if (!obj || json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(obj);
                json_tokener_free(tok);
                return -EBADMSG;
        }
        for (size_t i = (size_t) tok->char_offset; i < len; i++)
                if (!strchr(" \t\r\n", p[i])) {
                        json_object_put(obj);
                        json_tokener_free(tok);
                        return -EBADMSG;
                }
        json_tokener_free(tok);
        *ret = obj;
        return 0;
}

/* true / "true" / {"value": true} / {"value": "enabled"} */
static int json_flag(struct json_object *o) {
        struct json_object *v;

        if (!o)
                return -1;
        if (json_object_is_type(o, json_type_object)) {
                if (!json_object_object_get_ex(o, "value", &v))
                        return -EBADMSG;
                o = v;
        }
        if (json_object_is_type(o, json_type_boolean))
                return json_object_get_boolean(o) ? 1 : 0;
        if (json_object_is_type(o, json_type_string))
                return mdatp_parse_bool(json_object_get_string(o));
        return -EBADMSG;
}

static int json_int64(struct json_object *o, int64_t *ret) {
        const char *s;
        char *end;
        long long v;

        if (json_object_is_type(o, json_type_int)) {
                *ret = json_object_get_int64(o);
                return 0;
        }
        if (!json_object_is_type(o, json_type_string))
                return -EBADMSG;
        s = json_object_get_string(o);
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s || *end)
                return -EBADMSG;
        *ret = v;
        return 0;
}

int mdatp_parse_health_json(const char *out, size_t size, MdatpHealth *ret) {
        MdatpHealth h = {
                .healthy = -1, .licensed = -1, .realtime = -1, .passive = -1, .definitions_updated = -1, .definitions_minutes_ago = -1
        };
        struct json_object *obj = NULL, *v;
        int r;

        r = parse_json(out, size, &obj);
        if (r < 0)
                return r;
        r = -EBADMSG;
        if (!json_object_is_type(obj, json_type_object))
                goto finish;
        if (!json_object_object_get_ex(obj, "healthy", &v) || (h.healthy = json_flag(v)) < 0)
                goto finish;
        if (json_object_object_get_ex(obj, "licensed", &v) && (h.licensed = json_flag(v)) < -1)
                goto finish;
        if (json_object_object_get_ex(obj, "realTimeProtectionEnabled", &v) && (h.realtime = json_flag(v)) < -1)
                goto finish;
        if (json_object_object_get_ex(obj, "passiveModeEnabled", &v) && (h.passive = json_flag(v)) < -1)
                goto finish;
        if (json_object_object_get_ex(obj, "definitionsUpdated", &v)) {
                int64_t ms;
                if (json_int64(v, &ms) < 0 || ms < 0)
                        goto finish;
                h.definitions_updated = ms / 1000;
        }
        if (json_object_object_get_ex(obj, "definitionsUpdatedMinutesAgo", &v) &&
            (json_int64(v, &h.definitions_minutes_ago) < 0 || h.definitions_minutes_ago < 0))
                goto finish;
        if (json_object_object_get_ex(obj, "appVersion", &v)) {
                const char *s = json_object_get_string(v);
                if (!json_object_is_type(v, json_type_string) || strlen(s) >= sizeof h.app_version ||
                    strspn(s, "0123456789.") != strlen(s))
                        goto finish;
                strcpy(h.app_version, s);
        }
        if (json_object_object_get_ex(obj, "conflictingApplications", &v)) {
                size_t n;
                if (!json_object_is_type(v, json_type_array))
                        goto finish;
                n = json_object_array_length(v);
                for (size_t i = 0; i < n; i++) {
                        struct json_object *e = json_object_array_get_idx(v, i);
                        const char *s = json_object_get_string(e);
                        size_t used = strlen(h.conflicting);
                        if (!s)
                                goto finish;
                        snprintf(h.conflicting + used, sizeof h.conflicting - used, "%s%s", used ? ", " : "", s);
                        h.n_conflicting++;
                }
        }
        *ret = h;
        r = 0;
finish:
        json_object_put(obj);
        return r;
}

static int copy_str(struct json_object *o, char *buf, size_t size) {
        const char *s;

        if (!o || !json_object_is_type(o, json_type_string))
                return -EBADMSG;
        s = json_object_get_string(o);
        if (!*s || strlen(s) >= size)
                return -EBADMSG;
        strcpy(buf, s);
        return 0;
}

int mdatp_parse_threats(const char *out, size_t size, const char *path, MdatpThreats *ret) {
        struct json_object *obj = NULL, *arr;
        size_t n;
        int r;

        r = parse_json(out, size, &obj);
        if (r < 0)
                return r;
        r = -EBADMSG;
        arr = obj;
        if (json_object_is_type(obj, json_type_object) && !json_object_object_get_ex(obj, "threats", &arr))
                goto finish;
        if (!json_object_is_type(arr, json_type_array))
                goto finish;
        n = json_object_array_length(arr);
        if (n > MDATP_THREATS_MAX) {
                r = -E2BIG;
                goto finish;
        }
        ret->n = 0;
        for (size_t i = 0; i < n; i++) {
                struct json_object *t = json_object_array_get_idx(arr, i), *v, *res;
                MdatpThreat *th = &ret->threats[ret->n];

                if (!json_object_is_type(t, json_type_object))
                        goto finish;
                *th = (MdatpThreat){ 0 };
                if (!json_object_object_get_ex(t, "id", &v) || copy_str(v, th->id, sizeof th->id) < 0)
                        goto finish;
                if ((!json_object_object_get_ex(t, "name", &v) && !json_object_object_get_ex(t, "threatName", &v)) ||
                    copy_str(v, th->name, sizeof th->name) < 0)
                        goto finish;
                th->matches_path = true;
                if (path && json_object_object_get_ex(t, "resources", &res)) {
                        size_t m;
                        if (!json_object_is_type(res, json_type_array))
                                goto finish;
                        m = json_object_array_length(res);
                        th->matches_path = m == 0;
                        for (size_t j = 0; j < m; j++) {
                                const char *s = json_object_get_string(json_object_array_get_idx(res, j));
                                if (s && strcmp(s, path) == 0)
                                        th->matches_path = true;
                        }
                }
                ret->n++;
        }
        r = 0;
finish:
        json_object_put(obj);
        return r;
}

const MdatpThreat *mdatp_threat_new(const MdatpThreats *before, const MdatpThreats *after) {
        for (size_t i = 0; i < after->n; i++) {
                bool seen = false;
                if (!after->threats[i].matches_path)
                        continue;
                for (size_t j = 0; j < before->n && !seen; j++)
                        seen = strcmp(before->threats[j].id, after->threats[i].id) == 0;
                if (!seen)
                        return &after->threats[i];
        }
        return NULL;
}
