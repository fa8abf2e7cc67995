/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Parsers for kesl-control output (text in English or Russian, and --json),
 * and the meaning of its exit codes. No I/O: unit tests link this alone. */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "plugin-util.h"

#define KESL_OUTPUT_MAX (64 * 1024)
#define KESL_LINE_MAX 1024

typedef struct KeslAppInfo {
        char name[128];
        char version[64];
        time_t db_release;   /* "Last release date of databases", -1 if absent */
        int db_loaded;       /* 1 yes, 0 no, -1 unknown */
        int file_monitoring; /* 1 running, 0 stopped/unavailable, -1 unknown */
        int policy_applied;  /* 1 yes, 0 no, -1 unknown */
} KeslAppInfo;

typedef enum KeslTaskState {
        KESL_TASK_STARTED,
        KESL_TASK_STARTING,
        KESL_TASK_STOPPED,
        KESL_TASK_STOPPING,
        KESL_TASK_PAUSING,
        KESL_TASK_SUSPENDED,
        KESL_TASK_RESUMING,
} KeslTaskState;

typedef struct KeslScan {
        unsigned detected; /* objects with a threat */
        char threat[128];  /* first threat name, "" if none named */
} KeslScan;

/* Exit codes of kesl-control 11.x/12.x (Kaspersky help 12.2 264016, 12.3: 80; KESL 10 has only 0-2, 64-68, 128). */
enum {
        KESL_EXIT_OK = 0,
        KESL_EXIT_BAD_ARGS = 1,
        KESL_EXIT_BAD_SETTINGS = 2,
        KESL_EXIT_NOT_RUNNING = 64,
        KESL_EXIT_OTHER = 65,
        KESL_EXIT_DBS_NOT_LOADED = 66,
        KESL_EXIT_ACTIVATION_NETWORK = 67,
        KESL_EXIT_POLICY = 68,
        KESL_EXIT_AMAZON_PAID_AMI = 69,
        KESL_EXIT_SAME_STATE = 70,
        KESL_EXIT_KSN_NOT_ACCEPTED = 71,
        KESL_EXIT_THREATS = 72,
        KESL_EXIT_APP_CONTROL_ACCEPT = 73,
        KESL_EXIT_RESTART_AFTER_UPDATE = 74,
        KESL_EXIT_REBOOT = 75,
        KESL_EXIT_ROOT_WRITABLE_ONLY = 76,
        KESL_EXIT_KEY_IN_USE = 77,
        KESL_EXIT_LIGHT_AGENT_MODE = 78,
        KESL_EXIT_STANDARD_MODE = 79,
        KESL_EXIT_UPDATE_NETWORK = 80,
        KESL_EXIT_UNKNOWN = 128,
};

/* Human meaning of an exit code (never NULL). */
const char *kesl_exit_message(int code);
/* The -errno a failing exit code maps to (0 for 0). */
int kesl_exit_errno(int code);

/* Output may be text ("Label: value" lines, EN or RU) or a JSON object. */
int kesl_parse_app_info(const char *out, size_t size, KeslAppInfo *ret);
int kesl_parse_task_state(const char *out, size_t size, KeslTaskState *ret);
/* Threat events of `kesl-control -E --query 'EventType == "ThreatDetected"'`
 * for path: ret->detected events, ret->threat the newest DetectName. */
int kesl_parse_events(const char *out, size_t size, const char *path, KeslScan *ret, PluginParseError *err);

const char *kesl_task_state_name(KeslTaskState s);
