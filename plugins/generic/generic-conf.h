/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A product described declaratively in products.d/<name>.conf (INI). No I/O
 * beyond parsing a buffer: unit tests link this alone. */

#include <stdbool.h>
#include <stddef.h>

#define GENERIC_CONF_MAX (64 * 1024)
#define GENERIC_ARGV_MAX 32
#define GENERIC_VALUE_MAX 1024
#define GENERIC_CODES_MAX 16

typedef enum GenericAction {
        GENERIC_DETECT,
        GENERIC_STATUS,
        GENERIC_REALTIME_ON,
        GENERIC_REALTIME_OFF,
        GENERIC_SCAN,
        GENERIC_INSTALL,
        GENERIC_UNINSTALL,
        _GENERIC_ACTION_MAX,
} GenericAction;

typedef struct GenericCommand {
        char command[GENERIC_VALUE_MAX]; /* argv, split on whitespace with '…'/"…" quoting */
        int ok_codes[GENERIC_CODES_MAX]; /* SuccessExitCodes= (default 0) */
        size_t n_ok;
        int detected_codes[GENERIC_CODES_MAX]; /* DetectedExitCodes= (scan) */
        size_t n_detected;
        char version_regex[256];  /* VersionRegex= (detect): group 1 */
        char realtime_regex[256]; /* RealtimeRegex= (status) */
        char healthy_regex[256];  /* HealthyRegex= (status) */
        char detected_regex[256]; /* DetectedRegex= (scan) */
        char threat_regex[256];   /* ThreatRegex= (scan): group 1 */
        unsigned timeout_sec;     /* TimeoutSec= */
} GenericCommand;

typedef struct GenericProduct {
        char name[128];
        char vendor[128];
        char packages[GENERIC_VALUE_MAX]; /* space separated */
        char unit[256];
        GenericCommand actions[_GENERIC_ACTION_MAX];
} GenericProduct;

const char *generic_action_section(GenericAction a);
int generic_conf_parse(const char *text, size_t size, GenericProduct *ret, char *error, size_t error_size);
/* Splits cmd into argv (pointers into buf); {path} in a word is replaced by path. */
int generic_split(const char *cmd, const char *path, char *buf, size_t buf_size, char *argv[], size_t argv_max);
/* 1 if the extended regex matches text (group 1 copied to capture if given), 0 if not, -EINVAL for a bad regex. */
int generic_match(const char *regex, const char *text, char *capture, size_t capture_size);
bool generic_code_in(const int *codes, size_t n, int code);
/* Product names select products.d/<name>.conf: [a-z0-9._-], no leading dot. */
bool generic_name_valid(const char *name);
