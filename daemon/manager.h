/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "configuration.h"
#include "job.h"
#include "products.h"

typedef struct PropertySnapshot {
        char state[24];
        char step[32];
        unsigned progress;
        char status_text[256];
        bool protected_;
        uint64_t gap_usec;
        char products[2048];
        char discouraged[64], replacement[64];
        char job[96];
        char last_error[600];
        uint64_t scheduled_at;
        unsigned deferrals_left;
} PropertySnapshot;

struct Manager {
        sd_event *event;
        sd_bus *bus;
        AvmConfig *config;
        ProductList products;
        bool detected; /* the first detection finished */

        Job *job; /* running, or the last finished one while it stays on the bus */
        char last_result[24];
        char last_error[600];
        uint64_t last_job_id;
        bool protected_;
        uint64_t gap_usec;
        uint64_t scheduled_at;
        uint64_t deferred_until;
        unsigned deferrals_used;

        Worker *detect_worker;
        struct {
                void (*cb)(Manager *m, void *userdata);
                void *userdata;
        } detect_waiters[8];
        unsigned n_detect_waiters;
        unsigned redetects; /* re-detections after an unprotected result */
        sd_event_source *redetect_timer;
        Worker *monitor_worker;
        sd_event_source *monitor_timer;
        sd_event_source *emit_defer, *emit_timer;
        uint64_t last_progress_emit;
        PropertySnapshot emitted;
        bool exiting;
        sd_event_source *exit_timer;
};

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
int manager_startup(Manager *m);

/* The product the policy would migrate from / to now, or NULL. */
ProductInfo *manager_discouraged(Manager *m);
ProductInfo *manager_replacement(Manager *m, const char *preferred);
bool manager_overlap_allowed(Manager *m, ProductInfo *from, ProductInfo *to);

/* Schedules a comparison of all properties against what was last emitted. */
void manager_changed(Manager *m);
const char *manager_state(Manager *m);
void manager_snapshot(Manager *m, PropertySnapshot *s);
int manager_save(Manager *m);
void manager_detect(Manager *m);
/* Runs detection (or joins the one running) and calls cb when it is done. */
int manager_detect_then(Manager *m, void (*cb)(Manager *m, void *userdata), void *userdata);
void manager_set_status(Manager *m, const char *text);
