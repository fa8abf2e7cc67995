/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Parsers for ESET Endpoint Antivirus for Linux tool output (upd, lic,
 * odscan, lslog), written after real samples (plugins/eset-eea/tests/, each
 * headed by its provenance). No I/O: unit tests link this alone. A parser
 * that gives up returns -EBADMSG and says where in *err (may be NULL). */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "plugin-util.h"

#define ESET_OUTPUT_MAX (64 * 1024)

/* odscan exit codes (ESET's odscan; amavis and Saphir use the same table). */
enum {
        ESET_ODSCAN_CLEAN = 0,
        ESET_ODSCAN_CLEANED = 1,
        ESET_ODSCAN_INCOMPLETE = 10,
        ESET_ODSCAN_THREAT = 50,
        ESET_ODSCAN_ERROR = 100,
};

typedef struct EsetOdscan {
        char log_name[128];  /* from the JSON object of --show-scan-info, "" if none */
        unsigned detections; /* name="…", result|threat="…" lines */
        char path[256];      /* first detection */
        char threat[128];
        char action[64]; /* "retained", "cleaned", "deleted"… ("" if absent) */
} EsetOdscan;

typedef struct EsetScanLog {
        int detections; /* "Detections occurred: N", -1 if absent */
        int scanned;    /* "Scanned: N", -1 if absent */
        int not_scanned;
        int cleaned;
        bool completed; /* "Time of completion:" has a value */
} EsetScanLog;

/* "/opt/eset/eea/bin/upd (eea) 12.0.13.0" → "12.0.13.0" */
int eset_parse_upd_version(const char *out, size_t size, char *buf, size_t buf_size, PluginParseError *err);
/* `upd --list-modules`: "EM002<TAB> 31832 (20250909)<TAB>Detection engine" (any
 * blanks) → date of the detection engine module as UTC midnight. */
int eset_parse_engine_date(const char *out, size_t size, time_t *ret, PluginParseError *err);
/* `lic --status`: 1 for "Status: Activated", 0 for any other status; the
 * "License Validity:" date into validity ("" if absent). */
int eset_parse_lic_status(const char *out, size_t size, char *validity, size_t validity_size, PluginParseError *err);
/* odscan's stdout: an optional JSON object (one or several lines) with
 * "log_name", and detection lines `name="<path>", result="<threat>",
 * action="<action>", info="…"` (odscan 8.x; `threat=` in older ones). Other
 * lines are ignored; a `name="` line without a threat is an error. */
int eset_parse_odscan(const char *out, size_t size, EsetOdscan *ret, PluginParseError *err);
/* `lslog --ods-details=<log>`: "Key: value" lines. */
int eset_parse_lslog(const char *out, size_t size, EsetScanLog *ret, PluginParseError *err);
const char *eset_odscan_exit_message(int code);
