/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "mdatp-parse.h"
#include "plugin-util.h"

static int output_check(const char *out, size_t size, PluginParseError *err) {
        if (plugin_text_check(out, size, MDATP_OUTPUT_MAX, 0, false) < 0) {
                static const char what[] = "empty, oversized or binary output";
                return plugin_parse_fail(err, 0, what, sizeof what - 1);
        }
        return 0;
}

static int missing(PluginParseError *err, const char *what) {
        return plugin_parse_fail(err, 0, what, strlen(what));
}

static bool is_attention(const char *line, size_t len) {
        return len >= 9 && memcmp(line, "ATTENTION", 9) == 0;
}

/* Cuts " [managed]" (any blanks before it) and surrounding quotes off a value. */
static void clean_value(const char **v, size_t *vl, bool *ret_managed) {
        static const char tag[] = "[managed]";
        const char *p = *v;
        size_t n = *vl;
        bool managed = false;

        if (n >= sizeof tag - 1 && memcmp(p + n - (sizeof tag - 1), tag, sizeof tag - 1) == 0) {
                managed = true;
                n -= sizeof tag - 1;
                while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                        n--;
        }
        if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
                p++;
                n -= 2;
        }
        *v = p;
        *vl = n;
        if (ret_managed)
                *ret_managed = managed;
}

int mdatp_parse_field(const char *out, size_t size, char *buf, size_t buf_size, bool *ret_managed, PluginParseError *err) {
        const char *line, *p = out, *v = NULL;
        size_t len, vl = 0;
        unsigned n = 0;
        int r;

        r = output_check(out, size, err);
        if (r < 0)
                return r;
        while (plugin_text_next_line(&p, &line, &len)) {
                n++;
                if (len == 0 || (!v && is_attention(line, len)))
                        continue;
                if (v) /* a second value line */
                        return plugin_parse_fail(err, n, line, len);
                v = line;
                vl = len;
                while (vl > 0 && (*v == ' ' || *v == '\t')) {
                        v++;
                        vl--;
                }
        }
        if (!v)
                return missing(err, "no value (only an ATTENTION line or nothing)");
        clean_value(&v, &vl, ret_managed);
        if (vl == 0 || vl >= buf_size)
                return plugin_parse_fail(err, n, v, vl);
        memcpy(buf, v, vl);
        buf[vl] = '\0';
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

static int parse_json(const char *out, size_t size, struct json_object **ret, PluginParseError *err) {
        struct json_tokener *tok;
        struct json_object *obj;
        const char *p = out, *line, *start;
        size_t len, rest;
        unsigned n = 0;
        int r;

        r = output_check(out, size, err);
        if (r < 0)
                return r;
        /* skip blank and ATTENTION lines */
        for (start = p; plugin_text_next_line(&p, &line, &len); start = p) {
                n++;
                if (len > 0 && !is_attention(line, len))
                        break;
        }
        rest = size - (size_t) (start - out);
        tok = json_tokener_new_ex(32);
        if (!tok)
                return -ENOMEM;
        obj = json_tokener_parse_ex(tok, start, (int) rest);
        if (!obj || json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(obj);
                json_tokener_free(tok);
                return plugin_parse_fail(err, n, start, strcspn(start, "\n"));
        }
        for (size_t i = (size_t) json_tokener_get_parse_end(tok); i < rest; i++)
                if (!strchr(" \t\r\n", start[i])) {
                        json_object_put(obj);
                        json_tokener_free(tok);
                        return missing(err, "text after the JSON value");
                }
        json_tokener_free(tok);
        *ret = obj;
        return 0;
}

/* true / "true" / {"value": true, "isManaged": …} / {"value": "enabled"}; -1 absent */
static int json_flag(struct json_object *o, int *ret_managed) {
        struct json_object *v;

        if (!o)
                return -1;
        if (json_object_is_type(o, json_type_object)) {
                if (ret_managed && json_object_object_get_ex(o, "isManaged", &v) && json_object_is_type(v, json_type_boolean))
                        *ret_managed = json_object_get_boolean(v);
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

static bool version_ok(const char *s, size_t n) {
        return n > 0 && n < 64 && strspn(s, "0123456789.") >= n;
}

static void set_org_id(MdatpHealth *h, const char *s, size_t n) {
        /* "unavailable" (text) or "" (JSON) when not onboarded */
        if (n == 0 || (n == 11 && memcmp(s, "unavailable", 11) == 0) || n >= sizeof h->org_id)
                h->org_id[0] = '\0';
        else {
                memcpy(h->org_id, s, n);
                h->org_id[n] = '\0';
        }
}

static const MdatpHealth health_unknown = {
        .healthy = -1,
        .licensed = -1,
        .realtime = -1,
        .realtime_managed = -1,
        .passive = -1,
        .definitions_updated = -1,
        .definitions_minutes_ago = -1,
};

int mdatp_parse_health_json(const char *out, size_t size, MdatpHealth *ret, PluginParseError *err) {
        MdatpHealth h = health_unknown;
        struct json_object *obj = NULL, *v;
        int r;

        r = parse_json(out, size, &obj, err);
        if (r < 0)
                return r;
        r = -EBADMSG;
#define BAD(what)                          \
        do {                               \
                (void) missing(err, what); \
                goto finish;               \
        } while (0)
        if (!json_object_is_type(obj, json_type_object))
                BAD("not a JSON object");
        if (!json_object_object_get_ex(obj, "healthy", &v) || (h.healthy = json_flag(v, NULL)) < 0)
                BAD("no boolean \"healthy\"");
        if (json_object_object_get_ex(obj, "licensed", &v) && (h.licensed = json_flag(v, NULL)) < 0)
                BAD("\"licensed\" is not a boolean");
        if (json_object_object_get_ex(obj, "realTimeProtectionEnabled", &v) && (h.realtime = json_flag(v, &h.realtime_managed)) < 0)
                BAD("\"realTimeProtectionEnabled\" is not a boolean");
        if (json_object_object_get_ex(obj, "passiveModeEnabled", &v) && (h.passive = json_flag(v, NULL)) < 0)
                BAD("\"passiveModeEnabled\" is not a boolean");
        if (json_object_object_get_ex(obj, "orgId", &v)) {
                if (!json_object_is_type(v, json_type_string))
                        BAD("\"orgId\" is not a string");
                set_org_id(&h, json_object_get_string(v), (size_t) json_object_get_string_len(v));
        }
        if (json_object_object_get_ex(obj, "definitionsUpdated", &v)) {
                int64_t ms;
                if (json_int64(v, &ms) < 0 || ms < 0)
                        BAD("\"definitionsUpdated\" is not a time in ms");
                h.definitions_updated = ms / 1000;
        }
        if (json_object_object_get_ex(obj, "definitionsUpdatedMinutesAgo", &v) &&
            (json_int64(v, &h.definitions_minutes_ago) < 0 || h.definitions_minutes_ago < 0))
                BAD("\"definitionsUpdatedMinutesAgo\" is not a number");
        if (json_object_object_get_ex(obj, "appVersion", &v)) {
                const char *s = json_object_get_string(v);
                if (!json_object_is_type(v, json_type_string) || !version_ok(s, strlen(s)))
                        BAD("\"appVersion\" is not a version");
                strcpy(h.app_version, s);
        }
        if (json_object_object_get_ex(obj, "conflictingApplications", &v)) {
                size_t n;
                if (!json_object_is_type(v, json_type_array))
                        BAD("\"conflictingApplications\" is not an array");
                n = json_object_array_length(v);
                for (size_t i = 0; i < n; i++) {
                        const char *s = json_object_get_string(json_object_array_get_idx(v, i));
                        size_t used = strlen(h.conflicting);
                        if (!s)
                                BAD("null in \"conflictingApplications\"");
                        snprintf(h.conflicting + used, sizeof h.conflicting - used, "%s%s", used ? ", " : "", s);
                        h.n_conflicting++;
                }
        }
#undef BAD
        *ret = h;
        r = 0;
finish:
        json_object_put(obj);
        return r;
}

int mdatp_parse_health_text(const char *out, size_t size, MdatpHealth *ret, PluginParseError *err) {
        MdatpHealth h = health_unknown;
        const char *line, *p = out;
        size_t len;
        unsigned n = 0, known = 0;
        int r;

        r = output_check(out, size, err);
        if (r < 0)
                return r;
        while (plugin_text_next_line(&p, &line, &len)) {
                const char *colon, *v, *k = line;
                size_t kl, vl;
                bool managed;
                char val[128];

                n++;
                if (len == 0 || is_attention(line, len))
                        continue;
                colon = memchr(line, ':', len);
                if (!colon)
                        return plugin_parse_fail(err, n, line, len);
                kl = (size_t) (colon - line);
                while (kl > 0 && (k[kl - 1] == ' ' || k[kl - 1] == '\t'))
                        kl--;
                if (kl == 0 || strspn(k, "abcdefghijklmnopqrstuvwxyz_0123456789") < kl)
                        return plugin_parse_fail(err, n, line, len);
                v = colon + 1;
                while (v < line + len && (*v == ' ' || *v == '\t'))
                        v++;
                vl = (size_t) (line + len - v);
                clean_value(&v, &vl, &managed);
                snprintf(val, sizeof val, "%.*s", (int) vl, v);
#define KEY(s) (kl == sizeof(s) - 1 && memcmp(k, s, kl) == 0)
#define FLAG(field)                                                  \
        do {                                                         \
                if ((h.field = mdatp_parse_bool(val)) < 0)           \
                        return plugin_parse_fail(err, n, line, len); \
                known++;                                             \
        } while (0)
                if (KEY("healthy"))
                        FLAG(healthy);
                else if (KEY("licensed"))
                        FLAG(licensed);
                else if (KEY("passive_mode_enabled"))
                        FLAG(passive);
                else if (KEY("real_time_protection_enabled")) {
                        FLAG(realtime);
                        h.realtime_managed = managed;
                } else if (KEY("org_id"))
                        set_org_id(&h, v, vl);
                else if (KEY("app_version")) {
                        if (!version_ok(v, vl))
                                return plugin_parse_fail(err, n, line, len);
                        snprintf(h.app_version, sizeof h.app_version, "%.*s", (int) vl, v);
                } else if (KEY("definitions_updated_minutes_ago")) {
                        char *end;
                        long long m = strtoll(val, &end, 10);
                        if (end == val || *end || m < 0)
                                return plugin_parse_fail(err, n, line, len);
                        h.definitions_minutes_ago = m;
                } else if (KEY("conflicting_applications")) {
                        /* "[]" or a list; kept as text */
                        if (!(vl == 2 && memcmp(v, "[]", 2) == 0) && vl > 0) {
                                snprintf(h.conflicting, sizeof h.conflicting, "%.*s", (int) vl, v);
                                h.n_conflicting = 1;
                        }
                }
                /* other keys (versions of mdatp add some every release): ignored */
#undef FLAG
#undef KEY
        }
        if (known == 0)
                return missing(err, "none of healthy, licensed, real_time_protection_enabled, passive_mode_enabled");
        *ret = h;
        return 0;
}

/* "<N> <what>" anywhere in a line, N a number */
static bool count_in(const char *line, size_t len, const char *what, unsigned *ret) {
        const char *m = memmem(line, len, what, strlen(what)), *d;
        unsigned long v = 0;

        if (!m || m == line)
                return false;
        d = m;
        while (d > line && d[-1] == ' ')
                d--;
        if (d == m || d == line || d[-1] < '0' || d[-1] > '9')
                return false;
        while (d > line && d[-1] >= '0' && d[-1] <= '9')
                d--;
        for (; *d >= '0' && *d <= '9' && v < 100000000; d++)
                v = v * 10 + (unsigned long) (*d - '0');
        *ret = (unsigned) v;
        return true;
}

int mdatp_parse_scan(const char *out, size_t size, unsigned *ret_files, unsigned *ret_threats, PluginParseError *err) {
        const char *line, *p = out;
        size_t len;
        bool files = false, threats = false;
        int r;

        r = output_check(out, size, err);
        if (r < 0)
                return r;
        while (plugin_text_next_line(&p, &line, &len)) {
                files = files || count_in(line, len, "file(s) scanned", ret_files);
                threats = threats || count_in(line, len, "threat(s) detected", ret_threats);
        }
        if (!files || !threats)
                return missing(err, "no \"N file(s) scanned\" and \"N threat(s) detected\" lines");
        return 0;
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

/* Value of the history entry with the greatest key (numbers, or strings of digits). */
static int newest_status(struct json_object *hist, char *buf, size_t size) {
        int64_t best = -1;

        buf[0] = '\0';
        if (!hist)
                return 0;
        if (!json_object_is_type(hist, json_type_array))
                return -EBADMSG;
        for (size_t i = 0; i < json_object_array_length(hist); i++) {
                struct json_object *e = json_object_array_get_idx(hist, i), *k, *v;
                int64_t key;
                if (!json_object_is_type(e, json_type_object) || !json_object_object_get_ex(e, "key", &k) ||
                    !json_object_object_get_ex(e, "value", &v) || json_int64(k, &key) < 0 ||
                    !json_object_is_type(v, json_type_string))
                        return -EBADMSG;
                if (key > best) {
                        best = key;
                        snprintf(buf, size, "%s", json_object_get_string(v));
                }
        }
        return 0;
}

int mdatp_parse_threats(const char *out, size_t size, MdatpThreats *ret, PluginParseError *err) {
        struct json_object *obj = NULL, *t, *scans;
        int r;

        r = parse_json(out, size, &obj, err);
        if (r < 0)
                return r;
        r = -EBADMSG;
        ret->n = 0;
        if (!json_object_is_type(obj, json_type_object) || !json_object_object_get_ex(obj, "threats", &t) ||
            !json_object_is_type(t, json_type_object)) {
                (void) missing(err, "no \"threats\" object");
                goto finish;
        }
        if (!json_object_object_get_ex(t, "scans", &scans)) {
                r = 0; /* no scan has found anything [INF] */
                goto finish;
        }
        if (!json_object_is_type(scans, json_type_array)) {
                (void) missing(err, "\"threats.scans\" is not an array");
                goto finish;
        }
        for (size_t i = 0; i < json_object_array_length(scans); i++) {
                struct json_object *scan = json_object_array_get_idx(scans, i), *list;
                if (!json_object_is_type(scan, json_type_object) || !json_object_object_get_ex(scan, "threats", &list) ||
                    !json_object_is_type(list, json_type_array)) {
                        (void) missing(err, "a scan without a \"threats\" array");
                        goto finish;
                }
                for (size_t j = 0; j < json_object_array_length(list); j++) {
                        struct json_object *e = json_object_array_get_idx(list, j), *th, *v, *hist = NULL;
                        MdatpThreat *m;

                        if (ret->n >= MDATP_THREATS_MAX) {
                                (void) missing(err, "more threats than the plugin reads");
                                r = -E2BIG;
                                goto finish;
                        }
                        m = &ret->threats[ret->n];
                        *m = (MdatpThreat){ 0 };
                        if (!json_object_is_type(e, json_type_object) || !json_object_object_get_ex(e, "threat", &th) ||
                            !json_object_is_type(th, json_type_object) || !json_object_object_get_ex(th, "tracking_id", &v) ||
                            copy_str(v, m->id, sizeof m->id) < 0 || !json_object_object_get_ex(th, "name", &v) ||
                            copy_str(v, m->name, sizeof m->name) < 0) {
                                (void) missing(err, "a threat without threat.tracking_id and threat.name");
                                goto finish;
                        }
                        (void) json_object_object_get_ex(e, "history", &hist);
                        if (newest_status(hist, m->status, sizeof m->status) < 0) {
                                (void) missing(err, "a threat with a malformed \"history\"");
                                goto finish;
                        }
                        ret->n++;
                }
        }
        r = 0;
finish:
        json_object_put(obj);
        return r;
}

const MdatpThreat *mdatp_threat_new(const MdatpThreats *before, const MdatpThreats *after) {
        for (size_t i = 0; i < after->n; i++) {
                bool seen = false;
                for (size_t j = 0; j < before->n && !seen; j++)
                        seen = strcmp(before->threats[j].id, after->threats[i].id) == 0;
                if (!seen)
                        return &after->threats[i];
        }
        return NULL;
}
