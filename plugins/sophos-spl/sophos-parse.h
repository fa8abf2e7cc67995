/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Parsers for Sophos Protection for Linux (VERSION.ini, avscanner output,
 * soapd's on_access_status file) and the exit codes of avscanner and wdctl,
 * written after Sophos' published Linux sources (plugins/sophos-spl/tests/,
 * each sample headed by its provenance). No I/O: unit tests link this alone.
 * A parser that gives up returns -EBADMSG and says where in *err (may be NULL). */

#include <stdbool.h>
#include <stddef.h>

#include "plugin-util.h"

#define SOPHOS_OUTPUT_MAX (64 * 1024)

/* avscanner: av/modules/common/ErrorCodes.h */
enum {
        SOPHOS_AV_CLEAN = 0,
        SOPHOS_AV_FAILURE = 1,
        SOPHOS_AV_BAD_OPTION = 3,
        SOPHOS_AV_GENERIC_FAILURE = 8,
        SOPHOS_AV_SIGTERM = 15,
        SOPHOS_AV_PASSWORD_PROTECTED = 16,
        SOPHOS_AV_DISINFECTED = 20,
        SOPHOS_AV_VIRUS = 24,
        SOPHOS_AV_ABORTED_WITH_THREATS = 25,
        SOPHOS_AV_MEMORY_THREAT = 28,
        SOPHOS_AV_INTEGRITY_CHECK_FAILURE = 32,
        SOPHOS_AV_ABORTED = 36,
        SOPHOS_AV_INTERRUPTED = 40,
        SOPHOS_AV_INTERRUPTED2 = 41,
};

/* wdctl (base/modules/wdctl): isrunning → 0 running, 1 not running, 2 could
 * not tell; 10 = unknown command (wdctl before isrunning existed, 2019-08). */
enum {
        SOPHOS_WDCTL_RUNNING = 0,
        SOPHOS_WDCTL_NOT_RUNNING = 1,
        SOPHOS_WDCTL_UNKNOWN_STATE = 2,
        SOPHOS_WDCTL_UNKNOWN_COMMAND = 10,
};

typedef struct SophosScan {
        unsigned detections;
        char path[256];     /* of the first detection */
        char threat[128];   /* its threat name, without " (On Demand)" */
        char scan_type[32]; /* "On Demand"…, "" in avscanner before 2022-09 */
        unsigned errors;    /* "Failed to scan" lines */
} SophosScan;

/* PRODUCT_VERSION= of /opt/sophos-spl/base/VERSION.ini ("KEY = value" lines) */
int sophos_parse_version_ini(const char *text, size_t size, char *buf, size_t buf_size, PluginParseError *err);
/* avscanner's output: `Detected "<path>" [(symlinked to <p>) ]is infected with
 * <threat>[ (<scanType>)]` lines (any prefix before "Detected"), "Failed to
 * scan" lines; everything else (the summary) is ignored. */
int sophos_parse_avscanner(const char *out, size_t size, SophosScan *ret, PluginParseError *err);
/* soapd's on_access_status: 1 "enabled", 0 "disabled" (its first byte decides, as Sophos' reader does). */
int sophos_parse_on_access_status(const char *text, size_t size, PluginParseError *err);
const char *sophos_exit_message(int code);
