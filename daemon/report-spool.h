/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The report spool ($STATE_DIRECTORY/report-spool/): each finished job's JSON
 * report waits here until the upload server acknowledged it with a 2xx, so a
 * crash, a power loss or a week offline loses nothing. One file per job,
 * named as it is uploaded, <machine-id>-<job id>.json: written again after a
 * crash, or uploaded again after a lost reply, it replaces the same file.
 * Bounded in files and bytes; beyond the bound the oldest reports go first.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPORT_SPOOL_DIR "report-spool"
#define REPORT_SPOOL_NAME_MAX 64
#define REPORT_SPOOL_SCAN_MAX 10000 /* entries looked at; ReportSpoolMaxFiles= is at most this */

typedef struct SpoolEntry {
        char name[REPORT_SPOOL_NAME_MAX];
        uint64_t mtime_usec;
        uint64_t size;
} SpoolEntry;

/* "<machine_id>-<job_id>.json"; machine_id: 32 lowercase hex digits. */
int report_spool_name(const char *machine_id, uint64_t job_id, char *buf, size_t size);
/* Whether name is one report_spool_name() makes (nothing else is ever read or deleted). */
bool report_spool_name_valid(const char *name);

/* Stores one report durably (atomic replace); creates dir (0700). */
int report_spool_add(const char *dir, const char *name, const void *data, size_t size);

/* The reports in dir, oldest first (*ret freed by the caller; *ret_n may be
 * 0). Temporary files a crash left behind are removed. A missing dir is an
 * empty spool. */
int report_spool_list(const char *dir, SpoolEntry **ret, size_t *ret_n);

/* Deletes the oldest reports until at most max_files and max_bytes remain,
 * each with a journal warning (it will never be delivered). Returns how many
 * were deleted, or -errno. */
int report_spool_enforce(const char *dir, unsigned max_files, uint64_t max_bytes);

int report_spool_remove(const char *dir, const char *name);
