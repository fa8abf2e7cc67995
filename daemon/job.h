/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "scope.h"
#include "worker.h"

typedef struct Manager Manager;

/* The eight steps of DESIGN §2, in order. */
typedef enum StepId {
        STEP_PREFLIGHT,
        STEP_FETCH,
        STEP_INSTALL,
        STEP_VERIFY_REPLACEMENT,
        STEP_HANDOVER,
        STEP_REMOVE,
        STEP_VERIFY_FINAL,
        STEP_REPORT,
        _STEP_MAX,
} StepId;

typedef enum StepPhase {
        PHASE_PENDING,
        PHASE_RUNNING,
        PHASE_DONE,
} StepPhase;

typedef enum JobState {
        JOB_RUNNING,
        JOB_PAUSED,
        JOB_ROLLING_BACK,
        JOB_FINISHED,
} JobState;

typedef struct StepRecord {
        char result[16];                      /* "", done, skipped, failed */
        uint64_t started_usec, finished_usec; /* CLOCK_REALTIME */
        uint64_t op_usec;                     /* the worker's own time for the step's operations */
        char error[512];
} StepRecord;

typedef struct Job {
        Manager *manager;
        uint64_t id;
        char path[96];
        char from[64], to[64];
        JobState state;
        char result[24]; /* completed, failed, rolled-back, cancelled, not-started */
        StepId step;
        StepPhase phase;
        StepRecord steps[_STEP_MAX];
        unsigned attempts; /* times the current step was started (crash loops) */
        bool dry_run, force;
        bool installed_by_us;  /* undo of install removes the replacement */
        bool handover_started; /* rollback must restore old protection */
        bool overlap;          /* handover order chosen in preflight */
        bool pause_requested, cancel_requested;
        bool old_product_remains;
        unsigned progress;
        char status_text[256];
        char last_error[512];
        uint64_t created_usec, finished_usec;
        uint64_t gap_usec;
        json_object *timeline; /* array of {t, event, ...} */
        json_object *samples;  /* continuity monitor samples */
        json_object *gaps;     /* measured windows without verified protection */
        json_object *probes;   /* detection tests */
        ScopeList scope;       /* roots the replacement is set to protect and probed in (preflight) */
        char artifact[256];    /* the fetched, verified copy install installs ("" = package repository) */
        char artifact_sha256[65];
        json_object *scope_report; /* paths, absent, excluded, before, required, after; NULL until preflight */

        Worker *worker;
        int inhibit_fd; /* logind block lock during the handover, or -1 */
        sd_bus_slot *slot;
        char emitted_state[24], emitted_step[32];
        unsigned emitted_progress;
        uint64_t emitted_at;
        sd_event_source *expire;
} Job;

const char *step_to_string(StepId s);
int step_from_string(const char *s);
const char *step_description(StepId s);

Job *job_new(Manager *m, uint64_t id);
Job *job_free(Job *j);
void job_timeline(Job *j, const char *event, const char *step, const char *detail);
bool job_active(const Job *j);
