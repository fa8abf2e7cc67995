/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Parsers for Sophos Protection for Linux (VERSION.ini, avscanner output)
 * and avscanner's exit codes. No I/O: unit tests link this alone. */

#include <stdbool.h>
#include <stddef.h>

#define SOPHOS_OUTPUT_MAX (64 * 1024)

enum {
        SOPHOS_AV_CLEAN = 0,
        SOPHOS_AV_FAILURE = 1,
        SOPHOS_AV_BAD_OPTION = 3,
        SOPHOS_AV_GENERIC_FAILURE = 8,
        SOPHOS_AV_PASSWORD_PROTECTED = 16,
        SOPHOS_AV_DISINFECTED = 20,
        SOPHOS_AV_VIRUS = 24,
        SOPHOS_AV_ABORTED_WITH_THREATS = 25,
        SOPHOS_AV_ABORTED = 36,
        SOPHOS_AV_INTERRUPTED = 40,
        SOPHOS_AV_INTERRUPTED2 = 41,
};

/* PRODUCT_VERSION= of /opt/sophos-spl/base/VERSION.ini */
int sophos_parse_version_ini(const char *text, size_t size, char *buf, size_t buf_size);
/* First `Detected "<path>" is infected with <threat> (<scanType>)` line. */
int sophos_parse_avscanner(const char *out, size_t size, bool *ret_detected, char *threat, size_t threat_size);
const char *sophos_exit_message(int code);
