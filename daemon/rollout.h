/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The desktop's side of a fleet rollout (fleet/manifest.h, README "Rolling
 * out to a fleet"), in four parts:
 *
 *   rollout.c           polling ManifestURL= (manifest + detached signature,
 *                       If-None-Match), verification against TrustedCA=,
 *                       persistence under $STATE_DIRECTORY/fleet/, acceptance
 *   rollout-schedule.c  phasing, paused, windows, deadline, postponement:
 *                       ScheduledAt and the timer that starts the migration
 *   rollout-artifact.c  the manifest's artifact, downloaded (resumable,
 *                       SHA-256 while streaming) before the migration starts
 *   rollout-census.c    the readiness census before this desktop's wave
 *
 * Everything runs on the manager's sd-event loop and never blocks it.
 */

#include <stdbool.h>
#include <stdint.h>

#include "fetch.h"
#include "manager.h"
#include "manifest.h"

#define ROLLOUT_POLL_WAITERS_MAX 8

/* error: 0 (a manifest was accepted, or the one we have is current) or
 * -errno with why (the rejection, a network failure). */
typedef void (*RolloutPollDone)(Manager *m, int error, const char *why, void *userdata);

typedef struct Rollout {
        Manager *manager;
        FleetManifest manifest; /* m->manifest points here once one is accepted */
        char etag[FLEET_ETAG_MAX + 1];

        /* polling */
        FleetFetch *fetch;
        char *body; /* the fetched manifest while its signature is fetched */
        size_t body_size;
        char body_etag[FLEET_ETAG_MAX + 1];
        struct {
                RolloutPollDone cb;
                void *userdata;
        } waiters[ROLLOUT_POLL_WAITERS_MAX];
        unsigned n_waiters;

        /* scheduling */
        sd_event_source *timer, *defer;
        bool starting;        /* a start is on its way (the artifact download) */
        uint64_t retry_after; /* CLOCK_REALTIME: a start was refused; not again before */
        char error[600];      /* what rollout_set_error() put into LastError ("" none) */

        /* the artifact */
        FleetFetch *artifact_fetch;
        int artifact_fd;
        uint64_t artifact_serial;

        /* the census */
        Worker *census_worker;
        uint64_t census_serial; /* the manifest serial and day of the last census */
        uint64_t census_day;
} Rollout;

/* Loads the accepted manifest kept from an earlier run (re-verified, expiry
 * checked) and registers for the manager's changes. Nothing without
 * ManifestURL=. */
int rollout_setup(Manager *m);
Rollout *rollout_free(Rollout *r);

/* Fetches the manifest now; cb (may be NULL) when done. -EBUSY with too many
 * waiting, -ENOTCONN without ManifestURL=. */
int rollout_poll(Manager *m, RolloutPollDone cb, void *userdata);
/* DownloadStallTimeoutSec= in whole seconds, for fleet_fetch's stall_sec. */
unsigned rollout_stall_sec(const AvmConfig *c);

void rollout_set_error(Manager *m, const char *name, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* The D-Bus error name for a failed poll's error. */
const char *rollout_error_name(int error);

/* rollout-schedule.c: recomputes ScheduledAt and the timer (soon, coalesced). */
void rollout_reschedule(Manager *m);
/* Whether this desktop is in the manifest's current wave and may start. */
bool rollout_eligible(Manager *m, uint64_t now);
/* The desktop's wave as a whole percent 1..100 (summary's AVMIGRATE_WAVE). */
unsigned rollout_wave(Manager *m);

/* rollout-artifact.c: downloads the manifest's artifact into
 * $STATE_DIRECTORY/artifacts/<sha256>/<name>; done gets the path. */
typedef void (*RolloutArtifactDone)(Manager *m, int error, const char *path, const char *sha256_hex, const char *why);
int rollout_artifact_fetch(Manager *m, RolloutArtifactDone done);

/* rollout-census.c: runs preflight only and logs the blockers, at most once
 * per manifest serial and day. */
void rollout_census(Manager *m);

static inline const char *empty_to_null(const char *s) {
        return s && *s ? s : NULL;
}

/* A journal event with AVMIGRATE_MANIFEST_SERIAL (the accepted one, or 0)
 * and fields (NULL-terminated, at most LOG_EVENT_MAX_FIELDS - 1). */
void rollout_log(Manager *m, const char *message_id, int level, const char *const *fields, const char *format, ...)
        __attribute__((format(printf, 5, 6)));
