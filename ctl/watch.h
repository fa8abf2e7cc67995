/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Following the daemon's signals: one job for 'start --wait' (its steps,
 * progress and result), or everything for 'monitor' (printed by
 * monitor.c). */

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "progress-bar.h"

typedef struct Watch {
        sd_bus *bus;
        sd_event *event;
        bool monitor;    /* print every signal */
        uint64_t job_id; /* --wait: the job we follow */
        ProgressBar bar; /* bar.out also gets the step lines */
        bool quiet;      /* no step lines (--json --wait) */
        uint32_t progress;
        char *step;
        char *status_text;
        uint32_t step_index, step_count; /* StepStarted: index counts from 1 */
        char *result;                    /* from JobRemoved */
        bool lost_daemon;
        bool step_failed;
        bool done;
        int done_code;
} Watch;

/* Install the matches synchronously, so that no signal sent after this
 * returns can be missed. */
int watch_add_matches(Watch *w);

/* An event loop for the bus that ends on SIGINT and SIGTERM (-EINTR). */
int watch_setup_loop(Watch *w);

/* Runs until the job is removed, the daemon exits, or a signal. */
int watch_run(Watch *w);

void watch_done(Watch *w);
