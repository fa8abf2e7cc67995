/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "avmigrate/plugin.h"
#include "scope.h"

/* Detection tests. Both run inside a worker. */

/* On-demand: the product's own scanner must flag an EICAR file.
 * Returns 1 detected, 0 not detected, -errno if the scan failed. */
int probe_on_demand(AvmHost *host, const AvmPlugin *p, char *threat, size_t threat_size);

/* On-access: writes EICAR into the probe directory and reads it back;
 * returns 1 if reading was denied (protection works), 0 if the content
 * could be read, -errno on other errors. */
int probe_on_access(const char *probe_dir);

/* On-access probes across the protection scope: one root-only directory
 * (mkdtemp, 0700) per scope root, created for the probes and removed after.
 * The directories stay for repeated runs, so a product that learns about
 * new directories asynchronously (clamonacc's inotify-driven marks) is
 * given the time its verification allows. */
#define PROBE_ABSENT 2 /* the root no longer exists: nothing to protect there */

typedef struct ProbeRoot {
        char root[SCOPE_PATH_MAX];
        char dir[SCOPE_PATH_MAX + 32];
        int error;  /* mkdtemp failure */
        int result; /* 1 blocked, 0 readable, PROBE_ABSENT, -errno */
} ProbeRoot;

typedef struct ProbeSet {
        size_t n;
        ProbeRoot roots[SCOPE_MAX_PATHS];
} ProbeSet;

void probe_set_open(ProbeSet *s, const ScopeList *roots);
void probe_set_run(ProbeSet *s);
bool probe_set_all_blocked(const ProbeSet *s);
void probe_set_close(ProbeSet *s);
const char *probe_result_string(int result);
