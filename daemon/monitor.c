/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>

#include "log.h"
#include "monitor.h"
#include "ops.h"
#include "report.h"
#include "util.h"

#define MONITOR_MAX_SAMPLES 5000
#define MONITOR_TIMEOUT_USEC (60 * USEC_PER_SEC)

static int sample_child(int fd, void *userdata) {
        Manager *m = userdata;
        OpContext c = { .fd = fd, .step = "monitor" };
        json_object *o = json_object_new_object(), *products = json_object_new_object();
        bool any = false;

        json_object_object_add(o, "t", json_object_new_int64((int64_t) now_usec(CLOCK_REALTIME)));
        json_object_object_add(o, "mono_start", json_object_new_int64((int64_t) now_usec(CLOCK_MONOTONIC)));
        for (size_t i = 0; i < m->products.n; i++) {
                Product *p = &m->products.items[i];
                AvmStatus st;
                bool relevant = p->installed ||
                        (m->job && (streq(m->job->from, p->plugin->id) || streq(m->job->to, p->plugin->id)));

                if (!relevant)
                        continue;
                if (op_status(&c, p, &st) < 0)
                        st.realtime = false;
                json_object_object_add(products, p->plugin->id, json_object_new_boolean(st.realtime));
                any = any || st.realtime;
        }
        json_object_object_add(o, "mono_end", json_object_new_int64((int64_t) now_usec(CLOCK_MONOTONIC)));
        json_object_object_add(o, "protected", json_object_new_boolean(any));
        json_object_object_add(o, "products", products);
        worker_send_json(fd, "DATA", o);
        json_object_put(o);
        return 0;
}

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

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        int r;

        if (m->monitor_worker || !job_active(m->job))
                return 0;
        r = worker_start(m->event, "monitor", MONITOR_TIMEOUT_USEC, sample_child, m, NULL, on_sample, m, &m->monitor_worker);
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
