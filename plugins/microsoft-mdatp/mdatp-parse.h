/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Parsers for `mdatp` output: `health --field`, `health --output json`,
 * `threat list --output json`. No I/O: unit tests link this alone. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MDATP_OUTPUT_MAX (256 * 1024)
#define MDATP_THREATS_MAX 256

typedef struct MdatpHealth {
        int healthy; /* 1, 0, -1 unknown */
        int licensed;
        int realtime;
        int passive;
        int64_t definitions_updated;     /* epoch seconds, -1 unknown */
        int64_t definitions_minutes_ago; /* -1 unknown */
        char app_version[64];
        char conflicting[256]; /* conflicting applications, comma separated, "" if none */
        unsigned n_conflicting;
} MdatpHealth;

typedef struct MdatpThreat {
        char id[80];
        char name[128];
        bool matches_path; /* one of its resources is the path asked for, or it has none */
} MdatpThreat;

typedef struct MdatpThreats {
        size_t n;
        MdatpThreat threats[MDATP_THREATS_MAX];
} MdatpThreats;

/* `mdatp health --field X`: drops leading ATTENTION lines and surrounding quotes. */
int mdatp_parse_field(const char *out, size_t size, char *buf, size_t buf_size);
/* "true"/"enabled" → 1, "false"/"disabled" → 0, else -EBADMSG */
int mdatp_parse_bool(const char *v);
int mdatp_parse_health_json(const char *out, size_t size, MdatpHealth *ret);
int mdatp_parse_threats(const char *out, size_t size, const char *path, MdatpThreats *ret);
/* First threat of after (matching the path) whose id is not in before, or NULL. */
const MdatpThreat *mdatp_threat_new(const MdatpThreats *before, const MdatpThreats *after);
