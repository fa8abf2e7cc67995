/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "avmigrate/plugin.h"
#include "scope.h"

/* avmigrate.conf: systemd-style INI read with libinih from the shipped
 * defaults, then the admin's file, then avmigrate.conf.d/ drop-ins in
 * lexical order; later assignments win. [Manager] keys and the keys common
 * to every product are validated while parsing; the other [Product <id>]
 * keys are kept verbatim, with file and line, and validated against the
 * plugin's declared keys by config_validate_products() once the plugins are
 * loaded. */

typedef enum OverlapPolicy {
        OVERLAP_AUTO,
        OVERLAP_YES,
        OVERLAP_NO,
} OverlapPolicy;

typedef struct ConfigEntry {
        char *section;
        char *key;
        char *value;
        char *file; /* where it was assigned, for error messages */
        unsigned line;
} ConfigEntry;

typedef struct AvmConfig {
        char *discouraged;
        char **approved; /* NULL-terminated, preference order */
        OverlapPolicy allow_overlap;
        char *maintenance_window;
        unsigned max_deferrals;
        uint64_t max_deferral_usec;
        uint64_t step_timeout_usec;
        uint64_t unit_timeout_usec; /* UnitTimeoutSec=: one systemd job (start/stop/restart) */
        uint64_t verify_timeout_usec;
        uint64_t monitor_interval_usec;
        uint64_t min_disk_space_mb;
        bool require_ac_power;
        char *package_backend;
        char *manifest_url;
        char *trusted_ca;
        char *manifest_server_ca; /* ManifestServerCA=: the HTTPS server's CA (NULL: the system's) */
        char *client_certificate; /* ClientCertificate=, ClientKey=: mTLS to the manifest server */
        char *client_key;
        uint64_t download_stall_timeout_usec; /* DownloadStallTimeoutSec=: manifest and artifact transfers */
        ScopeList protected_paths;            /* ProtectedPaths= */
        ScopeList protected_exclude;          /* ProtectedPathsExclude= */
        bool protect_mounts;                  /* ProtectMounts= */
        char **pass_environment;              /* PassEnvironment=, NULL-terminated or NULL */

        /* Fleet reports (metrics.c, report-upload.c); a fleet manifest's
         * "report" settings may switch them on too. */
        bool prometheus_textfile;            /* PrometheusTextfile= */
        char *prometheus_textfile_directory; /* PrometheusTextfileDirectory= */
        char *report_upload_url;             /* ReportUploadURL=, "" = none */
        char *report_upload_ca;              /* ReportUploadCA=, "" = TrustedCA=, else the system's */
        char *report_upload_client_certificate, *report_upload_client_key;
        unsigned report_spool_max_files;                                 /* ReportSpoolMaxFiles= */
        uint64_t report_spool_max_bytes;                                 /* ReportSpoolMaxBytes= */
        uint64_t report_upload_retry_usec, report_upload_retry_max_usec; /* ReportUploadRetrySec=, ...MaxSec= */

        ConfigEntry *entries;
        size_t n_entries;
} AvmConfig;

/* Loads the configuration. On error returns -errno and puts "FILE:LINE: why"
 * into error; *ret is untouched. */
int config_load(AvmConfig **ret, char *error, size_t error_size);
/* Parses one file on top of c (exposed for tests and fuzzing). */
int config_parse_file(AvmConfig *c, const char *path, char *error, size_t error_size);
AvmConfig *config_new(void);
AvmConfig *config_free(AvmConfig *c);
const char *config_get(const AvmConfig *c, const char *section, const char *key);
const char *config_dir(void);

/* Checks value against the declaration k. Returns 0, with the value as a
 * number in *ret_num for UINT (the number), SECONDS (µs) and BOOL (0/1) when
 * ret_num is not NULL, else -EINVAL and why. An empty value means "unset"
 * and is always valid (*ret_num untouched). */
int config_value_check(const AvmConfigKey *k, const char *value, uint64_t *ret_num, char *why, size_t why_size);
/* The declaration of KEY for a product: the common keys, then keys (may be
 * NULL); NULL when neither declares it. */
const AvmConfigKey *config_key_find(const AvmConfigKey *keys, const char *key);
/* Checks every assignment in [Product <id>] of each plugin against its
 * declared keys: 0, or -EINVAL with "FILE:LINE: why" in error for the first
 * unknown key or bad value. Sections of products no plugin provides are not
 * checked (a fleet-wide file may name products this desktop lacks). */
int config_validate_products(const AvmConfig *c, const AvmPlugin *const *plugins, size_t n_plugins, char *error, size_t error_size);
