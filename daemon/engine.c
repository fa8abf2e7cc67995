/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <systemd/sd-daemon.h>

#include "engine.h"
#include "errors.h"
#include "gap.h"
#include "history.h"
#include "inhibit.h"
#include "log.h"
#include "manifest.h"
#include "monitor.h"
#include "paths.h"
#include "report.h"
#include "state.h"
#include "util.h"

#define MAX_STEP_ATTEMPTS 3
#define JOB_LINGER_USEC (5 * 60 * USEC_PER_SEC)

/* The core reports through the observer (manager.h), never to the bus. */
#define OBSERVE(j, member, ...) MANAGER_OBSERVE((j)->manager, member, __VA_ARGS__)

static void engine_next(Job *j);
static void engine_rollback(Job *j, const char *result);

static void job_persist(Job *j) {
        (void) state_save_job(j);
}

void engine_set_progress(Job *j, unsigned percent) {
        if (percent > 100)
                percent = 100;
        if (percent <= j->progress)
                return;
        j->progress = percent;
        OBSERVE(j, job_changed, j);
        manager_changed(j->manager);
}

static void set_status(Job *j, const char *text) {
        snprintf(j->status_text, sizeof(j->status_text), "%s", text);
        manager_set_status(j->manager, text);
        OBSERVE(j, job_changed, j);
}

static unsigned step_base_progress(StepId s) {
        return (unsigned) s * 100 / _STEP_MAX;
}

static void record_error_named(Job *j, const char *name, const char *msg) {
        Manager *m = j->manager;

        snprintf(j->last_error, sizeof(j->last_error), "%s", msg);
        snprintf(m->last_error, sizeof(m->last_error), "%s: %s", name, msg);
        manager_changed(m);
}

static void record_error(Job *j, const char *msg) {
        record_error_named(j, AVM_ERROR_STEP_FAILED, msg);
}

static void on_job_expire_timer(Job *j);

static int on_expire(sd_event_source *s, uint64_t usec, void *userdata) {
        on_job_expire_timer(userdata);
        return 0;
}

static void on_job_expire_timer(Job *j) {
        Manager *m = j->manager;

        if (m->job != j)
                return;
        OBSERVE(j, job_removed, j);
        m->job = job_free(j);
        manager_changed(m);
}

/* verify-final has just seen the old product gone and the new one
 * protecting: what the daemon knows must say so until the detection that
 * follows reports (State would otherwise read "pending" in between). */
static void products_migrated(Manager *m, Job *j) {
        ProductInfo *from = products_find(&m->products, j->from), *to = products_find(&m->products, j->to);

        if (j->dry_run)
                return;
        if (from)
                from->installed = from->realtime = false;
        if (to)
                to->installed = to->realtime = to->healthy = true;
}

/* The verified copy of the artifact is only for this job (its source stays
 * where the admin put it). */
static void remove_artifact(Job *j) {
        char dir[sizeof(j->artifact)], *slash;

        if (!j->artifact[0])
                return;
        if (unlink(j->artifact) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Cannot remove %s: %m", j->artifact);
        snprintf(dir, sizeof(dir), "%s", j->artifact);
        slash = strrchr(dir, '/');
        if (slash) {
                *slash = 0;
                (void) rmdir(dir);
        }
}

static void engine_finish(Job *j, const char *result) {
        Manager *m = j->manager;
        json_object *report;
        char text[256];

        if (result != j->result) /* callers may pass j->result itself */
                snprintf(j->result, sizeof(j->result), "%s", result);
        result = j->result;
        j->state = JOB_FINISHED;
        j->finished_usec = now_usec(CLOCK_REALTIME);
        j->worker = worker_free(j->worker);
        if (streq(result, "completed"))
                engine_set_progress(j, 100);
        j->gap_usec = gap_windows_total(j->gaps);
        job_timeline(j, "finished", NULL, result);
        job_persist(j);

        remove_artifact(j);
        /* Report: history record first, then the signal, then forget job.json;
         * a crash in between re-runs only what is missing. */
        if (!history_has(j->id)) {
                report = report_build(j);
                (void) history_append(report);
                json_object_put(report);
        }
        snprintf(m->last_result, sizeof(m->last_result), "%s", result);
        m->last_result_serial = m->manifest ? m->manifest->serial : 0;
        if (streq(result, "completed"))
                products_migrated(m, j);
        m->gap_usec = j->gap_usec;
        monitor_stop(m);
        snprintf(text, sizeof(text), "Migration %s → %s %s.", j->from, j->to, result);
        set_status(j, text);
        {
                char f_result[48], f_from[96], f_to[96], f_gap[64], f_serial[64];

                snprintf(f_result, sizeof(f_result), "AVMIGRATE_RESULT=%s", result);
                snprintf(f_from, sizeof(f_from), "AVMIGRATE_FROM=%s", j->from);
                snprintf(f_to, sizeof(f_to), "AVMIGRATE_TO=%s", j->to);
                snprintf(f_gap, sizeof(f_gap), "AVMIGRATE_GAP_USEC=%" PRIu64, j->gap_usec);
                /* The fleet manifest in force (0: none), for the admin's view per rollout. */
                snprintf(f_serial, sizeof(f_serial), "AVMIGRATE_MANIFEST_SERIAL=%" PRIu64, m->manifest ? m->manifest->serial : 0);
                log_event_fields(AVM_MID_JOB_FINISHED, streq(result, "completed") ? LOG_INFO : LOG_WARNING, j->id,
                                 (const char *const[]){ f_result, f_from, f_to, f_gap, f_serial, NULL },
                                 "Job %" PRIu64 " (%s → %s) finished: %s%s%s", j->id, j->from, j->to, result,
                                 j->last_error[0] ? ": " : "", j->last_error);
        }
        OBSERVE(j, job_finished, j);
        (void) state_remove_job();
        (void) manager_save(m);
        (void) sd_event_add_time_relative(m->event, &j->expire, CLOCK_MONOTONIC, JOB_LINGER_USEC, 0, on_expire, j);
        OBSERVE(j, job_changed, j);
        manager_changed(m);
        manager_detect(m);
        if (m->exiting)
                sd_event_exit(m->event, 0);
}

/* A gap window opened or closed (gap.c): persisted before anything else. */
static void on_gap_event(Job *j, const char *name, json_object *o) {
        Manager *m = j->manager;

        if (streq(name, "gap-start"))
                gap_window_open(j->gaps, o, step_to_string(j->step < _STEP_MAX ? j->step : STEP_REPORT));
        else {
                /* Some product is verified protecting: no window stays open,
                 * and Protected says so before the next sample or detection
                 * (after a restart, the first detection may still run). */
                (void) gap_window_close(j->gaps, o, true);
                m->protected_ = true;
        }
        j->gap_usec = gap_windows_total(j->gaps);
        m->gap_usec = j->gap_usec;
        json_object_array_add(j->timeline, json_object_get(o));
        if (state_save_job(j) >= 0 && streq(name, "gap-end"))
                gap_file_remove(); /* only once job.json holds the closed window */
        if (streq(name, "gap-end"))
                log_event(AVM_MID_HANDOVER, LOG_INFO, j->id,
                          "Job %" PRIu64 ": protection verified again; unprotected so far %" PRIu64 " µs.", j->id, j->gap_usec);
        manager_changed(m);
}

static void on_worker_message(Worker *w, const char *key, const char *value, void *userdata) {
        Job *j = userdata;

        if (streq(key, "PROGRESS")) {
                uint64_t p;
                if (parse_uint64(value, &p) >= 0 && p <= 100 && j->step < _STEP_MAX) {
                        unsigned base = step_base_progress(j->step), next = step_base_progress(j->step + 1);
                        engine_set_progress(j, base + (unsigned) ((next - base) * p / 100));
                }
        } else if (streq(key, "STATUS"))
                set_status(j, value);
        else if (streq(key, "EVENT")) {
                json_object *o;
                const char *name;

                if (worker_event_parse(value, &o, &name) < 0)
                        return;
                if (streq(name, "gap-start") || streq(name, "gap-end")) {
                        on_gap_event(j, name, o);
                        json_object_put(o);
                        return;
                }
                if (strncmp(name, "probe-", 6) == 0 || streq(name, "verified") || streq(name, "verify-failed"))
                        json_object_array_add(j->probes, json_object_get(o));
                json_object_array_add(j->timeline, o);
        }
}

/* Preflight's scope report (DATA "scope_report"), kept for the report. */
static void take_scope_report(Job *j, json_object *data) {
        json_object *v;

        if (!data || !json_object_object_get_ex(data, "scope_report", &v))
                return;
        json_object_put(j->scope_report);
        j->scope_report = json_object_get(v);
}

/* With the gap as a field: the fleet's central journal is summarised from it. */
static void log_handover(Job *j, int64_t handover_gap_usec) {
        char f_gap[64];

        snprintf(f_gap, sizeof(f_gap), "AVMIGRATE_GAP_USEC=%" PRIu64, j->gap_usec);
        log_event_fields(AVM_MID_HANDOVER, LOG_INFO, j->id, (const char *const[]){ f_gap, NULL },
                         "Real-time protection handed over from %s to %s; this handover's gap %" PRId64
                         " µs, the job's unprotected time %" PRIu64 " µs.",
                         j->from, j->to, handover_gap_usec, j->gap_usec);
}

static void apply_step_data(Job *j, json_object *data, bool *skipped) {
        json_object *v;

        *skipped = data && json_object_object_get_ex(data, "skipped", &v) && json_object_get_boolean(v);
        if (!data)
                return;
        if (j->step == STEP_PREFLIGHT && json_object_object_get_ex(data, "to_installed", &v))
                /* Undo of install removes the replacement only if we install it. */
                j->installed_by_us = !json_object_get_boolean(v);
        if (j->step == STEP_PREFLIGHT && json_object_object_get_ex(data, "scope", &v)) {
                ScopeList l;

                if (scope_list_from_json(v, &l) >= 0)
                        j->scope = l;
                take_scope_report(j, data);
        }
        if (j->step == STEP_FETCH && json_object_object_get_ex(data, "artifact", &v)) {
                snprintf(j->artifact, sizeof(j->artifact), "%s", json_object_get_string(v));
                if (json_object_object_get_ex(data, "artifact_sha256", &v))
                        snprintf(j->artifact_sha256, sizeof(j->artifact_sha256), "%s", json_object_get_string(v));
        }
        if (j->step == STEP_HANDOVER && json_object_object_get_ex(data, "scope_after", &v) && j->scope_report)
                json_object_object_add(j->scope_report, "after", json_object_get(v));
        if (j->step == STEP_HANDOVER && json_object_object_get_ex(data, "gap_usec", &v))
                log_handover(j, json_object_get_int64(v));
}

static void step_failed(Job *j, StepId s, int error, const char *msg) {
        char text[600];

        snprintf(text, sizeof(text), "%s", msg ? msg : strerror(error < 0 ? -error : EIO));
        snprintf(j->steps[s].error, sizeof(j->steps[s].error), "%s", text);
        snprintf(j->steps[s].result, sizeof(j->steps[s].result), "failed");
        j->steps[s].finished_usec = now_usec(CLOCK_REALTIME);
        /* A scope the replacement cannot cover is a policy refusal, not a breakage. */
        record_error_named(j, s == STEP_PREFLIGHT && error == -EXDEV ? AVM_ERROR_NOT_ELIGIBLE : AVM_ERROR_STEP_FAILED, text);
        log_event(AVM_MID_STEP_FAILED, LOG_ERR, j->id, "Job %" PRIu64 " step %s failed: %s", j->id, step_to_string(s), text);
        job_timeline(j, "step-failed", step_to_string(s), text);
        OBSERVE(j, step_finished, j, s, "failed");

        if (j->cancel_requested && s <= STEP_HANDOVER) {
                engine_rollback(j, "cancelled");
                return;
        }
        switch (s) {
        case STEP_PREFLIGHT:
                engine_finish(j, "not-started");
                break;
        case STEP_FETCH:
                engine_finish(j, "failed"); /* nothing changed yet */
                break;
        case STEP_INSTALL:
        case STEP_VERIFY_REPLACEMENT:
        case STEP_HANDOVER:
                engine_rollback(j, "rolled-back");
                break;
        case STEP_REMOVE:
                /* The new product protects; the old one stays installed but off. */
                j->old_product_remains = true;
                engine_finish(j, "failed");
                break;
        default:
                /* verify-final: alert, never remove the new product. */
                engine_finish(j, "failed");
                break;
        }
}

static void on_step_done(Worker *w, int error, const char *message, json_object *data, void *userdata) {
        Job *j = userdata;
        StepId s = j->step;
        bool skipped;

        if (j->manager->exiting && error == -ECHILD) {
                /* Daemon is stopping: leave the step "running" in job.json;
                 * the next start re-checks and continues it. */
                sd_event_exit(j->manager->event, 0);
                return;
        }
        j->steps[s].op_usec += worker_op_usec(w);
        j->worker = worker_free(j->worker);
        if (j->inhibit_fd >= 0 && s == STEP_HANDOVER)
                j->inhibit_fd = safe_close_fd(j->inhibit_fd);
        if (error < 0 && j->cancel_requested) {
                step_failed(j, s, -ECANCELED, "cancelled on request");
                return;
        }
        if (error == -ECHILD && j->attempts < MAX_STEP_ATTEMPTS) {
                /* The worker died (crash, OOM kill, someone's kill -9): steps are
                 * idempotent, so check and run the step again. */
                log_warning("Job %" PRIu64 ": %s; running step %s again.", j->id, message ? message : "worker died",
                            step_to_string(s));
                job_timeline(j, "worker-died-retrying", step_to_string(s), message);
                engine_next(j);
                return;
        }
        if (error < 0) {
                /* A refused preflight still tells what the scope was. */
                if (s == STEP_PREFLIGHT)
                        take_scope_report(j, data);
                step_failed(j, s, error, message);
                return;
        }
        apply_step_data(j, data, &skipped);
        snprintf(j->steps[s].result, sizeof(j->steps[s].result), "%s", skipped ? "skipped" : "done");
        j->steps[s].finished_usec = now_usec(CLOCK_REALTIME);
        j->phase = PHASE_DONE;
        job_timeline(j, skipped ? "step-skipped" : "step-done", step_to_string(s), NULL);
        j->step = s + 1;
        j->phase = PHASE_PENDING;
        j->attempts = 0;
        engine_set_progress(j, step_base_progress(j->step));
        job_persist(j);
        OBSERVE(j, step_finished, j, s, skipped ? "skipped" : "done");
        if (skipped)
                log_debug("Step %s had nothing to do.", step_to_string(s));
        engine_next(j);
}

static void run_report_step(Job *j) {
        /* No plugin operation here: the history record is written by
         * engine_finish(); the fleet report spool arrives with the fleet work. */
        snprintf(j->steps[STEP_REPORT].result, sizeof(j->steps[STEP_REPORT].result), "done");
        j->steps[STEP_REPORT].finished_usec = now_usec(CLOCK_REALTIME);
        OBSERVE(j, step_finished, j, STEP_REPORT, "done");
        j->step = _STEP_MAX;
        j->phase = PHASE_PENDING;
        engine_finish(j, "completed");
}

static void engine_next(Job *j) {
        Manager *m = j->manager;
        StepId s = j->step;
        char text[256];
        int r;

        if (j->state == JOB_FINISHED || j->worker)
                return;
        if (j->cancel_requested) {
                engine_rollback(j, "cancelled");
                return;
        }
        if (m->exiting) {
                sd_event_exit(m->event, 0);
                return;
        }
        if (j->pause_requested && j->state == JOB_RUNNING) {
                j->state = JOB_PAUSED;
                job_timeline(j, "paused", step_to_string(s), NULL);
                job_persist(j);
                set_status(j, "Migration paused.");
                manager_changed(m);
                return;
        }
        if (j->state == JOB_PAUSED)
                return;
        if (s >= _STEP_MAX) {
                engine_finish(j, "completed");
                return;
        }
        if (j->dry_run && s > STEP_PREFLIGHT) {
                for (int i = s; i < _STEP_MAX; i++) {
                        snprintf(j->steps[i].result, sizeof(j->steps[i].result), "skipped");
                        OBSERVE(j, step_started, j, (StepId) i);
                        OBSERVE(j, step_finished, j, (StepId) i, "skipped");
                }
                j->step = _STEP_MAX;
                engine_finish(j, "completed");
                return;
        }

        if (j->phase == PHASE_RUNNING)
                log_notice("Job %" PRIu64 ": step %s was interrupted; checking and continuing it.", j->id, step_to_string(s));
        if (++j->attempts > MAX_STEP_ATTEMPTS) {
                j->attempts--;
                step_failed(j, s, -ELOOP, "step interrupted too many times");
                return;
        }
        j->phase = PHASE_RUNNING;
        if (!j->steps[s].started_usec)
                j->steps[s].started_usec = now_usec(CLOCK_REALTIME);
        if (s == STEP_HANDOVER) {
                j->handover_started = true;
                if (j->inhibit_fd < 0)
                        j->inhibit_fd = inhibit_take(m->bus, "Handing antivirus protection over");
        }
        job_timeline(j, "step-started", step_to_string(s), NULL);
        /* Before the step touches anything. The worker reads the step to run
         * from job.json: a stale file (disk full, read-only state) would make
         * it run the previous step again, so no step runs unsaved. */
        r = state_save_job(j);
        if (r < 0) {
                char why[256];

                snprintf(why, sizeof(why), "cannot save the job state before the step (%s)", strerror(-r));
                step_failed(j, s, r, why);
                return;
        }
        snprintf(text, sizeof(text), "Step %d/%d: %s", s + 1, _STEP_MAX, step_description(s));
        set_status(j, text);
        OBSERVE(j, step_started, j, s);
        manager_changed(m);

        if (s == STEP_REPORT) {
                run_report_step(j);
                return;
        }
        r = worker_start(m->event, "step", m->config->step_timeout_usec, (const char *const[]){ "step", NULL }, on_worker_message,
                         on_step_done, j, &j->worker);
        if (r < 0)
                step_failed(j, s, r, "cannot start a worker process");
}

static void on_rollback_done(Worker *w, int error, const char *message, json_object *data, void *userdata) {
        Job *j = userdata;
        json_object *v;
        bool restored = false;
        const char *result;

        if (j->manager->exiting && error == -ECHILD) {
                sd_event_exit(j->manager->event, 0);
                return;
        }
        j->worker = worker_free(j->worker);
        j->inhibit_fd = safe_close_fd(j->inhibit_fd);
        if (data && json_object_object_get_ex(data, "restored", &v))
                restored = json_object_get_boolean(v);
        if (error < 0) {
                record_error(j, message ? message : "rollback failed");
                log_event(AVM_MID_UNPROTECTED, LOG_CRIT, j->id, "Job %" PRIu64 ": rollback failed: %s", j->id,
                          message ? message : strerror(-error));
                engine_finish(j, "failed");
                return;
        }
        /* j->result holds the outcome asked for when the rollback began. */
        result = restored ? j->result : "failed";
        if (!restored)
                record_error(j, "the old product could not be restored; the replacement protects this machine");
        engine_finish(j, result[0] ? result : "rolled-back");
}

static void engine_rollback(Job *j, const char *result) {
        Manager *m = j->manager;
        int r;

        /* Nothing was touched before install: no rollback needed. */
        if (j->step <= STEP_FETCH) {
                engine_finish(j, result);
                return;
        }
        snprintf(j->result, sizeof(j->result), "%s", result);
        j->state = JOB_ROLLING_BACK;
        j->cancel_requested = false;
        if (j->inhibit_fd < 0)
                j->inhibit_fd = inhibit_take(m->bus, "Restoring antivirus protection");
        job_timeline(j, "rollback", step_to_string(j->step), NULL);
        job_persist(j);
        set_status(j, "Rolling back to a protected state.");
        manager_changed(m);
        r = worker_start(m->event, "step", m->config->step_timeout_usec, (const char *const[]){ "rollback", NULL },
                         on_worker_message, on_rollback_done, j, &j->worker);
        if (r < 0) {
                record_error(j, "cannot start the rollback worker");
                engine_finish(j, "failed");
        }
}

int engine_start(Manager *m, ProductInfo *from, ProductInfo *to, bool force, bool dry_run, Job **ret) {
        Job *j;
        int r;

        j = job_new(m, m->last_job_id + 1);
        if (!j)
                return -ENOMEM;
        snprintf(j->from, sizeof(j->from), "%s", from->id);
        snprintf(j->to, sizeof(j->to), "%s", to->id);
        j->force = force;
        j->dry_run = dry_run;
        j->overlap = manager_overlap_allowed(m, from, to);
        j->created_usec = now_usec(CLOCK_REALTIME);
        j->state = JOB_RUNNING;
        job_timeline(j, "created", NULL, j->overlap ? "handover: overlap" : "handover: stop-first");

        r = state_save_job(j);
        if (r < 0) {
                job_free(j);
                return r;
        }
        m->last_job_id = j->id;
        (void) manager_save(m);

        if (m->job) {
                OBSERVE(m->job, job_removed, m->job);
                m->job = job_free(m->job);
        }
        m->job = j;
        m->last_error[0] = 0;
        m->last_result[0] = 0;
        OBSERVE(j, job_added, j);
        log_event(AVM_MID_JOB_STARTED, LOG_INFO, j->id, "Job %" PRIu64 " started: %s → %s%s.", j->id, j->from, j->to,
                  dry_run ? " (dry run)" : "");
        monitor_start(m);
        manager_changed(m);
        engine_next(j);
        *ret = j;
        return 0;
}

static void on_restore_done(Worker *w, int error, const char *message, json_object *data, void *userdata) {
        Job *j = userdata;

        j->worker = worker_free(j->worker);
        if (error < 0) {
                record_error(j, message ? message : "restoring protection failed");
                log_event(AVM_MID_UNPROTECTED, LOG_CRIT, j->id, "Job %" PRIu64 ": could not restore protection at start-up: %s",
                          j->id, message ? message : strerror(-error));
        }
        job_persist(j);
}

int engine_restore_first(Manager *m, Job *j) {
        json_object *g = NULL;
        int r;

        /* gap.json is written before a product is stopped, so it may hold a
         * window job.json never heard of (a crash right after writing it). */
        r = gap_file_read(&g);
        if (r < 0)
                log_warning_errno(r, "Ignoring an unreadable %s/gap.json: %m", state_dir());
        if (r > 0 && j)
                gap_window_open(j->gaps, g, "restart");
        json_object_put(g);
        if (!j) {
                if (r != 0)
                        gap_file_remove();
                return 0;
        }
        /* Once the handover began, a restart (a crash, a reboot) may find no
         * product protecting even without an open window: the products'
         * services start on their own after a boot, and may not be up yet. */
        if (!gap_windows_any_open(j->gaps) && !(j->handover_started && j->state != JOB_FINISHED))
                return 0;

        log_event(AVM_MID_UNPROTECTED, LOG_WARNING, j->id,
                  "Job %" PRIu64 ": restarted inside a job; making sure some product protects before anything else.", j->id);
        job_timeline(j, "restore-first", step_to_string(j->step < _STEP_MAX ? j->step : STEP_REPORT), NULL);
        job_persist(j);
        r = worker_start(m->event, "step", m->config->step_timeout_usec, (const char *const[]){ "restore", NULL },
                         on_worker_message, on_restore_done, j, &j->worker);
        if (r < 0)
                return log_error_errno(r, "Cannot start the restore worker: %m");
        while (j->worker) {
                r = sd_event_run(m->event, UINT64_MAX);
                if (r < 0)
                        return log_error_errno(r, "Event loop failed while restoring protection: %m");
        }
        j->gap_usec = gap_windows_total(j->gaps);
        m->gap_usec = j->gap_usec;
        return 0;
}

void engine_resume_after_restart(Manager *m, Job *j) {
        m->job = j;
        if (j->id > m->last_job_id)
                m->last_job_id = j->id;
        OBSERVE(j, job_added, j);
        job_timeline(j, "resumed-after-restart", step_to_string(j->step), NULL);
        log_notice("Resuming job %" PRIu64 " (%s → %s) at step %s.", j->id, j->from, j->to, step_to_string(j->step));

        if (j->state == JOB_FINISHED) {
                /* Crashed between finishing and forgetting it. */
                j->state = JOB_RUNNING;
                engine_finish(j, j->result);
                return;
        }
        monitor_start(m);
        manager_changed(m);
        if (j->state == JOB_ROLLING_BACK) {
                char result[24];
                snprintf(result, sizeof(result), "%s", j->result[0] ? j->result : "rolled-back");
                j->state = JOB_RUNNING;
                engine_rollback(j, result);
                return;
        }
        engine_next(j);
}

int engine_pause(Manager *m, sd_bus_error *error) {
        Job *j = m->job;

        if (!job_active(j))
                return sd_bus_error_set(error, AVM_ERROR_NOTHING_TO_DO, "No migration is running.");
        if (j->state == JOB_ROLLING_BACK)
                return sd_bus_error_set(error, AVM_ERROR_BUSY, "The job is rolling back and cannot pause.");
        if (j->state == JOB_PAUSED || j->pause_requested)
                return 0;
        j->pause_requested = true;
        job_persist(j);
        set_status(j, "Pausing after the current step…");
        engine_next(j); /* pauses at once if between steps */
        return 0;
}

int engine_resume(Manager *m, sd_bus_error *error) {
        Job *j = m->job;

        if (!job_active(j))
                return sd_bus_error_set(error, AVM_ERROR_NOTHING_TO_DO, "No migration is running.");
        if (!j->pause_requested && j->state != JOB_PAUSED)
                return 0;
        j->pause_requested = false;
        if (j->state == JOB_PAUSED) {
                j->state = JOB_RUNNING;
                job_timeline(j, "resumed", step_to_string(j->step), NULL);
        }
        job_persist(j);
        manager_changed(m);
        engine_next(j);
        return 0;
}

int engine_cancel(Manager *m, Job *j, sd_bus_error *error) {
        if (!job_active(j))
                return sd_bus_error_set(error, AVM_ERROR_NOTHING_TO_DO, "No migration is running.");
        if (j->state == JOB_ROLLING_BACK || j->cancel_requested)
                return 0;
        if (j->step > STEP_HANDOVER || (j->step == STEP_HANDOVER && j->phase == PHASE_DONE))
                return sd_bus_error_set(error, AVM_ERROR_NOT_ELIGIBLE,
                                        "Protection was already handed over to the replacement; the job finishes "
                                        "removing the old product to keep this machine protected.");
        j->cancel_requested = true;
        job_timeline(j, "cancel-requested", step_to_string(j->step), NULL);
        job_persist(j);
        set_status(j, "Cancelling…");
        if (j->worker)
                worker_stop(j->worker); /* its failure triggers the rollback */
        else {
                if (j->state == JOB_PAUSED)
                        j->state = JOB_RUNNING;
                engine_next(j);
        }
        return 0;
}
