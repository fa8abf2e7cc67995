/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <limits.h>
#include <systemd/sd-daemon.h>

#include "errors.h"
#include "engine.h"
#include "history.h"
#include "manifest.h"
#include "log.h"
#include "manager.h"
#include "monitor.h"
#include "worker.h"
#include "paths.h"
#include "state.h"
#include "util.h"
#include "window.h"

#define MANAGER_FILE "manager.json"
#define DETECT_TIMEOUT_USEC (120 * USEC_PER_SEC)

int manager_new(Manager **ret) {
        Manager *m = calloc(1, sizeof(Manager));
        int r;

        if (!m)
                return -ENOMEM;
        r = sd_event_default(&m->event);
        if (r < 0) {
                free(m);
                return r;
        }
        *ret = m;
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        if (m->job)
                m->job->worker = worker_free(m->job->worker);
        job_free(m->job);
        worker_free(m->detect_worker);
        worker_free(m->monitor_worker);
        sd_event_source_disable_unref(m->monitor_timer);
        sd_event_source_disable_unref(m->redetect_timer);
        sd_event_source_disable_unref(m->exit_timer);
        products_done(&m->products);
        config_free(m->config);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

/* An accepted fleet manifest names the products for this machine (signed
 * policy outranks the local Discouraged=/Approved=). */
static const char *discouraged_id(Manager *m) {
        return m->manifest ? m->manifest->from : m->config->discouraged;
}

ProductInfo *manager_discouraged(Manager *m) {
        ProductInfo *p = products_find(&m->products, discouraged_id(m));
        return p && p->installed ? p : NULL;
}

ProductInfo *manager_replacement(Manager *m, const char *preferred) {
        if (preferred) {
                ProductInfo *p = products_find(&m->products, preferred);
                bool approved = false;

                for (char **a = m->config->approved; a && *a; a++)
                        approved = approved || streq(*a, preferred);
                approved = approved || (m->manifest && streq(m->manifest->to, preferred));
                if (!p || !approved)
                        return NULL;
                return p->installed || (p->capabilities & AVM_CAP_INSTALL) ? p : NULL;
        }
        /* First approved product that is installed or can be installed. */
        for (char **a = m->config->approved; a && *a; a++) {
                ProductInfo *p = products_find(&m->products, *a);
                if (p && (p->installed || (p->capabilities & AVM_CAP_INSTALL)))
                        return p;
        }
        return NULL;
}

bool manager_overlap_allowed(Manager *m, ProductInfo *from, ProductInfo *to) {
        switch (m->config->allow_overlap) {
        case OVERLAP_YES:
                return true;
        case OVERLAP_NO:
                return false;
        default:
                /* Two blocking fanotify scanners can deadlock each other. */
                return !((from->capabilities & AVM_CAP_BLOCKING_FANOTIFY) && (to->capabilities & AVM_CAP_BLOCKING_FANOTIFY));
        }
}

const char *manager_state(Manager *m) {
        Job *j = m->job;

        if (job_active(j))
                return j->state == JOB_PAUSED ? "paused" : "running";
        if (!m->detected)
                return "detecting";
        /* Set only when the rollout will start it (rollout-schedule.c), even
         * after a failed job (a higher manifest serial): say what comes next. */
        if (m->scheduled_at && manager_discouraged(m))
                return "scheduled";
        if (m->last_result[0]) {
                if (streq(m->last_result, "completed"))
                        return manager_discouraged(m) ? "pending" : "completed";
                if (streq(m->last_result, "rolled-back") || streq(m->last_result, "cancelled"))
                        return "rolled-back";
                return "failed";
        }
        if (!manager_discouraged(m))
                return "idle";
        return "pending";
}

void manager_snapshot(Manager *m, PropertySnapshot *s) {
        Job *j = m->job;
        ProductInfo *d = products_find(&m->products, discouraged_id(m)),
                    *r = manager_replacement(m, m->manifest ? m->manifest->to : NULL);
        size_t n = 0;

        *s = (PropertySnapshot){};
        snprintf(s->state, sizeof(s->state), "%s", manager_state(m));
        if (job_active(j) && j->step < _STEP_MAX)
                snprintf(s->step, sizeof(s->step), "%s", step_to_string(j->step));
        s->progress = j ? j->progress : 0;
        snprintf(s->status_text, sizeof(s->status_text), "%s", j ? j->status_text : "");
        s->protected_ = m->protected_;
        s->gap_usec = m->gap_usec;
        for (size_t i = 0; i < m->products.n && n < sizeof(s->products); i++) {
                ProductInfo *p = &m->products.items[i];
                int k = snprintf(s->products + n, sizeof(s->products) - n, "%s|%s|%d|%d;", p->id, p->version, p->installed,
                                 p->realtime);
                if (k > 0)
                        n += (size_t) k;
        }
        snprintf(s->discouraged, sizeof(s->discouraged), "%s", d ? d->id : "");
        snprintf(s->replacement, sizeof(s->replacement), "%s", r ? r->id : "");
        snprintf(s->job, sizeof(s->job), "%s", j ? j->path : "/");
        snprintf(s->last_error, sizeof(s->last_error), "%s", m->last_error);
        s->scheduled_at = m->scheduled_at;
        s->deferrals_left = m->config->max_deferrals > m->deferrals_used ? m->config->max_deferrals - m->deferrals_used : 0;
}

void manager_changed(Manager *m) {
        MANAGER_OBSERVE(m, properties_changed, m);
}

const FleetManifest *manager_manifest(Manager *m) {
        return m->manifest;
}

int manager_add_observer(Manager *m, const ManagerObserver *o) {
        if (m->n_observers >= MANAGER_OBSERVERS_MAX)
                return -ENOSPC;
        m->observers[m->n_observers++] = o;
        return 0;
}

int manager_check_start(Manager *m, const char *replacement, bool force, ProductInfo **ret_from, ProductInfo **ret_to,
                        const char **ret_error, char *why, size_t why_size) {
        ProductInfo *from, *to;

        if (job_active(m->job)) {
                *ret_error = AVM_ERROR_BUSY;
                snprintf(why, why_size, "Job %" PRIu64 " is already %s.", m->job->id, manager_state(m));
                return -EBUSY;
        }
        from = manager_discouraged(m);
        if (!from) {
                *ret_error = AVM_ERROR_NOTHING_TO_DO;
                snprintf(why, why_size, "No discouraged product (%s) is installed.",
                         discouraged_id(m) ? discouraged_id(m) : "none configured");
                return -ENOENT;
        }
        to = manager_replacement(m, replacement);
        if (!to) {
                *ret_error = AVM_ERROR_NO_REPLACEMENT;
                if (replacement)
                        snprintf(why, why_size, "'%s' is not an approved product that can be installed.", replacement);
                else
                        snprintf(why, why_size, "No approved product can be installed.");
                return -ENXIO;
        }
        if (!force) {
                uint64_t now = now_usec(CLOCK_REALTIME);
                Window w;

                if (window_parse(m->config->maintenance_window, &w) >= 0 && !window_contains(&w, (time_t) (now / USEC_PER_SEC))) {
                        *ret_error = AVM_ERROR_OUTSIDE_WINDOW;
                        snprintf(why, why_size, "Outside the maintenance window (%s); use force to override.",
                                 m->config->maintenance_window);
                        return -EAGAIN;
                }
                if (m->deferred_until > now) {
                        *ret_error = AVM_ERROR_NOT_ELIGIBLE;
                        snprintf(why, why_size, "The user postponed the migration for another %" PRIu64 " s.",
                                 (m->deferred_until - now) / USEC_PER_SEC);
                        return -EAGAIN;
                }
        }
        *ret_from = from;
        *ret_to = to;
        return 0;
}

void manager_set_status(Manager *m, const char *text) {
        (void) sd_notifyf(false, "STATUS=%s", text);
        manager_changed(m);
}

/* ---- manager.json: what must survive restarts besides the job ---- */

int manager_save(Manager *m) {
        char path[PATH_MAX];
        json_object *o = json_object_new_object();
        const char *s;
        int r;

        json_object_object_add(o, "last_job_id", json_object_new_int64((int64_t) m->last_job_id));
        json_object_object_add(o, "last_result", json_object_new_string(m->last_result));
        json_object_object_add(o, "last_result_serial", json_object_new_int64((int64_t) m->last_result_serial));
        json_object_object_add(o, "last_error", json_object_new_string(m->last_error));
        json_object_object_add(o, "gap_usec", json_object_new_int64((int64_t) m->gap_usec));
        json_object_object_add(o, "deferrals_used", json_object_new_int64(m->deferrals_used));
        json_object_object_add(o, "deferred_until", json_object_new_int64((int64_t) m->deferred_until));
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        r = state_path(path, sizeof(path), MANAGER_FILE);
        if (r >= 0)
                r = write_file_atomic(path, s, strlen(s), 0600);
        json_object_put(o);
        if (r < 0)
                log_warning_errno(r, "Cannot save %s: %m", path);
        return r;
}

static void load_saved(Manager *m) {
        char path[PATH_MAX];
        _cleanup_free_ char *data = NULL;
        json_object *o, *v;

        if (state_path(path, sizeof(path), MANAGER_FILE) < 0 || read_file_bounded(path, 65536, &data, NULL) < 0)
                return;
        o = json_tokener_parse(data);
        if (!o || !json_object_is_type(o, json_type_object)) {
                log_warning("%s is corrupt; ignoring it.", path);
                json_object_put(o);
                return;
        }
        if (json_object_object_get_ex(o, "last_job_id", &v) && json_object_get_int64(v) > 0)
                m->last_job_id = (uint64_t) json_object_get_int64(v);
        if (json_object_object_get_ex(o, "last_result", &v) && json_object_is_type(v, json_type_string))
                snprintf(m->last_result, sizeof(m->last_result), "%s", json_object_get_string(v));
        if (json_object_object_get_ex(o, "last_result_serial", &v) && json_object_get_int64(v) >= 0)
                m->last_result_serial = (uint64_t) json_object_get_int64(v);
        if (json_object_object_get_ex(o, "last_error", &v) && json_object_is_type(v, json_type_string))
                snprintf(m->last_error, sizeof(m->last_error), "%s", json_object_get_string(v));
        if (json_object_object_get_ex(o, "gap_usec", &v) && json_object_get_int64(v) >= 0)
                m->gap_usec = (uint64_t) json_object_get_int64(v);
        if (json_object_object_get_ex(o, "deferrals_used", &v) && json_object_get_int64(v) >= 0 && json_object_get_int64(v) < 1000)
                m->deferrals_used = (unsigned) json_object_get_int64(v);
        if (json_object_object_get_ex(o, "deferred_until", &v) && json_object_get_int64(v) >= 0)
                m->deferred_until = (uint64_t) json_object_get_int64(v);
        json_object_put(o);
}

/* ---- detection ---- */

static int on_redetect(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        m->redetect_timer = sd_event_source_disable_unref(m->redetect_timer);
        manager_detect(m);
        return 0;
}

/* Products installed but nothing protecting, typically at boot while the
 * vendors' services still start: look again a few times with backoff
 * (2, 4, 8, 16, 32 s), then stay quiet — idle costs no wake-ups. */
static void schedule_redetect(Manager *m, bool protected_) {
        bool installed = false;

        for (size_t i = 0; i < m->products.n; i++)
                installed = installed || m->products.items[i].installed;
        if (protected_ || !installed || job_active(m->job)) {
                m->redetects = 0;
                return;
        }
        if (m->redetects >= 5 || m->redetect_timer)
                return;
        (void) sd_event_add_time_relative(m->event, &m->redetect_timer, CLOCK_MONOTONIC, (USEC_PER_SEC * 2) << m->redetects, 0,
                                          on_redetect, m);
        m->redetects++;
}

static void notify_waiters(Manager *m) {
        unsigned n = m->n_detect_waiters;

        m->n_detect_waiters = 0;
        for (unsigned i = 0; i < n; i++)
                m->detect_waiters[i].cb(m, m->detect_waiters[i].userdata);
}

/* Once per start: say which configured products no plugin provides. */
static void warn_unprovided(Manager *m) {
        if (m->products.n == 0)
                log_warning("No product plugin was loaded (avmigrate-worker detect shows why).");
        if (m->config->discouraged && !products_find(&m->products, m->config->discouraged))
                log_warning("Discouraged=%s: no plugin provides it.", m->config->discouraged);
        for (char **a = m->config->approved; a && *a; a++)
                if (!products_find(&m->products, *a))
                        log_notice("Approved=%s: no plugin provides it; skipped.", *a);
}

static void on_detect_done(Worker *w, int error, const char *message, json_object *data, void *userdata) {
        Manager *m = userdata;
        bool any = false, first = !m->detected;

        m->detect_worker = worker_free(m->detect_worker);
        log_debug("Detection finished: %s", data ? json_object_to_json_string(data) : strerror(error < 0 ? -error : 0));
        m->detected = true;
        if (error >= 0 && products_from_detection(&m->products, data) < 0)
                error = -EBADMSG;
        if (error == -EINVAL && message && strncmp(message, "invalid configuration: ", 23) == 0) {
                /* A [Product] key the plugin refused (file and line in message):
                 * like a bad [Manager] key, the daemon does not run on it —
                 * unless a job is in progress, which must end protected. */
                snprintf(m->last_error, sizeof(m->last_error), "%s: %s", AVM_ERROR_INVALID_ARGUMENT, message);
                log_error("Invalid configuration: %s", message + 23);
                if (!job_active(m->job) && first) {
                        m->config_refused = true;
                        (void) sd_event_exit(m->event, -EINVAL);
                        return;
                }
        }
        if (error < 0) {
                log_warning("Product detection failed: %s", message ? message : strerror(-error));
                manager_changed(m);
                notify_waiters(m);
                return;
        }
        if (first)
                warn_unprovided(m);
        for (size_t i = 0; i < m->products.n; i++)
                any = any || m->products.items[i].realtime;
        m->protected_ = any;
        manager_changed(m);
        notify_waiters(m);
        schedule_redetect(m, any);
}

void manager_detect(Manager *m) {
        int r;

        if (m->detect_worker)
                return;
        r = worker_start(m->event, "detect", DETECT_TIMEOUT_USEC, (const char *const[]){ "detect", NULL }, NULL, on_detect_done,
                         m, &m->detect_worker);
        if (r < 0)
                log_warning_errno(r, "Cannot start product detection: %m");
}

int manager_detect_then(Manager *m, void (*cb)(Manager *m, void *userdata), void *userdata) {
        if (m->n_detect_waiters >= ELEMENTSOF(m->detect_waiters))
                return -EBUSY;
        manager_detect(m);
        if (!m->detect_worker)
                return -ECHILD;
        m->detect_waiters[m->n_detect_waiters].cb = cb;
        m->detect_waiters[m->n_detect_waiters].userdata = userdata;
        m->n_detect_waiters++;
        return 0;
}

int manager_startup(Manager *m) {
        char error[1024] = "", corrupt[PATH_MAX];
        Job *j = NULL;
        int r;

        r = config_load(&m->config, error, sizeof(error));
        if (r < 0)
                return log_error_errno(r, "Invalid configuration: %s", error);
        r = mkdir_p(state_dir(), 0700);
        if (r < 0)
                return log_error_errno(r, "Cannot create state directory %s: %m", state_dir());

        r = worker_set_environment(m->config->pass_environment);
        if (r < 0)
                return log_error_errno(r, "Cannot prepare the workers' environment: %m");
        worker_kill_stale();
        load_saved(m);
        if (history_last_id() > m->last_job_id)
                m->last_job_id = history_last_id();

        r = state_load_job(m, &j, corrupt, sizeof(corrupt));
        if (r < 0)
                return r;
        /* Protection before anything else: a crash inside a gap left the
         * desktop bare until this returns. */
        (void) engine_restore_first(m, j);

        if (corrupt[0]) {
                snprintf(m->last_error, sizeof(m->last_error),
                         "org.avmigrate.Migrate1.Error.StateCorrupt: the job state file was corrupt and was moved "
                         "to %s",
                         corrupt);
                (void) manager_save(m);
        }
        if (j)
                m->job = j; /* resumed once the bus is up */
        return 0;
}
