/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <ini.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "config.h"
#include "configuration.h"
#include "log.h"
#include "util.h"
#include "window.h"

#define CONFIG_MAX_FILE_SIZE (256u * 1024u)
#define CONFIG_MAX_ENTRIES 4096u
#define CONFIG_MAX_APPROVED 32u
#define CONFIG_MAX_PASS_ENV 32u

typedef struct ParseContext {
        AvmConfig *config;
        const char *path;
        const char *data; /* the file's text, read line by line by string_reader() */
        unsigned line;    /* 1-based line the parser is on */
        bool at_line_start;
        char message[256];
} ParseContext;

/* The keys every [Product <id>] section may hold (plugin.h). */
static const AvmConfigKey common_keys[] = {
        { "MaxDefinitionsAgeDays", AVM_CONFIG_UINT, "7", 0, 3650, NULL },
        { "Artifact", AVM_CONFIG_PATH, NULL, 0, 0, NULL },
        { "ArtifactSHA256", AVM_CONFIG_STRING, NULL, 0, 0, NULL },
        {},
};

const char *config_dir(void) {
        static char buf[PATH_MAX];
        return env_dir("CONFIGURATION_DIRECTORY", AVM_SYSCONF_DIR, buf, sizeof(buf));
}

AvmConfig *config_new(void) {
        AvmConfig *c = calloc(1, sizeof(AvmConfig));

        if (!c)
                return NULL;
        /* Built-in defaults; identical to the shipped policy/avmigrate.conf. */
        c->discouraged = strdup("kaspersky-kesl");
        c->allow_overlap = OVERLAP_AUTO;
        c->max_deferrals = 3;
        c->max_deferral_usec = 7 * 24 * 3600 * USEC_PER_SEC;
        c->step_timeout_usec = 900 * USEC_PER_SEC;
        c->unit_timeout_usec = 90 * USEC_PER_SEC;
        c->verify_timeout_usec = 30 * USEC_PER_SEC;
        c->monitor_interval_usec = 2 * USEC_PER_SEC;
        c->download_stall_timeout_usec = 30 * USEC_PER_SEC;
        c->min_disk_space_mb = 500;
        c->package_backend = strdup("auto");
        c->protect_mounts = true;
        c->prometheus_textfile_directory = strdup("/var/lib/prometheus/node-exporter");
        c->report_spool_max_files = 100;
        c->report_spool_max_bytes = 64ull * 1024 * 1024;
        c->report_upload_retry_usec = 60 * USEC_PER_SEC;
        c->report_upload_retry_max_usec = 6 * 3600 * USEC_PER_SEC;
        if (!c->prometheus_textfile_directory)
                return config_free(c);
        if (scope_list_parse(SCOPE_DEFAULT_PATHS, &c->protected_paths, NULL, 0) < 0)
                return config_free(c);
        if (!c->discouraged || !c->package_backend)
                return config_free(c);
        return c;
}

static void strv_free(char **l) {
        if (!l)
                return;
        for (char **p = l; *p; p++)
                free(*p);
        free(l);
}

AvmConfig *config_free(AvmConfig *c) {
        if (!c)
                return NULL;
        free(c->discouraged);
        strv_free(c->approved);
        strv_free(c->pass_environment);
        free(c->maintenance_window);
        free(c->prometheus_textfile_directory);
        free(c->report_upload_url);
        free(c->report_upload_ca);
        free(c->report_upload_client_certificate);
        free(c->report_upload_client_key);
        free(c->package_backend);
        free(c->manifest_url);
        free(c->trusted_ca);
        free(c->manifest_server_ca);
        free(c->client_certificate);
        free(c->client_key);
        for (size_t i = 0; i < c->n_entries; i++) {
                free(c->entries[i].section);
                free(c->entries[i].key);
                free(c->entries[i].value);
                free(c->entries[i].file);
        }
        free(c->entries);
        free(c);
        return NULL;
}

const char *config_get(const AvmConfig *c, const char *section, const char *key) {
        if (!c)
                return NULL;
        /* Last assignment wins, so search backwards. */
        for (size_t i = c->n_entries; i > 0; i--) {
                const ConfigEntry *e = &c->entries[i - 1];
                if (streq(e->section, section) && streq(e->key, key))
                        return e->value;
        }
        return NULL;
}

static int set_string(char **field, const char *value) {
        char *s = strdup(value);
        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

static int parse_approved(AvmConfig *c, const char *value, ParseContext *ctx) {
        char **l = calloc(CONFIG_MAX_APPROVED + 1, sizeof(char *));
        _cleanup_free_ char *copy = strdup(value);
        size_t n = 0;
        char *save = NULL;

        if (!l || !copy) {
                free(l);
                return -ENOMEM;
        }
        for (char *w = strtok_r(copy, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
                if (!string_is_safe_id(w)) {
                        snprintf(ctx->message, sizeof(ctx->message), "Approved=: invalid product id '%.64s'", w);
                        strv_free(l);
                        return -EINVAL;
                }
                if (n >= CONFIG_MAX_APPROVED) {
                        snprintf(ctx->message, sizeof(ctx->message), "Approved=: more than %u products", CONFIG_MAX_APPROVED);
                        strv_free(l);
                        return -E2BIG;
                }
                l[n] = strdup(w);
                if (!l[n]) {
                        strv_free(l);
                        return -ENOMEM;
                }
                n++;
        }
        strv_free(c->approved);
        c->approved = l;
        return 0;
}

static bool env_name_valid(const char *s) {
        if (!s[0] || strlen(s) > 64 || !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
                return false;
        for (const char *p = s; *p; p++)
                if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
                        return false;
        return true;
}

/* PassEnvironment=: like systemd's, names of the daemon's variables handed on
 * to the workers and the vendor tools they run; empty resets the list. */
static int parse_pass_environment(AvmConfig *c, const char *value, ParseContext *ctx) {
        _cleanup_free_ char *copy = strdup(value);
        size_t n = 0;
        char *save = NULL, **l;

        for (n = 0; c->pass_environment && c->pass_environment[n]; n++)
                ;
        l = realloc(c->pass_environment, (n + CONFIG_MAX_PASS_ENV + 1) * sizeof(char *));
        if (!copy || !l)
                return -ENOMEM;
        c->pass_environment = l;
        if (!value[0]) {
                for (size_t i = 0; i < n; i++)
                        free(l[i]);
                n = 0;
        }
        l[n] = NULL;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                if (!env_name_valid(w)) {
                        snprintf(ctx->message, sizeof(ctx->message), "PassEnvironment=: invalid variable name '%.64s'", w);
                        return -EINVAL;
                }
                if (n >= CONFIG_MAX_PASS_ENV) {
                        snprintf(ctx->message, sizeof(ctx->message), "PassEnvironment=: more than %u variables",
                                 CONFIG_MAX_PASS_ENV);
                        return -E2BIG;
                }
                l[n] = strdup(w);
                if (!l[n])
                        return -ENOMEM;
                l[++n] = NULL;
        }
        return 0;
}

static int parse_sec_key(const char *key, const char *value, uint64_t min, uint64_t *ret, ParseContext *ctx) {
        uint64_t u;

        if (parse_sec(value, &u) < 0 || u < min) {
                snprintf(ctx->message, sizeof(ctx->message), "%s=: invalid time in seconds '%.64s'", key, value);
                return -EINVAL;
        }
        *ret = u;
        return 0;
}

static int parse_absolute_path(const char *key, const char *value, char **ret, ParseContext *ctx) {
        if (value[0] && (value[0] != '/' || strlen(value) > PATH_MAX - 64)) {
                snprintf(ctx->message, sizeof(ctx->message), "%s=: expected an absolute path, got '%.64s'", key, value);
                return -EINVAL;
        }
        return set_string(ret, value);
}

/* https://, printable ASCII, no query or fragment: a file name is appended to it. */
static bool upload_url_valid(const char *v) {
        if (strncmp(v, "https://", 8) != 0 || strlen(v) > 1900 || !v[8])
                return false;
        for (const char *p = v; *p; p++)
                if (*p <= ' ' || *p >= 127 || *p == '?' || *p == '#' || *p == '\\')
                        return false;
        return true;
}

/* The fleet reports' keys (metrics.c, report-upload.c); -ENOENT: not one of them. */
static int parse_report_key(AvmConfig *c, const char *key, const char *value, ParseContext *ctx) {
        uint64_t u;
        int r;

        if (streq(key, "PrometheusTextfile")) {
                r = parse_boolean(value);
                if (r < 0) {
                        snprintf(ctx->message, sizeof(ctx->message), "PrometheusTextfile=: invalid boolean '%.64s'", value);
                        return -EINVAL;
                }
                c->prometheus_textfile = r;
                return 0;
        }
        if (streq(key, "PrometheusTextfileDirectory")) {
                if (!value[0]) {
                        snprintf(ctx->message, sizeof(ctx->message), "PrometheusTextfileDirectory=: must not be empty");
                        return -EINVAL;
                }
                return parse_absolute_path(key, value, &c->prometheus_textfile_directory, ctx);
        }
        if (streq(key, "ReportUploadURL")) {
                /* The file name is appended: the whole URL must stay under libcurl's and the manifest's bound. */
                if (value[0] && !upload_url_valid(value)) {
                        snprintf(ctx->message, sizeof(ctx->message),
                                 "ReportUploadURL=: expected an https:// URL without query or fragment, got '%.64s'", value);
                        return -EINVAL;
                }
                return set_string(&c->report_upload_url, value);
        }
        if (streq(key, "ReportUploadCA"))
                return parse_absolute_path(key, value, &c->report_upload_ca, ctx);
        if (streq(key, "ReportUploadClientCertificate"))
                return parse_absolute_path(key, value, &c->report_upload_client_certificate, ctx);
        if (streq(key, "ReportUploadClientKey"))
                return parse_absolute_path(key, value, &c->report_upload_client_key, ctx);
        if (streq(key, "ReportSpoolMaxFiles")) {
                if (parse_uint64(value, &u) < 0 || u < 1 || u > 10000) {
                        snprintf(ctx->message, sizeof(ctx->message), "ReportSpoolMaxFiles=: expected 1..10000, got '%.64s'", value);
                        return -EINVAL;
                }
                c->report_spool_max_files = (unsigned) u;
                return 0;
        }
        if (streq(key, "ReportSpoolMaxBytes")) {
                if (parse_uint64(value, &u) < 0 || u < 4096 || u > (uint64_t) 1 << 32) {
                        snprintf(ctx->message, sizeof(ctx->message),
                                 "ReportSpoolMaxBytes=: expected 4096..4294967296, got '%.64s'", value);
                        return -EINVAL;
                }
                c->report_spool_max_bytes = u;
                return 0;
        }
        if (streq(key, "ReportUploadRetrySec"))
                return parse_sec_key(key, value, USEC_PER_SEC / 10, &c->report_upload_retry_usec, ctx);
        if (streq(key, "ReportUploadRetryMaxSec"))
                return parse_sec_key(key, value, USEC_PER_SEC / 10, &c->report_upload_retry_max_usec, ctx);
        return -ENOENT;
}

static int parse_manager_key(AvmConfig *c, const char *key, const char *value, ParseContext *ctx) {
        uint64_t u;
        int r;

        r = parse_report_key(c, key, value, ctx);
        if (r != -ENOENT)
                return r;

        if (streq(key, "Discouraged")) {
                if (value[0] && !string_is_safe_id(value)) {
                        snprintf(ctx->message, sizeof(ctx->message), "Discouraged=: invalid product id '%.64s'", value);
                        return -EINVAL;
                }
                return set_string(&c->discouraged, value);
        }
        if (streq(key, "Approved"))
                return parse_approved(c, value, ctx);
        if (streq(key, "PassEnvironment"))
                return parse_pass_environment(c, value, ctx);
        if (streq(key, "AllowOverlap")) {
                if (streq(value, "auto"))
                        c->allow_overlap = OVERLAP_AUTO;
                else if ((r = parse_boolean(value)) >= 0)
                        c->allow_overlap = r ? OVERLAP_YES : OVERLAP_NO;
                else {
                        snprintf(ctx->message, sizeof(ctx->message), "AllowOverlap=: expected yes, no or auto, got '%.64s'", value);
                        return -EINVAL;
                }
                return 0;
        }
        if (streq(key, "MaintenanceWindow")) {
                Window w;
                if (window_parse(value, &w) < 0) {
                        snprintf(ctx->message, sizeof(ctx->message),
                                 "MaintenanceWindow=: expected \"[Mon..Fri ]HH:MM-HH:MM\", got '%.64s'", value);
                        return -EINVAL;
                }
                return set_string(&c->maintenance_window, value);
        }
        if (streq(key, "MaxDeferrals")) {
                if (parse_uint64(value, &u) < 0 || u > 100) {
                        snprintf(ctx->message, sizeof(ctx->message), "MaxDeferrals=: expected 0..100, got '%.64s'", value);
                        return -EINVAL;
                }
                c->max_deferrals = (unsigned) u;
                return 0;
        }
        if (streq(key, "MaxDeferralSec"))
                return parse_sec_key(key, value, 1, &c->max_deferral_usec, ctx);
        if (streq(key, "StepTimeoutSec"))
                return parse_sec_key(key, value, USEC_PER_SEC / 10, &c->step_timeout_usec, ctx);
        if (streq(key, "VerifyTimeoutSec"))
                return parse_sec_key(key, value, USEC_PER_SEC / 10, &c->verify_timeout_usec, ctx);
        if (streq(key, "MonitorIntervalSec"))
                return parse_sec_key(key, value, USEC_PER_SEC / 20, &c->monitor_interval_usec, ctx);
        if (streq(key, "MinDiskSpaceMB")) {
                if (parse_uint64(value, &c->min_disk_space_mb) < 0) {
                        snprintf(ctx->message, sizeof(ctx->message), "MinDiskSpaceMB=: invalid number '%.64s'", value);
                        return -EINVAL;
                }
                return 0;
        }
        if (streq(key, "RequireACPower")) {
                r = parse_boolean(value);
                if (r < 0) {
                        snprintf(ctx->message, sizeof(ctx->message), "RequireACPower=: invalid boolean '%.64s'", value);
                        return -EINVAL;
                }
                c->require_ac_power = r;
                return 0;
        }
        if (streq(key, "PackageBackend")) {
                if (!streq(value, "auto") && !streq(value, "dpkg") && !streq(value, "rpm") && !streq(value, "test")) {
                        snprintf(ctx->message, sizeof(ctx->message),
                                 "PackageBackend=: expected auto, dpkg, rpm or test, got '%.64s'", value);
                        return -EINVAL;
                }
                return set_string(&c->package_backend, value);
        }
        if (streq(key, "UnitTimeoutSec"))
                return parse_sec_key(key, value, USEC_PER_SEC / 10, &c->unit_timeout_usec, ctx);
        if (streq(key, "DownloadStallTimeoutSec")) {
                /* libcurl counts whole seconds; more than an hour is no stall detection. */
                if (parse_sec(value, &u) < 0 || u < USEC_PER_SEC || u > 3600 * USEC_PER_SEC) {
                        snprintf(ctx->message, sizeof(ctx->message),
                                 "DownloadStallTimeoutSec=: expected 1..3600 seconds, got '%.64s'", value);
                        return -EINVAL;
                }
                c->download_stall_timeout_usec = u;
                return 0;
        }
        if (streq(key, "TestPackageVersion"))
                return 0; /* PackageBackend=test only: version recorded for installed packages */
        if (streq(key, "ProtectedPaths") || streq(key, "ProtectedPathsExclude")) {
                bool inc = streq(key, "ProtectedPaths");
                char why[160];

                r = scope_list_parse(value, inc ? &c->protected_paths : &c->protected_exclude, why, sizeof(why));
                if (r < 0) {
                        snprintf(ctx->message, sizeof(ctx->message), "%s=: %s", key, why);
                        return r;
                }
                if (inc && c->protected_paths.n == 0) {
                        snprintf(ctx->message, sizeof(ctx->message), "ProtectedPaths=: must name at least one path");
                        return -EINVAL;
                }
                return 0;
        }
        if (streq(key, "ProtectMounts")) {
                r = parse_boolean(value);
                if (r < 0) {
                        snprintf(ctx->message, sizeof(ctx->message), "ProtectMounts=: invalid boolean '%.64s'", value);
                        return -EINVAL;
                }
                c->protect_mounts = r;
                return 0;
        }
        if (streq(key, "ManifestURL"))
                return set_string(&c->manifest_url, value);
        if (streq(key, "TrustedCA"))
                return set_string(&c->trusted_ca, value);
        if (streq(key, "ManifestServerCA"))
                return set_string(&c->manifest_server_ca, value);
        if (streq(key, "ClientCertificate"))
                return set_string(&c->client_certificate, value);
        if (streq(key, "ClientKey"))
                return set_string(&c->client_key, value);

        snprintf(ctx->message, sizeof(ctx->message), "unknown key '%.64s' in section [Manager]", key);
        return -EINVAL;
}

static bool section_valid(const char *section) {
        if (streq(section, "Manager"))
                return true;
        if (strncmp(section, "Product ", 8) == 0)
                return string_is_safe_id(section + 8);
        return false;
}

/* [Product <id>] keys every product has are checked now, like [Manager]:
 * the daemon needs no plugin to know them. */
static int check_common_key(const char *name, const char *value, ParseContext *ctx) {
        const AvmConfigKey *k = config_key_find(NULL, name);
        char why[160];

        if (!k || config_value_check(k, value, NULL, why, sizeof(why)) >= 0)
                return 0;
        snprintf(ctx->message, sizeof(ctx->message), "%s", why);
        return -EINVAL;
}

static int entry_add(AvmConfig *c, const char *section, const char *name, const char *value, ParseContext *ctx) {
        ConfigEntry *e;

        if (c->n_entries >= CONFIG_MAX_ENTRIES) {
                snprintf(ctx->message, sizeof(ctx->message), "too many assignments");
                return -E2BIG;
        }
        e = realloc(c->entries, (c->n_entries + 1) * sizeof(ConfigEntry));
        if (!e)
                return -ENOMEM;
        c->entries = e;
        e = &c->entries[c->n_entries];
        *e = (ConfigEntry){
                .section = strdup(section),
                .key = strdup(name),
                .value = strdup(value),
                .file = strdup(ctx->path),
                .line = ctx->line,
        };
        if (!e->section || !e->key || !e->value || !e->file) {
                free(e->section);
                free(e->key);
                free(e->value);
                free(e->file);
                return -ENOMEM;
        }
        c->n_entries++;
        return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value) {
        ParseContext *ctx = user;
        AvmConfig *c = ctx->config;
        int r;

        if (!section_valid(section)) {
                snprintf(ctx->message, sizeof(ctx->message),
                         !section[0] ? "assignment outside of a section%s" :
                                       "unknown section [%.64s] (expected [Manager] or [Product <id>])",
                         section);
                return 0;
        }
        if (strlen(value) > 4096) {
                snprintf(ctx->message, sizeof(ctx->message), "value of %.64s= is too long", name);
                return 0;
        }
        if (streq(section, "Manager"))
                r = parse_manager_key(c, name, value, ctx);
        else
                r = check_common_key(name, value, ctx);
        if (r >= 0)
                r = entry_add(c, section, name, value, ctx);
        if (r < 0) {
                if (!ctx->message[0])
                        snprintf(ctx->message, sizeof(ctx->message), "%s", strerror(-r));
                return 0;
        }
        return 1;
}

/* An fgets() over ctx->data for ini_parse_stream(): libinih tells its
 * handler nothing about lines, so the reader counts them, and each kept
 * value can name its file and line when a plugin later finds it invalid. */
static char *string_reader(char *str, int num, void *stream) {
        ParseContext *ctx = stream;
        const char *p = ctx->data;
        int n = 0;

        if (!*p || num < 2)
                return NULL;
        if (ctx->at_line_start)
                ctx->line++;
        while (n < num - 1 && p[n]) {
                str[n] = p[n];
                if (p[n++] == '\n')
                        break;
        }
        str[n] = 0;
        ctx->data = p + n;
        ctx->at_line_start = str[n - 1] == '\n';
        return str;
}

int config_parse_file(AvmConfig *c, const char *path, char *error, size_t error_size) {
        _cleanup_free_ char *data = NULL;
        ParseContext ctx = { .config = c, .path = path, .at_line_start = true };
        char why[128] = "";
        size_t size = 0;
        int r;

        /* Configuration decides what is installed and removed as root: only
         * files as trustworthy as the plugins are read (like plugins). */
        r = read_file_trusted(path, CONFIG_MAX_FILE_SIZE, &data, &size, why, sizeof(why));
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                snprintf(error, error_size, "%s: %s", path, why[0] ? why : r == -EFBIG ? "file too large" : strerror(-r));
                return r;
        }
        if (strlen(data) != size) {
                snprintf(error, error_size, "%s: contains NUL bytes", path);
                return -EBADMSG;
        }

        ctx.data = data;
        r = ini_parse_stream(string_reader, &ctx, handler, &ctx);
        if (r != 0) {
                int k = snprintf(error, error_size, "%s:%d: ", path, r);
                if (k > 0 && (size_t) k < error_size)
                        snprintf(error + k, error_size - (size_t) k, "%s", ctx.message[0] ? ctx.message : "syntax error");
                return -EBADMSG;
        }
        return 0;
}

static int conf_filter(const struct dirent *d) {
        size_t n = strlen(d->d_name);
        return d->d_name[0] != '.' && n > 5 && streq(d->d_name + n - 5, ".conf");
}

static int parse_dropins(AvmConfig *c, const char *dir, char *error, size_t error_size) {
        struct dirent **list = NULL;
        int n, r = 0;

        n = scandir(dir, &list, conf_filter, alphasort);
        if (n < 0)
                return errno == ENOENT ? 0 : -errno;
        for (int i = 0; i < n; i++) {
                char path[PATH_MAX];

                if (r >= 0) {
                        snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
                        r = config_parse_file(c, path, error, error_size);
                }
                free(list[i]);
        }
        free(list);
        return r;
}

int config_load(AvmConfig **ret, char *error, size_t error_size) {
        char path[PATH_MAX], databuf[PATH_MAX];
        const char *datadir = env_dir("AVMIGRATE_DATA_DIR", AVM_DATA_DIR, databuf, sizeof(databuf));
        AvmConfig *c;
        int r;

        c = config_new();
        if (!c)
                return -ENOMEM;

        snprintf(path, sizeof(path), "%s/avmigrate.conf", datadir);
        r = config_parse_file(c, path, error, error_size);
        if (r >= 0) {
                snprintf(path, sizeof(path), "%s/avmigrate.conf", config_dir());
                r = config_parse_file(c, path, error, error_size);
        }
        if (r >= 0) {
                snprintf(path, sizeof(path), "%s/avmigrate.conf.d", config_dir());
                r = parse_dropins(c, path, error, error_size);
        }
        if (r >= 0 && c->discouraged && c->approved)
                for (char **p = c->approved; *p; p++)
                        if (streq(*p, c->discouraged)) {
                                snprintf(error, error_size, "%s is both Discouraged= and Approved=", *p);
                                r = -EINVAL;
                        }
        if (r < 0) {
                config_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

const AvmConfigKey *config_key_find(const AvmConfigKey *keys, const char *key) {
        for (const AvmConfigKey *k = common_keys; k->name; k++)
                if (streq(k->name, key))
                        return k;
        for (const AvmConfigKey *k = keys; k && k->name; k++)
                if (streq(k->name, key))
                        return k;
        return NULL;
}

static bool choice_valid(const char *choices, const char *value) {
        size_t n = strlen(value);

        for (const char *p = choices; p && *p;) {
                size_t l = strcspn(p, "|");
                if (l == n && strncmp(p, value, n) == 0)
                        return true;
                p += l;
                if (*p == '|')
                        p++;
        }
        return false;
}

static bool text_valid(const char *value) {
        for (const char *p = value; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        return false;
        return true;
}

static bool sha256_hex_valid(const char *value) {
        if (strlen(value) != 64)
                return false;
        for (const char *p = value; *p; p++)
                if (!strchr("0123456789abcdefABCDEF", *p))
                        return false;
        return true;
}

static int check_number(const AvmConfigKey *k, const char *value, uint64_t *ret, char *why, size_t why_size) {
        uint64_t u, unit = k->type == AVM_CONFIG_SECONDS ? USEC_PER_SEC : 1;
        int r = k->type == AVM_CONFIG_SECONDS ? parse_sec(value, &u) : parse_uint64(value, &u);

        if (r < 0 || value[0] == '-') {
                snprintf(why, why_size, "%s=: expected %s, got '%.64s'", k->name,
                         k->type == AVM_CONFIG_SECONDS ? "a time in seconds" : "a number", value);
                return -EINVAL;
        }
        if (u < k->min * unit || (k->max > 0 && u > k->max * unit)) {
                snprintf(why, why_size, "%s=: '%.64s' is out of range %" PRIu64 "..%" PRIu64, k->name, value, k->min, k->max);
                return -ERANGE;
        }
        *ret = u;
        return 0;
}

int config_value_check(const AvmConfigKey *k, const char *value, uint64_t *ret_num, char *why, size_t why_size) {
        uint64_t u = 0;
        int r = 0;

        if (isempty(value))
                return 0;
        if (!text_valid(value)) {
                snprintf(why, why_size, "%s=: control characters in the value", k->name);
                return -EINVAL;
        }
        switch (k->type) {
        case AVM_CONFIG_BOOL:
                r = parse_boolean(value);
                if (r < 0) {
                        snprintf(why, why_size, "%s=: expected a boolean (yes or no), got '%.64s'", k->name, value);
                        return -EINVAL;
                }
                u = (uint64_t) r;
                break;
        case AVM_CONFIG_UINT:
        case AVM_CONFIG_SECONDS:
                r = check_number(k, value, &u, why, why_size);
                if (r < 0)
                        return -EINVAL;
                break;
        case AVM_CONFIG_PATH:
                if (value[0] != '/' || strlen(value) >= PATH_MAX) {
                        snprintf(why, why_size, "%s=: expected an absolute path, got '%.64s'", k->name, value);
                        return -EINVAL;
                }
                break;
        case AVM_CONFIG_ENUM:
                if (!choice_valid(k->choices, value)) {
                        snprintf(why, why_size, "%s=: expected one of %s, got '%.64s'", k->name,
                                 k->choices ? k->choices : "(none)", value);
                        return -EINVAL;
                }
                break;
        case AVM_CONFIG_STRING:
                /* The one common string key with a known shape. */
                if (streq(k->name, "ArtifactSHA256") && !sha256_hex_valid(value)) {
                        snprintf(why, why_size, "%s=: expected 64 hexadecimal digits", k->name);
                        return -EINVAL;
                }
                break;
        default:
                snprintf(why, why_size, "%s=: declared with unknown type %d", k->name, (int) k->type);
                return -EINVAL;
        }
        if (ret_num)
                *ret_num = u;
        return 0;
}

static int validate_entry(const ConfigEntry *e, const AvmPlugin *p, char *error, size_t error_size) {
        const AvmConfigKey *k = config_key_find(p->config_keys, e->key);
        char why[256];

        if (!k) {
                snprintf(error, error_size, "%s:%u: unknown key '%.64s' in section [%s] (plugin %s declares no such key)",
                         e->file, e->line, e->key, e->section, p->id);
                return -EINVAL;
        }
        if (config_value_check(k, e->value, NULL, why, sizeof(why)) < 0) {
                snprintf(error, error_size, "%s:%u: [%s] %s", e->file, e->line, e->section, why);
                return -EINVAL;
        }
        return 0;
}

int config_validate_products(const AvmConfig *c, const AvmPlugin *const *plugins, size_t n_plugins, char *error, size_t error_size) {
        for (size_t i = 0; c && i < c->n_entries; i++) {
                const ConfigEntry *e = &c->entries[i];

                if (strncmp(e->section, "Product ", 8) != 0)
                        continue;
                for (size_t j = 0; j < n_plugins; j++) {
                        if (!plugins[j] || !streq(plugins[j]->id, e->section + 8))
                                continue;
                        if (validate_entry(e, plugins[j], error, error_size) < 0)
                                return -EINVAL;
                }
        }
        return 0;
}
