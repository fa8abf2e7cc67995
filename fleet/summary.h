/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The fleet summary of avmigrate-fleet: what every desktop last said about
 * itself, folded into counts. One small fixed-size record per machine (its
 * latest state, wave, gap, blockers as a bitmask), so memory grows by ~40
 * bytes a desktop whatever the sources hold; sources are streamed
 * (summary-journal.c, summary-reports.c).
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-id128.h>

#define SUMMARY_CAUSES_MAX 32 /* distinct blocker causes; more are counted as "other" */
#define SUMMARY_CAUSE_LEN 64
#define SUMMARY_LIST_MAX 1000 /* machines listed by id per list; the count is always exact */

typedef enum MachineState {
        MACHINE_UNKNOWN,
        MACHINE_PENDING, /* census only: no job yet */
        MACHINE_SCHEDULED,
        MACHINE_RUNNING,
        MACHINE_COMPLETED,
        MACHINE_FAILED,
        MACHINE_ROLLED_BACK,
        MACHINE_CANCELLED,
        MACHINE_NOT_STARTED,
        _MACHINE_STATE_MAX,
} MachineState;

typedef struct Machine {
        sd_id128_t id;
        uint64_t gap_usec;
        uint32_t blockers; /* bit i: Summary.causes[i] */
        uint16_t wave;     /* whole percent 1..100, 0 = not reported */
        uint8_t state;     /* MachineState */
        bool used : 1;
        bool has_gap : 1;
        bool unprotected : 1;
} Machine;

typedef struct Summary {
        Machine *machines; /* open addressing, n_buckets a power of two */
        size_t n_buckets, n_machines;
        char causes[SUMMARY_CAUSES_MAX][SUMMARY_CAUSE_LEN + 1];
        unsigned n_causes;
        uint64_t events, skipped; /* records read; records or files not understood */
} Summary;

MachineState machine_state_from_string(const char *s);
const char *machine_state_to_string(MachineState s);

void summary_done(Summary *s);

/* The record of a machine, created (zeroed) on first sight; NULL on OOM. */
Machine *summary_machine(Summary *s, sd_id128_t id);

/* Adds the blocker cause (bounded, [a-z0-9._-] kept, rest '_') to m. */
void summary_add_blocker(Summary *s, Machine *m, const char *cause);

/* Writes the summary as text or JSON. */
int summary_print(Summary *s, FILE *f, bool json);
