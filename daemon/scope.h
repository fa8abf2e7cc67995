/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The protection scope: the places where the person at the desktop works
 * (ProtectedPaths=, ProtectedPathsExclude=, ProtectMounts=), resolved for
 * this machine, and how it compares with what a product covers. Pure code
 * over strings and /proc/self/mountinfo; no bus, no plugins. */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "avmigrate/plugin.h"

#define SCOPE_MAX_PATHS AVM_SCOPE_MAX_PATHS
#define SCOPE_PATH_MAX AVM_SCOPE_PATH_MAX

/* The built-in ProtectedPaths= (avmigrate.conf(5) says why each one). */
#define SCOPE_DEFAULT_PATHS "/home /root /tmp /var/tmp /media /mnt /srv /opt /run/media"

typedef struct ScopeList {
        size_t n;
        char path[SCOPE_MAX_PATHS][SCOPE_PATH_MAX];
} ScopeList;

/* Normalises an absolute path in place: no "//", no trailing "/", no "." or
 * ".." components, printable. Returns 0 or -EINVAL. */
int scope_path_normalize(char *path);
/* "/a/b" is under "/a" and under "/"; "/ab" is not under "/a". */
bool scope_path_under(const char *path, const char *root);

/* Parses a space-separated list of absolute paths into l (replacing it);
 * on error -errno and a message naming the bad path. */
int scope_list_parse(const char *value, ScopeList *l, char *error, size_t error_size);
int scope_list_add(ScopeList *l, const char *path);
bool scope_list_contains_under(const ScopeList *l, const char *path); /* path under one of l */

/* Mount points a user can write to that the default list does not name
 * already: read-write mounts of disk, removable and network file systems
 * outside the operating system's own directories. Parses MOUNTINFO text
 * (the format of /proc/self/mountinfo). */
int scope_user_mounts(const char *mountinfo, size_t size, ScopeList *ret);

/* The machine's scope: include minus exclude (a root inside an excluded
 * path is dropped), plus user-writable mounts when protect_mounts, only
 * paths that exist (the others go to absent, if given). */
int scope_resolve(const ScopeList *include, const ScopeList *exclude, bool protect_mounts, ScopeList *ret, ScopeList *absent);

/* What the replacement must cover: scope ∩ what the old product covered.
 * An unknown old scope counts as the whole file system. */
void scope_required(const ScopeList *scope, const AvmScope *old_scope, ScopeList *ret);
/* Roots of want not covered by have (have->known false: none covered). */
void scope_uncovered(const ScopeList *want, const AvmScope *have, ScopeList *ret);

json_object *scope_list_to_json(const ScopeList *l);
int scope_list_from_json(json_object *a, ScopeList *ret);
json_object *scope_avm_to_json(const AvmScope *s);
/* "a, b, c" into buf (truncated with "…"). */
void scope_list_join(const ScopeList *l, char *buf, size_t size);
