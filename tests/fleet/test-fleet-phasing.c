/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fleet/phasing.c: the rollout share over 100,000 random machine-ids is
 * within 0.5 percentage points of the percentage at every percentage 0..100,
 * a machine eligible at p stays eligible at every p' > p, its wave is the
 * lowest percentage at which it is eligible, and a pinned vector keeps the
 * definition (SHA-256(salt ‖ machine-id), first 8 bytes big-endian, mod
 * 10000) from drifting, since desktops and the admin's census must agree.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/avm-test.h"
#include "phasing.h"

#define MACHINES 100000u

/* xorshift64*: reproducible "random" machine-ids without a dependency. */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);
static uint64_t rng(void) {
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * UINT64_C(2685821657736338717);
}

static void random_machine_id(char id[33]) {
        snprintf(id, 33, "%016llx%016llx", (unsigned long long) rng(), (unsigned long long) rng());
}

static void test_vectors(void) {
        /* Computed independently with python3:
         * int.from_bytes(sha256(b"salt0123456789abcdef0123456789abcdef").digest()[:8], "big") % 10000 */
        CHECK(fleet_phase_bucket("salt", "0123456789abcdef0123456789abcdef") == 1585);
        CHECK(fleet_phase_wave("salt", "0123456789abcdef0123456789abcdef") == 1586);
        CHECK(fleet_phase_bucket("salt", "0123456789ABCDEF0123456789ABCDEF") == -EINVAL);
        CHECK(fleet_phase_bucket("salt", "0123456789abcdef0123456789abcde") == -EINVAL);
        CHECK(fleet_phase_bucket("salt", "0123456789abcdef0123456789abcdef0") == -EINVAL);
        CHECK(fleet_phase_bucket(NULL, "0123456789abcdef0123456789abcdef") == -EINVAL);
        CHECK(!fleet_phase_eligible("salt", "not-a-machine-id", 10000));
        /* Nobody at 0 %, everybody at 100 %. */
        CHECK(!fleet_phase_eligible("salt", "0123456789abcdef0123456789abcdef", 0));
        CHECK(fleet_phase_eligible("salt", "0123456789abcdef0123456789abcdef", 10000));
}

static void test_simulation(void) {
        static unsigned at_wave[101]; /* machines whose whole-percent wave is i */
        unsigned eligible = 0, worst_bp = 0, bad = 0;
        char id[33];

        for (unsigned i = 0; i < MACHINES; i++) {
                int w, p;

                random_machine_id(id);
                w = fleet_phase_wave("winter-2026", id);
                if (w < 1 || w > 10000) {
                        bad++;
                        continue;
                }
                /* The wave is the threshold: not eligible just below, eligible from it on. */
                bad += fleet_phase_eligible("winter-2026", id, (unsigned) w - 1);
                bad += !fleet_phase_eligible("winter-2026", id, (unsigned) w);
                /* Monotone: eligible at a random p' above the wave too, never below. */
                p = (int) (rng() % 10001);
                bad += fleet_phase_eligible("winter-2026", id, (unsigned) p) != (p >= w);
                at_wave[(w + 99) / 100]++;
        }
        /* The eligible share at each whole percentage: machines with wave ≤ p. */
        for (unsigned p = 0; p <= 100; p++) {
                unsigned expected_bp = p * 100, share_bp, dev;

                eligible += at_wave[p];
                share_bp = (unsigned) ((uint64_t) eligible * 10000 / MACHINES);
                dev = share_bp > expected_bp ? share_bp - expected_bp : expected_bp - share_bp;
                if (dev > worst_bp)
                        worst_bp = dev;
                CHECK(dev <= 50);
                if (dev > 50)
                        fprintf(stderr, "  at %u%%: %u of %u eligible\n", p, eligible, MACHINES);
        }
        CHECK(bad == 0);
        CHECK(eligible == MACHINES);
        printf("worst deviation over 0..100%%: %u.%02u percentage points\n", worst_bp / 100, worst_bp % 100);
}

static void test_salt_reshuffles(void) {
        unsigned same = 0;
        char id[33];

        /* Another salt, another order: about 1 % of machines share the wave. */
        for (unsigned i = 0; i < 10000; i++) {
                random_machine_id(id);
                same += (fleet_phase_wave("a", id) + 99) / 100 == (fleet_phase_wave("b", id) + 99) / 100;
        }
        CHECK(same < 300);
}

int main(void) {
        test_vectors();
        test_simulation();
        test_salt_reshuffles();
        return avm_test_finish();
}
