/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * When this desktop migrates under the accepted manifest: at the start of
 * the first phase whose percentage takes its bucket in (phasing.h), not while
 * the manifest is paused, inside the maintenance windows (the manifest's, or
 * MaintenanceWindow=) and after the user's postponement — until the deadline,
 * from which only the phase holds it back. That moment is ScheduledAt (State
 * "scheduled"); a CLOCK_REALTIME timer starts the migration then, through the
 * same checks as Start().
 */
#include <inttypes.h>
#include <systemd/sd-id128.h>

#include "engine.h"
#include "errors.h"
#include "log.h"
#include "phasing.h"
#include "rollout-timing.h"
#include "rollout.h"
#include "state.h"
#include "util.h"
#include "window.h"

#define RETRY_USEC (15 * 60 * USEC_PER_SEC) /* after a refused start */

static int machine_id(char ret[SD_ID128_STRING_MAX]) {
        static bool warned = false;
        sd_id128_t id;
        int r = sd_id128_get_machine(&id);

        if (r < 0) {
                /* Without one this desktop is in no phase and never starts:
                 * the admin must hear of it, once. */
                if (!warned)
                        log_warning_errno(r, "No machine id (/etc/machine-id): this machine is in no rollout phase: %m");
                warned = true;
                return r;
        }
        sd_id128_to_string(id, ret);
        return 0;
}

/* Start of the first phase that includes this machine; 0 if none does. */
static uint64_t phase_start(const FleetManifest *fm) {
        char id[SD_ID128_STRING_MAX];

        if (machine_id(id) < 0)
                return 0;
        return rollout_phase_start(fm, fleet_phase_bucket(fm->salt, id));
}

unsigned rollout_wave(Manager *m) {
        char id[SD_ID128_STRING_MAX];
        int w;

        if (!m->manifest || machine_id(id) < 0 || (w = fleet_phase_wave(m->manifest->salt, id)) < 0)
                return 0;
        return ((unsigned) w + 99) / 100;
}

bool rollout_eligible(Manager *m, uint64_t now) {
        char id[SD_ID128_STRING_MAX];

        return m->manifest && machine_id(id) >= 0 && fleet_manifest_eligible(m->manifest, id, now) &&
                fleet_manifest_check_expiry(m->manifest, now, NULL, 0) >= 0;
}

/* The next moment the migration may start under the manifest; 0 with why if none. */
static uint64_t next_start(Manager *m, uint64_t now, const char **why) {
        Window w;
        RolloutTiming in = {
                .now = now,
                .phase_start = phase_start(m->manifest),
                .deferred_until = m->deferred_until,
                .retry_after = m->rollout->retry_after,
        };

        if (rollout_windows(m->manifest, m->config->maintenance_window, &w) >= 0)
                in.window = &w;
        return rollout_next_start(m->manifest, &in, why);
}

/* Whether the manifest is this desktop's business now: its "from" installed
 * (manager_discouraged() follows the manifest), no job, and no job that
 * failed or rolled back under this serial or a later one — an admin looks
 * first, and a higher serial is their sign that the cause is fixed (else a
 * desktop failing every poll would open a handover gap every poll). */
static bool applies(Manager *m) {
        return m->manifest && m->detected && !job_active(m->job) && !m->rollout->starting && manager_discouraged(m) &&
                (!m->last_result[0] || streq(m->last_result, "completed") || m->manifest->serial > m->last_result_serial);
}

static void start_job(Manager *m, const char *artifact, const char *sha256) {
        Rollout *r = m->rollout;
        const FleetManifest *fm = m->manifest;
        uint64_t now = now_usec(CLOCK_REALTIME);
        /* Past the deadline nothing holds back; the manifest's windows were
         * checked here, MaintenanceWindow= by manager_check_start(). */
        bool force = rollout_deadline_passed(fm, now) || fm->n_windows > 0;
        ProductInfo *from, *to;
        const char *error;
        char why[512], wave[32];
        Job *j;
        int k;

        k = manager_check_start(m, fm->to, force, &from, &to, &error, why, sizeof(why));
        if (k >= 0)
                k = engine_start(m, from, to, false, false, &j);
        else {
                rollout_set_error(m, error, "%s", why);
        }
        if (k < 0) {
                r->retry_after = now + RETRY_USEC;
                rollout_log(m, AVM_MID_ROLLOUT_STARTED, LOG_WARNING, NULL,
                            "Fleet manifest: the scheduled migration did not start: %s", why);
                rollout_reschedule(m);
                return;
        }
        if (artifact) {
                /* The worker's fetch step checks the download and install
                 * hands it over, as with a local Artifact=. */
                snprintf(j->artifact, sizeof(j->artifact), "%s", artifact);
                snprintf(j->artifact_sha256, sizeof(j->artifact_sha256), "%s", sha256);
                job_timeline(j, "artifact-downloaded", NULL, fm->artifact.url);
                (void) state_save_job(j); /* a restart must not fall back to the repository */
        }
        snprintf(wave, sizeof(wave), "AVMIGRATE_WAVE=%u", rollout_wave(m));
        rollout_log(m, AVM_MID_ROLLOUT_STARTED, LOG_INFO, (const char *const[]){ wave, NULL },
                    "Fleet manifest %" PRIu64 ": migration %s → %s started as job %" PRIu64 ".", fm->serial, j->from, j->to, j->id);
}

static bool artifact_is(const FleetArtifact *a, const char *hex) {
        char want[65];

        for (unsigned i = 0; i < 32; i++)
                snprintf(want + 2 * i, 3, "%02x", a->sha256[i]);
        return hex && streq(want, hex);
}

static void on_artifact(Manager *m, int error, const char *path, const char *sha256, const char *why) {
        Rollout *r = m->rollout;

        r->starting = false;
        if (error < 0) {
                char field[FLEET_REASON_MAX + 64];

                r->retry_after = now_usec(CLOCK_REALTIME) + RETRY_USEC;
                snprintf(field, sizeof(field), "AVMIGRATE_REASON=%s", why);
                rollout_log(m, AVM_MID_ROLLOUT_STARTED, LOG_WARNING, (const char *const[]){ field, NULL },
                            "Fleet manifest %" PRIu64
                            ": the migration did not start, the artifact could not be downloaded "
                            "(trying again in %u minutes, or at once with a new manifest): %s",
                            m->manifest ? m->manifest->serial : 0, (unsigned) (RETRY_USEC / USEC_PER_SEC / 60), why);
                rollout_set_error(m, AVM_ERROR_DOWNLOAD_FAILED, "cannot download the artifact of fleet manifest %" PRIu64 ": %s",
                                  m->manifest ? m->manifest->serial : 0, why);
                rollout_reschedule(m);
                return;
        }
        if (m->manifest && !m->manifest->artifact.repository && !artifact_is(&m->manifest->artifact, sha256)) {
                /* A new manifest came with another artifact meanwhile: this
                 * download is not its artifact; the timer fetches that one. */
                rollout_reschedule(m);
                return;
        }
        if (applies(m) && rollout_eligible(m, now_usec(CLOCK_REALTIME)))
                start_job(m, path, sha256);
        else
                rollout_reschedule(m);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        Rollout *r = m->rollout;
        const char *why = NULL;
        uint64_t now = now_usec(CLOCK_REALTIME), t;
        int k;

        r->timer = sd_event_source_disable_unref(r->timer);
        if (!applies(m) || (t = next_start(m, now, &why)) == 0 || t > now) {
                rollout_reschedule(m);
                return 0;
        }
        if (m->manifest->artifact.repository) {
                start_job(m, NULL, NULL);
                return 0;
        }
        r->starting = true;
        k = rollout_artifact_fetch(m, on_artifact);
        if (k < 0)
                on_artifact(m, k, NULL, NULL, strerror(-k));
        return 0;
}

static void set_scheduled(Manager *m, uint64_t t) {
        if (m->scheduled_at == t)
                return;
        m->scheduled_at = t;
        manager_changed(m);
}

static void reschedule_now(Manager *m) {
        Rollout *r = m->rollout;
        const char *why = NULL;
        uint64_t now = now_usec(CLOCK_REALTIME), t = 0;
        int k = 0;

        if (job_active(m->job) && r->census_worker) {
                /* Two preflights must not probe the same scope at once: the job's wins. */
                r->census_worker = worker_free(r->census_worker);
                log_info("Readiness census stopped: a migration started.");
        }
        if (!applies(m)) {
                r->timer = sd_event_source_disable_unref(r->timer);
                if (!r->starting)
                        set_scheduled(m, 0);
                return;
        }
        t = next_start(m, now, &why);
        /* Due already: keep the moment it became due (a ScheduledAt that
         * followed the clock would change, and reschedule, forever). */
        if (t && t <= now && m->scheduled_at && m->scheduled_at <= now)
                t = m->scheduled_at;
        set_scheduled(m, t);
        if (t == 0) {
                r->timer = sd_event_source_disable_unref(r->timer);
                log_debug("Fleet manifest %" PRIu64 ": nothing scheduled (%s).", m->manifest->serial, why);
        } else if (r->timer)
                k = sd_event_source_set_time(r->timer, t) < 0 ? -EIO : sd_event_source_set_enabled(r->timer, SD_EVENT_ONESHOT);
        else
                k = sd_event_add_time(m->event, &r->timer, CLOCK_REALTIME, t, USEC_PER_SEC, on_timer, m);
        if (t && k < 0)
                log_warning_errno(k, "Cannot arm the fleet rollout's timer: %m");
        /* Before the wave (or while paused): what would stand in the way. */
        if (phase_start(m->manifest) && !rollout_eligible(m, now) && (m->manifest->paused || t > now))
                rollout_census(m);
}

static int on_defer(sd_event_source *s, void *userdata) {
        Manager *m = userdata;

        m->rollout->defer = sd_event_source_disable_unref(m->rollout->defer);
        reschedule_now(m);
        return 0;
}

void rollout_reschedule(Manager *m) {
        Rollout *r = m->rollout;

        if (!r || r->defer)
                return;
        /* Coalesced: every property change comes here. */
        if (sd_event_add_defer(m->event, &r->defer, on_defer, m) < 0)
                reschedule_now(m);
}
