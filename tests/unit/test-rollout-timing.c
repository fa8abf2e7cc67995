/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* When a desktop may start under a fleet manifest (daemon/rollout-timing.c):
 * phases, paused, expiry, windows (wrapping midnight, days), postponement,
 * retry, deadline. Local time is UTC here. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "avm-test.h"
#include "rollout-timing.h"
#include "util.h"

#define S USEC_PER_SEC
#define H (3600 * S)
#define NOON ((uint64_t) 1906718400 * S) /* Monday 2030-06-03 12:00 UTC */

static FleetManifest manifest(void) {
        FleetManifest m = {
                .serial = 1,
                .expires_usec = NOON + 1000 * H,
                .n_phases = 3,
                .phases = { { NOON - 24 * H, 1000 }, { NOON + 2 * H, 5000 }, { NOON + 48 * H, 10000 } },
        };
        strcpy(m.salt, "s");
        return m;
}

static uint64_t next(const FleetManifest *m, RolloutTiming in, const char *window, const char **why) {
        Window w;

        *why = NULL;
        if (window) {
                if (window_parse(window, &w) < 0)
                        abort();
                in.window = &w;
        }
        return rollout_next_start(m, &in, why);
}

static void test_phases(void) {
        FleetManifest m = manifest();

        /* The first phase whose percentage takes the bucket in. */
        CHECK(rollout_phase_start(&m, 0) == NOON - 24 * H);
        CHECK(rollout_phase_start(&m, 999) == NOON - 24 * H);
        CHECK(rollout_phase_start(&m, 1000) == NOON + 2 * H);
        CHECK(rollout_phase_start(&m, 9999) == NOON + 48 * H);
        CHECK(rollout_phase_start(&m, -22) == 0);
        m.phases[2].percentage_bp = 9000;
        CHECK(rollout_phase_start(&m, 9500) == 0);
}

static void test_next(void) {
        FleetManifest m = manifest();
        RolloutTiming in = { .now = NOON, .phase_start = NOON + 2 * H };
        const char *why;

        /* The phase, then now once it has begun. */
        CHECK(next(&m, in, NULL, &why) == NOON + 2 * H);
        in.phase_start = NOON - 24 * H;
        CHECK(next(&m, in, NULL, &why) == NOON);
        CHECK(next(&m, in, "", &why) == NOON); /* an empty window: always */

        /* Paused, expired, in no phase: nothing, and why. */
        m.paused = true;
        CHECK(next(&m, in, NULL, &why) == 0 && why && strcmp(why, "paused") == 0);
        m = manifest();
        m.expires_usec = NOON;
        CHECK(next(&m, in, NULL, &why) == 0 && why && strcmp(why, "expired") == 0);
        m = manifest();
        in.phase_start = 0;
        CHECK(next(&m, in, NULL, &why) == 0 && why && strcmp(why, "in no phase") == 0);

        /* A window wrapping midnight; inside it: at once. */
        in.phase_start = NOON - 24 * H;
        CHECK(next(&m, in, "22:00-02:00", &why) == NOON + 10 * H);
        in.now = NOON + 13 * H; /* 01:00 Tuesday */
        CHECK(next(&m, in, "22:00-02:00", &why) == NOON + 13 * H);
        in.now = NOON;
        /* Days: Monday noon, Sat,Sun only → Saturday 09:00. */
        CHECK(next(&m, in, "Sat,Sun 09:00-10:00", &why) == NOON + (5 * 24 - 3) * H);

        /* The user's postponement, then the next window after it. */
        in.deferred_until = NOON + 11 * H; /* 23:00 */
        CHECK(next(&m, in, NULL, &why) == NOON + 11 * H);
        CHECK(next(&m, in, "22:00-23:00", &why) == NOON + 34 * H); /* 22:00 Tuesday */

        /* The deadline caps the window and the postponement... */
        m.deadline_usec = NOON + 20 * H;
        CHECK(next(&m, in, "22:00-23:00", &why) == NOON + 20 * H);
        /* ...and once passed, neither holds back. */
        in.now = NOON + 21 * H;
        in.deferred_until = NOON + 30 * H;
        CHECK(next(&m, in, "Sat,Sun 09:00-10:00", &why) == NOON + 21 * H);
        /* But the phase does, and a retry after a refusal does. */
        in.phase_start = NOON + 48 * H;
        CHECK(next(&m, in, NULL, &why) == NOON + 48 * H);
        in.phase_start = NOON - 24 * H;
        in.retry_after = NOON + 21 * H + 900 * S;
        CHECK(next(&m, in, "Sat,Sun 09:00-10:00", &why) == NOON + 21 * H + 900 * S);
        /* A deadline before the phase: the phase. */
        m.deadline_usec = NOON - 30 * H;
        in.retry_after = 0;
        in.phase_start = NOON + 2 * H;
        in.now = NOON;
        CHECK(next(&m, in, "Sat,Sun 09:00-10:00", &why) == NOON + 2 * H);
}

static void test_windows(void) {
        FleetManifest m = manifest();
        Window w;

        /* Without windows of its own, MaintenanceWindow= applies. */
        CHECK(rollout_windows(&m, "Mon..Fri 18:00-23:00", &w) >= 0 && w.n == 1);
        CHECK(rollout_windows(&m, NULL, &w) >= 0 && w.n == 0);
        /* The manifest's replace it. */
        m.n_windows = 2;
        strcpy(m.windows[0], "Sat 09:00-10:00");
        strcpy(m.windows[1], "Sun 09:00-10:00");
        CHECK(rollout_windows(&m, "Mon..Fri 18:00-23:00", &w) >= 0 && w.n == 2);
        CHECK(!window_contains(&w, (time_t) ((NOON + 6 * H) / S)));
        CHECK(rollout_window_next(&w, NOON) == NOON + (5 * 24 - 3) * H);
}

int main(void) {
        setenv("TZ", "UTC", 1);
        tzset();
        test_phases();
        test_next();
        test_windows();
        return avm_test_finish();
}
