/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Protection gap windows: the evidence of every moment no product was
 * verified protecting.
 *
 * A window is opened by the worker BEFORE it stops a product: it writes
 * $STATE_DIRECTORY/gap.json (fsync'd: start on CLOCK_MONOTONIC and
 * CLOCK_BOOTTIME with the boot id, and CLOCK_REALTIME for a reboot) and
 * then tells the daemon (EVENT gap-start), which adds the window to
 * job.json. It is closed only when some product is verified protecting
 * again (EVENT gap-end); the daemon persists job.json and only then removes
 * gap.json. A crash anywhere in between leaves an open window, which the
 * next start closes after restoring protection — so a window may be longer
 * than the real gap, never shorter. */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct OpContext OpContext;

#define GAP_FILE "gap.json"

typedef struct GapSplit {
        uint64_t old_stopping_usec; /* the old product's stop command */
        uint64_t new_starting_usec; /* the new product's start command */
        uint64_t verification_usec; /* status and on-access probes until verified */
} GapSplit;

typedef struct Gap {
        uint64_t start_mono, start_boottime, start_realtime;
        char boot_id[33];
} Gap;

/* Worker side. gap_begin() fails (and nothing may be stopped) if the window
 * cannot be made durable. */
int gap_begin(OpContext *c, const char *reason, Gap *ret);
/* Protection verified again: closes the window. split may be NULL. */
void gap_end(OpContext *c, const Gap *g, const GapSplit *split);

/* Daemon side. */
int gap_boot_id(char buf[static 33]);
/* Reads gap.json: 1 and the window as a JSON object (caller owns), 0 if none, -errno if unreadable. */
int gap_file_read(json_object **ret);
void gap_file_remove(void);
/* Adds the window of a gap-start event (or of gap.json) to gaps unless one with the same start is there. */
void gap_window_open(json_object *gaps, json_object *event, const char *step);
/* Closes the open window that starts at event's start_mono (or every open window when
 * close_all) at the event's end; returns true if one was closed. */
bool gap_window_close(json_object *gaps, json_object *event, bool close_all);
/* Sum of all windows (open ones up to now) in µs. */
uint64_t gap_windows_total(json_object *gaps);
bool gap_windows_any_open(json_object *gaps);
