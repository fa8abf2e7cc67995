/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* clamd protocol replies and generated configuration, without any I/O, so
 * unit tests can link this file alone. */

#include <stdbool.h>
#include <stddef.h>

#include <avmigrate/plugin.h>
#include <stdint.h>
#include <time.h>

#define CLAMAV_REPLY_MAX 4096

typedef struct ClamavVersion {
        char version[64];    /* "1.4.6" */
        unsigned db_version; /* 0 when no official database */
        time_t db_time;      /* build time of the daily database, or -1 */
} ClamavVersion;

typedef enum ClamavVerdict {
        CLAMAV_CLEAN,
        CLAMAV_FOUND,
} ClamavVerdict;

/* reply: one clamd reply without its terminator (NUL or newline may be present at the end). */
int clamav_parse_ping(const char *reply, size_t size);
int clamav_parse_version(const char *reply, size_t size, ClamavVersion *ret);
/* Returns 0 and fills verdict/threat, -EBADMSG on malformed replies, -EIO on "... ERROR" replies. */
int clamav_parse_scan(const char *reply, size_t size, ClamavVerdict *ret_verdict, char *threat, size_t threat_size);

/* Value of KEY ("LocalSocket", "User") in a clamd.conf text (last one wins); -ENOENT if absent. */
int clamav_conf_get(const char *text, size_t size, const char *key, char *buf, size_t buf_size);

/* What clamonacc needs to protect a scope. */
typedef struct ClamavOnaccSpec {
        const char *socket_path;
        const char *const *include; /* NULL-terminated, absolute, not "/" */
        const char *const *exclude; /* NULL-terminated or NULL */
        const char *temporary_dir;  /* clamd's TemporaryDirectory, or NULL */
        const char *exclude_uname;  /* clamonacc insists on an exclusion: this user, */
        unsigned exclude_uid;       /* else this uid */
} ClamavOnaccSpec;

/* Writes a complete clamd-style configuration for clamonacc into buf:
 * OnAccessIncludePath per scope root (recursive through clamonacc's DDD),
 * OnAccessExcludePath per exclusion, prevention on. */
int clamav_onacc_config(char *buf, size_t size, const ClamavOnaccSpec *spec);

/* Why clamonacc cannot protect path with prevention on, or NULL if it can.
 * tmpdir: clamd's TemporaryDirectory (clamonacc never watches it). */
const char *clamav_cannot_protect(const char *path, const char *tmpdir);

/* Every OnAccessIncludePath / OnAccessExcludePath of a clamd.conf text:
 * the scope that configuration protects (known = at least one include; a
 * configuration with OnAccessMountPath counts as not preventing, unknown). */
int clamav_conf_scope(const char *text, size_t size, AvmScope *ret);

/* Paths/values that go into a generated config must be single-line and printable. */
bool clamav_conf_value_ok(const char *v);
