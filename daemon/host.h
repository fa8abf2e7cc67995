/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The daemon side of AvmHost: what a plugin operation can reach. One AvmHost
 * exists per plugin; operations use it inside a worker process. */

#include "avmigrate/plugin.h"
#include "config.h"
#include "configuration.h"

typedef struct AvmConfig AvmConfig;

struct AvmHost {
        const AvmPlugin *plugin;
        const AvmConfig *config;
        char *state_dir; /* $STATE_DIRECTORY/plugins/<id> */
        char *probe_dir; /* $STATE_DIRECTORY/probe */
        char *artifact;  /* verified download for this product, or NULL */
        int progress_fd; /* worker socketpair end, -1 outside a worker */
        char error[512]; /* set by avm_host_error() */
        /* Set by the worker for the job's operations (NULL-terminated, owned by the caller). */
        const char *const *protected_paths;
        const char *const *excluded_paths;
};

/* Value of KEY in an arbitrary config SECTION ("Manager", "Product clamav"), or NULL. */
const char *host_setting(AvmHost *host, const char *section, const char *key);
/* Whether definitions age_sec old exceed the product's MaxDefinitionsAgeDays=
 * (avm_host_max_definitions_age_sec(); unknown age, -1, is not too old). */
bool host_definitions_too_old(AvmHost *host, int64_t age_sec);
