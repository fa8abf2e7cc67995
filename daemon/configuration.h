/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scope.h"

/* avmigrate.conf: systemd-style INI read with libinih from the shipped
 * defaults, then the admin's file, then avmigrate.conf.d/ drop-ins in
 * lexical order; later assignments win. [Manager] keys are validated here;
 * [Product <id>] keys are kept verbatim for the plugins. */

typedef enum OverlapPolicy {
        OVERLAP_AUTO,
        OVERLAP_YES,
        OVERLAP_NO,
} OverlapPolicy;

typedef struct ConfigEntry {
        char *section;
        char *key;
        char *value;
} ConfigEntry;

typedef struct AvmConfig {
        char *discouraged;
        char **approved; /* NULL-terminated, preference order */
        OverlapPolicy allow_overlap;
        char *maintenance_window;
        unsigned max_deferrals;
        uint64_t max_deferral_usec;
        uint64_t step_timeout_usec;
        uint64_t verify_timeout_usec;
        uint64_t monitor_interval_usec;
        uint64_t min_disk_space_mb;
        bool require_ac_power;
        char *package_backend;
        char *manifest_url;
        char *trusted_ca;
        ScopeList protected_paths;   /* ProtectedPaths= */
        ScopeList protected_exclude; /* ProtectedPathsExclude= */
        bool protect_mounts;         /* ProtectMounts= */
        char **pass_environment;     /* PassEnvironment=, NULL-terminated or NULL */

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
