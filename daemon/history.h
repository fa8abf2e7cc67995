/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* $STATE_DIRECTORY/history.jsonl: one report per finished job, one JSON
 * object a line, append-only between rotations.
 *
 * The file is never read whole. An index kept in memory (id, offset and
 * length of the line, a small summary) is built by one bounded streaming
 * read, at most HISTORY_SCAN_MAX bytes from the end of the file, the first
 * time it is needed, and then follows the file: lines appended by anyone
 * are indexed incrementally, a replaced or truncated file is indexed anew.
 * A report is read back with one pread() of its line.
 *
 * Bounds: when more than HISTORY_KEEP_MAX + 1/4 jobs or HISTORY_SIZE_MAX
 * + 1/4 bytes are kept, the file is rewritten with the newest jobs that fit
 * in HISTORY_KEEP_MAX and HISTORY_SIZE_MAX (temp file, fsync, rename, fsync
 * directory). The highest id ever recorded is kept in
 * $STATE_DIRECTORY/history.last-id, so ids are never reused after a
 * rotation or a lost file.
 *
 * Ids are integers 1..2^53 (what every JSON reader represents exactly). A
 * line that is not a JSON object with such an id, is longer than
 * HISTORY_RECORD_MAX, or is the torn last line of a write cut short by a
 * power loss is skipped (logged), never fatal, and never lowers the last
 * id. */

#define HISTORY_ID_MAX (UINT64_C(1) << 53)
#define HISTORY_KEEP_MAX 1000u
#define HISTORY_SIZE_MAX (16u * 1024u * 1024u)
#define HISTORY_RECORD_MAX (4u * 1024u * 1024u)
#define HISTORY_SCAN_MAX (64u * 1024u * 1024u)
/* GetHistory()'s page, and the largest page GetHistoryPage() returns. */
#define HISTORY_PAGE_DEFAULT 100u
#define HISTORY_PAGE_MAX 1000u

/* Appends report (its "id" must be valid) durably; -EINVAL, -EFBIG, -errno. */
int history_append(json_object *report);
bool history_has(uint64_t id);
/* Full report of job id (0: most recent), or -ENOENT. Reads only that line. */
int history_find(uint64_t id, json_object **ret);
/* Summaries (id, from, to, result, created_usec, finished_usec, gap_usec,
 * dry_run) of up to limit (at most HISTORY_PAGE_MAX) jobs, skipping the
 * offset most recent ones, oldest first. */
int history_list_page(uint64_t offset, uint64_t limit, json_object **ret);
/* The same as a JSON string to free(). */
int history_list_page_json(uint64_t offset, uint64_t limit, char **ret);
/* The HISTORY_PAGE_DEFAULT most recent jobs, oldest first. */
int history_list(json_object **ret);
/* Highest job id ever recorded (0: none); never goes down. */
uint64_t history_last_id(void);
/* Number of jobs in the index. */
size_t history_count(void);
/* Forgets the index (tests; the next call builds it again). */
void history_reset(void);

/* The id of a report or history line: 1..HISTORY_ID_MAX, or -EINVAL. */
int history_id_from_json(json_object *o, uint64_t *ret);
