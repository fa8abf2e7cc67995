/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <string.h>

#include "manifest.h"
#include "phasing.h"
#include "reason.h"
#include "rfc3339.h"
#include "signature.h"
#include "util.h"
#include "window.h"

#define MANIFEST_VERSION 1
#define JSON_DEPTH_MAX 8 /* the schema nests 3 deep; anything deeper is not ours */

typedef struct Ctx {
        char *reason;
        size_t reason_size;
} Ctx;

#define REFUSE(c, ...) reason_set((c)->reason, (c)->reason_size, EBADMSG, __VA_ARGS__)

static json_type member_type(json_object *v) {
        return v ? json_object_get_type(v) : json_type_null;
}

/* Refuses members not in allowed (NULL-terminated): see manifest.h for why. */
static int check_keys(const Ctx *c, json_object *o, const char *path, const char *const *allowed) {
        json_object_object_foreach(o, key, val) {
                bool known = false;

                (void) val;
                for (const char *const *a = allowed; *a; a++)
                        known = known || streq(*a, key);
                if (!known)
                        return REFUSE(c, "unknown field %s%s%.64s", path, *path ? "." : "", key);
        }
        return 0;
}

/* The member key of o, of the given type; NULL if absent (and !required). */
static int get_member(const Ctx *c, json_object *o, const char *path, const char *key, json_type type, bool required,
                      json_object **ret) {
        json_object *v = NULL;

        if (!json_object_object_get_ex(o, key, &v) || !v) {
                *ret = NULL;
                return required ? REFUSE(c, "field %s%s%s: missing", path, *path ? "." : "", key) : 0;
        }
        if (member_type(v) != type && !(type == json_type_double && member_type(v) == json_type_int))
                return REFUSE(c, "field %s%s%s: must be %s", path, *path ? "." : "", key, json_type_to_name(type));
        *ret = v;
        return 0;
}

static int get_string(const Ctx *c, json_object *o, const char *path, const char *key, bool required, size_t max, char *buf) {
        json_object *v;
        const char *s;
        size_t n;
        int r;

        r = get_member(c, o, path, key, json_type_string, required, &v);
        if (r < 0 || !v)
                return r;
        s = json_object_get_string(v);
        n = (size_t) json_object_get_string_len(v);
        if (n == 0 || n > max || strlen(s) != n)
                return REFUSE(c, "field %s%s%s: length must be 1..%zu", path, *path ? "." : "", key, max);
        memcpy(buf, s, n + 1);
        return 1;
}

static int get_time(const Ctx *c, json_object *o, const char *path, const char *key, bool required, uint64_t *ret) {
        char buf[RFC3339_LEN + 1];
        int r;

        r = get_string(c, o, path, key, required, RFC3339_LEN, buf);
        if (r <= 0)
                return r;
        if (rfc3339_parse(buf, ret) < 0)
                return REFUSE(c, "field %s%s%s: \"%s\" is not an RFC 3339 UTC time like 2026-12-01T18:00:00Z", path,
                              *path ? "." : "", key, buf);
        return 1;
}

static int get_bool(const Ctx *c, json_object *o, const char *path, const char *key, bool *ret) {
        json_object *v;
        int r;

        r = get_member(c, o, path, key, json_type_boolean, false, &v);
        if (r < 0 || !v)
                return r;
        *ret = json_object_get_boolean(v);
        return 1;
}

static bool id_valid(const char *s) {
        size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-");

        return n > 0 && n <= FLEET_ID_MAX && s[n] == 0;
}

/* https, a host, no credentials: libcurl's URL parser decides, so the desktop
 * fetches exactly what was checked here. */
static bool https_url_valid(const char *s) {
        CURLU *u = curl_url();
        char *scheme = NULL, *host = NULL, *user = NULL;
        bool ok;

        if (!u)
                return false;
        /* The literal prefix too: libcurl reads "https:///x" as host "x". */
        ok = strncmp(s, "https://", 8) == 0 && s[8] != '/' && s[strcspn(s, " \t\r\n")] == 0 &&
                curl_url_set(u, CURLUPART_URL, s, 0) == CURLUE_OK && curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
                streq(scheme, "https") && curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && !isempty(host) &&
                curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_NO_USER;
        curl_free(scheme);
        curl_free(host);
        curl_free(user);
        curl_url_cleanup(u);
        return ok;
}

static int get_url(const Ctx *c, json_object *o, const char *path, const char *key, bool required, char *buf) {
        int r;

        r = get_string(c, o, path, key, required, FLEET_URL_MAX, buf);
        if (r <= 0)
                return r;
        if (!https_url_valid(buf))
                return REFUSE(c, "field %s.%s: \"%.128s\" is not an https:// URL with a host and without credentials", path, key,
                              buf);
        return 1;
}

static int parse_hex32(const char *s, uint8_t out[32]) {
        if (strlen(s) != 64 || strspn(s, "0123456789abcdef") != 64)
                return -EINVAL;
        for (size_t i = 0; i < 32; i++) {
                unsigned v;

                if (sscanf(s + 2 * i, "%2x", &v) != 1)
                        return -EINVAL;
                out[i] = (uint8_t) v;
        }
        return 0;
}

static int parse_artifact(const Ctx *c, json_object *o, FleetArtifact *a) {
        static const char *const keys[] = { "url", "sha256", "size", NULL };
        char hex[65];
        json_object *v;
        int64_t size;
        int r;

        if (member_type(o) == json_type_string) {
                if (!streq(json_object_get_string(o), "repository"))
                        return REFUSE(c, "field artifact: must be \"repository\" or an object");
                a->repository = true;
                return 0;
        }
        if (member_type(o) != json_type_object)
                return REFUSE(c, "field artifact: must be \"repository\" or an object");
        r = check_keys(c, o, "artifact", keys);
        if (r < 0)
                return r;
        r = get_url(c, o, "artifact", "url", true, a->url);
        if (r < 0)
                return r;
        r = get_string(c, o, "artifact", "sha256", true, 64, hex);
        if (r < 0)
                return r;
        if (parse_hex32(hex, a->sha256) < 0)
                return REFUSE(c, "field artifact.sha256: must be 64 lowercase hex digits");
        r = get_member(c, o, "artifact", "size", json_type_int, true, &v);
        if (r < 0)
                return r;
        size = json_object_get_int64(v);
        if (size <= 0)
                return REFUSE(c, "field artifact.size: %" PRIi64 " must be a positive number of bytes", size);
        a->size = (uint64_t) size;
        return 0;
}

static int parse_percentage(const Ctx *c, json_object *v, size_t i, unsigned *ret) {
        double p = json_object_get_double(v), bp = p * 100.0;

        if (!isfinite(p) || p < 0 || p > 100)
                return REFUSE(c, "field phases[%zu].percentage: %s is out of range 0..100", i, json_object_to_json_string(v));
        if (fabs(bp - round(bp)) > 1e-6)
                return REFUSE(c, "field phases[%zu].percentage: %s has more than two decimals", i, json_object_to_json_string(v));
        *ret = (unsigned) lround(bp);
        return 0;
}

static int parse_phase(const Ctx *c, json_object *o, size_t i, FleetPhase *ph) {
        static const char *const keys[] = { "start", "percentage", NULL };
        char path[32];
        json_object *v;
        int r;

        if (member_type(o) != json_type_object)
                return REFUSE(c, "field phases[%zu]: must be an object", i);
        snprintf(path, sizeof(path), "phases[%zu]", i);
        r = check_keys(c, o, path, keys);
        if (r < 0)
                return r;
        r = get_time(c, o, path, "start", true, &ph->start_usec);
        if (r < 0)
                return r;
        r = get_member(c, o, path, "percentage", json_type_double, true, &v);
        if (r < 0)
                return r;
        return parse_percentage(c, v, i, &ph->percentage_bp);
}

static int parse_phases(const Ctx *c, json_object *a, FleetManifest *m) {
        size_t n = json_object_array_length(a);
        int r;

        if (n == 0 || n > FLEET_PHASES_MAX)
                return REFUSE(c, "field phases: must have 1..%d entries, has %zu", FLEET_PHASES_MAX, n);
        for (size_t i = 0; i < n; i++) {
                r = parse_phase(c, json_object_array_get_idx(a, i), i, &m->phases[i]);
                if (r < 0)
                        return r;
                if (i == 0)
                        continue;
                /* Monotone over time: a desktop once in the rollout stays in it. */
                if (m->phases[i].start_usec <= m->phases[i - 1].start_usec)
                        return REFUSE(c, "field phases[%zu].start: must be later than phases[%zu].start", i, i - 1);
                if (m->phases[i].percentage_bp < m->phases[i - 1].percentage_bp)
                        return REFUSE(c, "field phases[%zu].percentage: must not be lower than phases[%zu].percentage", i, i - 1);
        }
        m->n_phases = n;
        return 0;
}

static int parse_windows(const Ctx *c, json_object *a, FleetManifest *m) {
        size_t n = json_object_array_length(a);

        if (n > FLEET_WINDOWS_MAX)
                return REFUSE(c, "field windows: at most %d entries, has %zu", FLEET_WINDOWS_MAX, n);
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(a, i);
                const char *s = json_object_get_string(v);
                Window w;

                if (member_type(v) != json_type_string || strlen(s) == 0 || strlen(s) > FLEET_WINDOW_MAX || strchr(s, ';'))
                        return REFUSE(c, "field windows[%zu]: must be one window of 1..%d characters", i, FLEET_WINDOW_MAX);
                /* The daemon's own MaintenanceWindow= parser: one syntax on both sides. */
                if (window_parse(s, &w) < 0)
                        return REFUSE(c, "field windows[%zu]: \"%s\" is not a window like \"Mon..Fri 18:00-23:00\"", i, s);
                memcpy(m->windows[i], s, strlen(s) + 1);
        }
        m->n_windows = n;
        return 0;
}

static int parse_report(const Ctx *c, json_object *o, FleetReport *rep) {
        static const char *const keys[] = { "journal", "prometheus", "upload_url", NULL };
        int r;

        r = check_keys(c, o, "report", keys);
        if (r < 0)
                return r;
        r = get_bool(c, o, "report", "journal", &rep->journal);
        if (r < 0)
                return r;
        r = get_bool(c, o, "report", "prometheus", &rep->prometheus);
        if (r < 0)
                return r;
        r = get_url(c, o, "report", "upload_url", false, rep->upload_url);
        return r < 0 ? r : 0;
}

static int parse_header(const Ctx *c, json_object *root, FleetManifest *m) {
        json_object *v;
        int64_t i;
        int r;

        r = get_member(c, root, "", "version", json_type_int, true, &v);
        if (r < 0)
                return r;
        if (json_object_get_int64(v) != MANIFEST_VERSION)
                return REFUSE(c, "field version: %s is not supported (this client reads version %d)",
                              json_object_to_json_string(v), MANIFEST_VERSION);
        r = get_member(c, root, "", "serial", json_type_int, true, &v);
        if (r < 0)
                return r;
        i = json_object_get_int64(v);
        if (i < 0)
                return REFUSE(c, "field serial: %" PRIi64 " is negative", i);
        m->serial = (uint64_t) i;
        r = get_time(c, root, "", "expires", true, &m->expires_usec);
        if (r < 0)
                return r;
        r = get_time(c, root, "", "deadline", false, &m->deadline_usec);
        return r < 0 ? r : 0;
}

static int parse_products(const Ctx *c, json_object *root, FleetManifest *m) {
        int r;

        r = get_string(c, root, "", "from", true, FLEET_ID_MAX, m->from);
        if (r < 0)
                return r;
        if (!id_valid(m->from))
                return REFUSE(c, "field from: \"%s\" is not a product id ([a-z0-9._-]{1,63})", m->from);
        r = get_string(c, root, "", "to", true, FLEET_ID_MAX, m->to);
        if (r < 0)
                return r;
        if (!id_valid(m->to))
                return REFUSE(c, "field to: \"%s\" is not a product id ([a-z0-9._-]{1,63})", m->to);
        if (streq(m->from, m->to))
                return REFUSE(c, "fields from and to: both are \"%s\"", m->to);
        return 0;
}

static int parse_rollout(const Ctx *c, json_object *root, FleetManifest *m) {
        json_object *v;
        int r;

        r = get_member(c, root, "", "phases", json_type_array, true, &v);
        if (r < 0)
                return r;
        r = parse_phases(c, v, m);
        if (r < 0)
                return r;
        r = get_string(c, root, "", "salt", true, FLEET_SALT_MAX, m->salt);
        if (r < 0)
                return r;
        for (const char *p = m->salt; *p; p++)
                if (*p < 0x21 || *p > 0x7e)
                        return REFUSE(c, "field salt: only printable ASCII without spaces");
        r = get_bool(c, root, "", "paused", &m->paused);
        if (r < 0)
                return r;
        r = get_member(c, root, "", "windows", json_type_array, false, &v);
        if (r < 0 || !v)
                return r;
        return parse_windows(c, v, m);
}

static int parse_root(const Ctx *c, json_object *root, FleetManifest *m) {
        static const char *const keys[] = { "version", "serial", "expires", "from",     "to",     "artifact", "phases",
                                            "salt",    "paused", "windows", "deadline", "report", NULL };
        json_object *v;
        int r;

        if (member_type(root) != json_type_object)
                return REFUSE(c, "the manifest must be a JSON object");
        r = check_keys(c, root, "", keys);
        if (r < 0)
                return r;
        r = parse_header(c, root, m);
        if (r < 0)
                return r;
        r = parse_products(c, root, m);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(root, "artifact", &v) || !v)
                return REFUSE(c, "field artifact: missing");
        r = parse_artifact(c, v, &m->artifact);
        if (r < 0)
                return r;
        r = parse_rollout(c, root, m);
        if (r < 0)
                return r;
        m->report.journal = true;
        r = get_member(c, root, "", "report", json_type_object, false, &v);
        if (r < 0 || !v)
                return r;
        return parse_report(c, v, &m->report);
}

static bool only_space(const char *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!strchr(" \t\r\n", p[i]))
                        return false;
        return true;
}

int fleet_manifest_parse(const char *data, size_t size, FleetManifest *ret, char *reason, size_t reason_size) {
        const Ctx c = { reason, reason_size };
        json_tokener *tok;
        json_object *root;
        FleetManifest m = {};
        int r;

        if (size > FLEET_MANIFEST_MAX)
                return reason_set(reason, reason_size, EFBIG, "manifest is %zu bytes, more than the %u allowed", size,
                                  FLEET_MANIFEST_MAX);
        if (memchr(data, 0, size))
                return REFUSE(&c, "manifest contains a NUL byte");
        tok = json_tokener_new_ex(JSON_DEPTH_MAX);
        if (!tok)
                return -ENOMEM;
        root = json_tokener_parse_ex(tok, data, (int) size);
        if (!root || json_tokener_get_error(tok) != json_tokener_success) {
                r = REFUSE(&c, "not valid JSON: %s",
                           json_tokener_error_desc(root ? json_tokener_continue : json_tokener_get_error(tok)));
                json_tokener_free(tok);
                json_object_put(root);
                return r;
        }
        /* Trailing data after the object is no part of what we checked. */
        if (!only_space(data + json_tokener_get_parse_end(tok), size - json_tokener_get_parse_end(tok)))
                r = REFUSE(&c, "not valid JSON: trailing data after the object");
        else
                r = parse_root(&c, root, &m);
        json_tokener_free(tok);
        json_object_put(root);
        if (r < 0)
                return r;
        *ret = m;
        return 0;
}

int fleet_manifest_check_expiry(const FleetManifest *m, uint64_t now_usec, char *reason, size_t reason_size) {
        char buf[RFC3339_LEN + 1];

        if (now_usec >= m->expires_usec)
                return reason_set(reason, reason_size, EKEYEXPIRED, "manifest expired at %s",
                                  rfc3339_format(m->expires_usec, buf, sizeof(buf)));
        return 0;
}

int fleet_manifest_check_serial(uint64_t serial, uint64_t last_accepted, char *reason, size_t reason_size) {
        if (serial < last_accepted)
                return reason_set(reason, reason_size, ESTALE, "serial %" PRIu64 " is lower than the last accepted %" PRIu64,
                                  serial, last_accepted);
        return 0;
}

int fleet_manifest_verify(const void *data, size_t size, const void *sig, size_t sig_size, const char *ca_file, uint64_t now_usec,
                          uint64_t last_accepted, FleetManifest *ret, char *reason, size_t reason_size) {
        FleetManifest m;
        int r;

        /* Cheap refusals first; nothing unsigned is parsed. */
        if (size > FLEET_MANIFEST_MAX)
                return reason_set(reason, reason_size, EFBIG, "manifest is %zu bytes, more than the %u allowed", size,
                                  FLEET_MANIFEST_MAX);
        r = fleet_signature_verify(data, size, sig, sig_size, ca_file, now_usec, reason, reason_size);
        if (r < 0)
                return r;
        r = fleet_manifest_parse(data, size, &m, reason, reason_size);
        if (r < 0)
                return r;
        r = fleet_manifest_check_expiry(&m, now_usec, reason, reason_size);
        if (r < 0)
                return r;
        r = fleet_manifest_check_serial(m.serial, last_accepted, reason, reason_size);
        if (r < 0)
                return r;
        *ret = m;
        return 0;
}

unsigned fleet_manifest_percentage_bp(const FleetManifest *m, uint64_t now_usec) {
        unsigned bp = 0;

        for (size_t i = 0; i < m->n_phases && m->phases[i].start_usec <= now_usec; i++)
                bp = m->phases[i].percentage_bp;
        return bp;
}

bool fleet_manifest_eligible(const FleetManifest *m, const char *machine_id, uint64_t now_usec) {
        return !m->paused && fleet_phase_eligible(m->salt, machine_id, fleet_manifest_percentage_bp(m, now_usec));
}
