/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>

#include "log.h"
#include "monitor.h"
#include "report.h"
#include "util.h"

#define MONITOR_MAX_SAMPLES 5000
#define MONITOR_TIMEOUT_USEC (60 * USEC_PER_SEC)
/* avmigrate-worker takes at most 16 arguments */
#define MONITOR_MAX_PRODUCTS 12

static void schedule(Manager *m);

static void on_sample(Worker *w, int error, const char *message, json_object *data, void *userdata) {
        Manager *m = userdata;
        Job *j = m->job;
        json_object *v;

        m->monitor_worker = worker_free(m->monitor_worker);
        if (error >= 0 && data && json_object_object_get_ex(data, "protected", &v)) {
                bool prot = json_object_get_boolean(v);

                if (m->protected_ != prot) {
                        m->protected_ = prot;
                        manager_changed(m);
                }
                if (job_active(j)) {
                        if (json_object_array_length(j->samples) < MONITOR_MAX_SAMPLES)
                                json_object_array_add(j->samples, json_object_get(data));
                        if (!prot && !report_sample_in_gap(j, data))
                                log_event(AVM_MID_UNPROTECTED, LOG_WARNING, j->id,
                                          "Job %" PRIu64
                                          ": no product's real-time protection is active "
                                          "(outside a measured handover gap).",
                                          j->id);
                }
        }
        if (job_active(j))
                schedule(m);
}

/* Samples the installed products and the job's two (avmigrate-worker sample). */
static int start_sample(Manager *m) {
        const char *args[MONITOR_MAX_PRODUCTS + 2];
        size_t n = 0;

        args[n++] = "sample";
        for (size_t i = 0; i < m->products.n && n < MONITOR_MAX_PRODUCTS + 1; i++) {
                ProductInfo *p = &m->products.items[i];

                if (p->installed || (m->job && (streq(m->job->from, p->id) || streq(m->job->to, p->id))))
                        args[n++] = p->id;
        }
        if (m->job && !products_find(&m->products, m->job->from) && n < MONITOR_MAX_PRODUCTS + 1)
                args[n++] = m->job->from;
        if (m->job && !products_find(&m->products, m->job->to) && n < MONITOR_MAX_PRODUCTS + 1)
                args[n++] = m->job->to;
        args[n] = NULL;
        return worker_start(m->event, "monitor", MONITOR_TIMEOUT_USEC, args, NULL, on_sample, m, &m->monitor_worker);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        int r;

        if (m->monitor_worker || !job_active(m->job))
                return 0;
        r = start_sample(m);
        if (r < 0) {
                log_warning_errno(r, "Cannot start the continuity monitor: %m");
                schedule(m);
        }
        return 0;
}

static void schedule(Manager *m) {
        int r;

        if (m->monitor_timer) {
                r = sd_event_source_set_time_relative(m->monitor_timer, m->config->monitor_interval_usec);
                if (r >= 0)
                        r = sd_event_source_set_enabled(m->monitor_timer, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time_relative(m->event, &m->monitor_timer, CLOCK_MONOTONIC, m->config->monitor_interval_usec, 0,
                                               on_timer, m);
        if (r < 0)
                log_warning_errno(r, "Cannot schedule the continuity monitor: %m");
}

void monitor_start(Manager *m) {
        /* First sample right away, then at the interval. */
        on_timer(NULL, 0, m);
        if (!m->monitor_worker)
                schedule(m);
}

void monitor_stop(Manager *m) {
        m->monitor_timer = sd_event_source_disable_unref(m->monitor_timer);
        /* A sample in flight finishes on its own; it no longer reschedules. */
}
