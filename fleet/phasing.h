/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Who is in the rollout. A machine's bucket is
 *
 *     bucket = be64(SHA-256(salt ‖ machine_id)[0..7]) mod 10000
 *
 * with salt the manifest's salt bytes and machine_id the 32 lowercase hex
 * characters of /etc/machine-id (no newline), concatenated without separator.
 * A machine is eligible at a percentage p (in hundredths of a percent, bp =
 * p × 100) iff bucket < bp. Raising the percentage therefore only ever adds
 * machines, a new salt reshuffles the fleet, and every desktop computes its own
 * answer without asking anyone. (The modulo bias of 2^64 mod 10000 is below
 * 10^-15.)
 */

#include <stdbool.h>
#include <stdint.h>

#define FLEET_MACHINE_ID_LEN 32
#define FLEET_PHASE_SALT_MAX 256

/* true if s is 32 lowercase hex characters. */
bool fleet_machine_id_valid(const char *machine_id);

/* 0..9999; -EINVAL for an invalid machine id or a salt over FLEET_PHASE_SALT_MAX. */
int fleet_phase_bucket(const char *salt, const char *machine_id);

/* Whether the machine is in the rollout at percentage_bp (0..10000). */
bool fleet_phase_eligible(const char *salt, const char *machine_id, unsigned percentage_bp);

/* The machine's wave: the lowest percentage, in hundredths, at which it is
 * eligible (bucket + 1, so 1..10000); -EINVAL for an invalid machine id. A
 * census groups by whole percent: (wave + 99) / 100. */
int fleet_phase_wave(const char *salt, const char *machine_id);
