/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* When a desktop may start under a fleet manifest: pure functions of the
 * manifest, the machine's bucket, the clock and what holds it back, so
 * that every rule can be unit-tested (tests/unit/test-rollout-timing.c). */

#include <stdint.h>

#include "manifest.h"
#include "window.h"

typedef struct RolloutTiming {
        uint64_t now;            /* CLOCK_REALTIME µs */
        uint64_t phase_start;    /* rollout_phase_start(); 0: in no phase */
        uint64_t deferred_until; /* the user's postponement */
        uint64_t retry_after;    /* a refused start */
        const Window *window;    /* NULL or no spans: always */
} RolloutTiming;

/* Start of the first phase whose percentage takes bucket (0..9999) in; 0 if none. */
uint64_t rollout_phase_start(const FleetManifest *fm, int bucket);

/* The first minute at or after t inside w (local time); 0 if none within 8 days. */
uint64_t rollout_window_next(const Window *w, uint64_t t);

/* The manifest's windows, or maintenance_window (MaintenanceWindow=) when it has none. */
int rollout_windows(const FleetManifest *fm, const char *maintenance_window, Window *ret);

/* The next moment the migration may start: the phase start, the retry time,
 * then (before the deadline only) the postponement and the window; never
 * after the deadline unless the phase or a retry holds it. 0 with why if
 * none: expired, paused, in no phase, no window. */
uint64_t rollout_next_start(const FleetManifest *fm, const RolloutTiming *in, const char **why);

static inline bool rollout_deadline_passed(const FleetManifest *fm, uint64_t t) {
        return fm->deadline_usec && t >= fm->deadline_usec;
}
