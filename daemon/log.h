/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <syslog.h>

/* Logging to stderr; under systemd (JOURNAL_STREAM set) lines carry a "<N>"
 * priority prefix so the journal files them at the right level. Like
 * systemd's log_*_errno(), the _errno variants set errno so "%m" works and
 * return -abs(error). */

void log_setup(void);
void log_set_max_level(int level);
int log_internal(int level, int error, const char *format, ...) __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_internal(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_ERR, (e), __VA_ARGS__)
#define log_oom() log_internal(LOG_ERR, ENOMEM, "Out of memory.")

/* A structured journal event with a MESSAGE_ID from our catalog. */
void log_event(const char *message_id, int level, uint64_t job_id, const char *format, ...) __attribute__((format(printf, 4, 5)));
/* The same with more journal fields ("AVMIGRATE_RESULT=completed", NULL-terminated, at most
 * LOG_EVENT_MAX_FIELDS): what a fleet's central journal (journal-remote) is summarised from. */
#define LOG_EVENT_MAX_FIELDS 8
void log_event_fields(const char *message_id, int level, uint64_t job_id, const char *const *fields, const char *format, ...)
        __attribute__((format(printf, 5, 6)));

/* MESSAGE_IDs, described in docs/avmigrate.catalog (journalctl -x). */
#define AVM_MID_JOB_STARTED "5a3f0c1e7d2b4f6a9e1c3b5d7f9a0b21"
#define AVM_MID_JOB_FINISHED "5a3f0c1e7d2b4f6a9e1c3b5d7f9a0b22"
#define AVM_MID_STEP_FAILED "5a3f0c1e7d2b4f6a9e1c3b5d7f9a0b23"
#define AVM_MID_HANDOVER "5a3f0c1e7d2b4f6a9e1c3b5d7f9a0b24"
#define AVM_MID_UNPROTECTED "5a3f0c1e7d2b4f6a9e1c3b5d7f9a0b25"
#define AVM_MID_STATE_CORRUPT "5a3f0c1e7d2b4f6a9e1c3b5d7f9a0b26"
#define AVM_MID_MANIFEST_ACCEPTED "5a3f0c1e7d2b4f6a9e1c3b5d7f9a0b27"
#define AVM_MID_MANIFEST_REJECTED "5a3f0c1e7d2b4f6a9e1c3b5d7f9a0b28"
#define AVM_MID_ROLLOUT_STARTED "5a3f0c1e7d2b4f6a9e1c3b5d7f9a0b29"
/* What avmigrate-fleet summary reads (fleet/summary-sources.h FLEET_MID_CENSUS). */
#define AVM_MID_CENSUS "8df63d31d9074706a0027fedecea2ca7"
