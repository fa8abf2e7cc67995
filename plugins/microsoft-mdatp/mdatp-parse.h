/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Parsers for `mdatp` output, written after the real samples in
 * plugins/microsoft-mdatp/tests/ (each headed by its provenance): `health
 * --output json`, the human `health` table (also `--details`), `health
 * --field`, `scan custom`, `threat list --output json`. Values may carry
 * Microsoft's " [managed]" suffix; string values may be quoted; a line
 * "ATTENTION: ..." may come first. No I/O: unit tests link this alone. A
 * parser that gives up returns -EBADMSG and says where in *err (may be NULL). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin-util.h"

#define MDATP_OUTPUT_MAX (256 * 1024)
#define MDATP_THREATS_MAX 256

typedef struct MdatpHealth {
        int healthy; /* 1, 0, -1 unknown */
        int licensed;
        int realtime;
        int realtime_managed; /* the real-time setting is pinned by a managed profile: 1, 0, -1 unknown */
        int passive;
        char org_id[80];                 /* "" when absent or "unavailable" (not onboarded) */
        int64_t definitions_updated;     /* epoch seconds, -1 unknown */
        int64_t definitions_minutes_ago; /* -1 unknown */
        char app_version[64];
        char conflicting[256]; /* conflicting applications, comma separated, "" if none */
        unsigned n_conflicting;
} MdatpHealth;

typedef struct MdatpThreat {
        char id[80];     /* threat.tracking_id */
        char name[128];  /* threat.name */
        char status[32]; /* value of the newest history entry ("quarantined", "removed"…), "" if none */
} MdatpThreat;

typedef struct MdatpThreats {
        size_t n;
        MdatpThreat threats[MDATP_THREATS_MAX];
} MdatpThreats;

/* `mdatp health --field X`: drops a first "ATTENTION" line, the quotes and a
 * " [managed]" suffix (*ret_managed, may be NULL). */
int mdatp_parse_field(const char *out, size_t size, char *buf, size_t buf_size, bool *ret_managed, PluginParseError *err);
/* "true"/"enabled" → 1, "false"/"disabled" → 0, else -EBADMSG */
int mdatp_parse_bool(const char *v);
/* `mdatp health --output json` (values plain or {"value":…,"isManaged":…}) */
int mdatp_parse_health_json(const char *out, size_t size, MdatpHealth *ret, PluginParseError *err);
/* `mdatp health` (and `--details <feature>`): "snake_key<blanks>: value[ [managed]]" */
int mdatp_parse_health_text(const char *out, size_t size, MdatpHealth *ret, PluginParseError *err);
/* `mdatp scan custom`: "<N> file(s) scanned" and "<N> threat(s) detected" lines. */
int mdatp_parse_scan(const char *out, size_t size, unsigned *ret_files, unsigned *ret_threats, PluginParseError *err);
/* `mdatp threat list --output json`: {"threats":{"scans":[{"threats":[{"threat":{…},"history":[…]}]}]}} */
int mdatp_parse_threats(const char *out, size_t size, MdatpThreats *ret, PluginParseError *err);
/* First threat of after whose id is not in before, or NULL. */
const MdatpThreat *mdatp_threat_new(const MdatpThreats *before, const MdatpThreats *after);
