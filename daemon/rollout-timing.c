/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "rollout-timing.h"
#include "util.h"

#define WINDOW_SEARCH_MIN (8 * 24 * 60) /* a week and a day, minute by minute */

static uint64_t max_u64(uint64_t a, uint64_t b) {
        return a > b ? a : b;
}

uint64_t rollout_phase_start(const FleetManifest *fm, int bucket) {
        if (bucket < 0)
                return 0;
        /* Percentages never fall (manifest.h): the first phase that takes the
         * bucket in is when the machine joins. A phase at the epoch is "1 µs". */
        for (size_t i = 0; i < fm->n_phases; i++)
                if (fm->phases[i].percentage_bp > (unsigned) bucket)
                        return fm->phases[i].start_usec ? fm->phases[i].start_usec : 1;
        return 0;
}

uint64_t rollout_window_next(const Window *w, uint64_t t) {
        time_t s = (time_t) (t / USEC_PER_SEC);

        if (window_contains(w, s))
                return t;
        s -= s % 60;
        for (unsigned i = 1; i <= WINDOW_SEARCH_MIN; i++)
                if (window_contains(w, s + (time_t) i * 60))
                        return (uint64_t) (s + (time_t) i * 60) * USEC_PER_SEC;
        return 0;
}

int rollout_windows(const FleetManifest *fm, const char *maintenance_window, Window *ret) {
        char buf[FLEET_WINDOWS_MAX * (FLEET_WINDOW_MAX + 1) + 1] = "";

        /* The one syntax, ";"-joined: the manifest's replace the local one. */
        if (fm->n_windows == 0)
                return window_parse(maintenance_window ? maintenance_window : "", ret);
        for (size_t i = 0; i < fm->n_windows; i++)
                snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? ";" : "", fm->windows[i]);
        return window_parse(buf, ret);
}

uint64_t rollout_next_start(const FleetManifest *fm, const RolloutTiming *in, const char **why) {
        /* What always holds: the phase, and a retry after a refusal (or the
         * timer would fire again at once). */
        uint64_t floor = max_u64(max_u64(in->now, in->phase_start), in->retry_after), t;

        if (fleet_manifest_check_expiry(fm, in->now, NULL, 0) < 0)
                return *why = "expired", 0;
        if (fm->paused)
                return *why = "paused", 0;
        if (in->phase_start == 0)
                return *why = "in no phase", 0;
        if (rollout_deadline_passed(fm, floor))
                return floor;
        t = max_u64(floor, in->deferred_until);
        if (in->window && in->window->n > 0)
                t = rollout_window_next(in->window, t);
        if (fm->deadline_usec && (t == 0 || t > fm->deadline_usec))
                t = max_u64(fm->deadline_usec, floor);
        if (t == 0)
                *why = "no maintenance window within a week";
        return t;
}
