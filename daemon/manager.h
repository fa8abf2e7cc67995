/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "configuration.h"
#include "job.h"
#include "products.h"

/* fleet/manifest.h */
typedef struct FleetManifest FleetManifest;
typedef struct Rollout Rollout;

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

/* How the manager and the engine tell the outside what changed: the D-Bus
 * surface (bus-manager.c, bus-job.c) and the fleet reports register
 * themselves here; the core never calls them directly. Every member may be
 * NULL, and there may be no observer at all (the engine's unit tests run
 * without a bus). Observers are called in the order they were added. */
typedef struct ManagerObserver {
        void (*properties_changed)(Manager *m); /* some Manager property may have changed */
        int (*job_added)(Job *j);               /* a job object appears */
        void (*job_removed)(Job *j);            /* ... and goes */
        void (*job_changed)(Job *j);            /* its State, Step or Progress may have changed */
        void (*step_started)(Job *j, StepId s);
        void (*step_finished)(Job *j, StepId s, const char *result);
        void (*job_finished)(Job *j);         /* the result is final (JobRemoved) */
        void (*manifest_changed)(Manager *m); /* a fleet manifest was accepted (manager_manifest()) */
} ManagerObserver;

#define MANAGER_OBSERVERS_MAX 8

struct Manager {
        sd_event *event;
        sd_bus *bus;
        const ManagerObserver *observers[MANAGER_OBSERVERS_MAX];
        unsigned n_observers;
        AvmConfig *config;
        ProductList products;
        bool detected;       /* the first detection finished */
        bool config_refused; /* the worker refused the configuration: exit */

        Job *job; /* running, or the last finished one while it stays on the bus */
        char last_result[24];
        /* The manifest serial in force when the last job ended (0: none): a
         * failed or rolled-back desktop is started again by the rollout only
         * under a higher serial, the admin's sign that the cause is fixed. */
        uint64_t last_result_serial;
        char last_error[600];
        uint64_t last_job_id;
        bool protected_;
        uint64_t gap_usec;
        uint64_t scheduled_at;
        FleetManifest *manifest; /* the last accepted fleet manifest, or NULL (no ManifestURL=, none yet) */
        Rollout *rollout;        /* rollout.h: polling and scheduling, with ManifestURL= */
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
/* Loads configuration and state and restores protection if a crash left a
 * gap open; the first detection is the caller's, once the bus name is ours
 * (State "detecting" meanwhile): neither a slow vendor tool nor the worker's
 * start may delay the API. */
int manager_startup(Manager *m);

/* The product the policy would migrate from / to now, or NULL. */
ProductInfo *manager_discouraged(Manager *m);
ProductInfo *manager_replacement(Manager *m, const char *preferred);
bool manager_overlap_allowed(Manager *m, ProductInfo *from, ProductInfo *to);

/* The last accepted fleet manifest, or NULL. */
const FleetManifest *manager_manifest(Manager *m);

/* Adds an observer (0, or -ENOSPC beyond MANAGER_OBSERVERS_MAX). */
int manager_add_observer(Manager *m, const ManagerObserver *o);

/* Calls member(args) of every observer that has it. */
#define MANAGER_OBSERVE(m, member, ...)                                        \
        do {                                                                   \
                Manager *_m = (m);                                             \
                for (unsigned _i = 0; _i < _m->n_observers; _i++)              \
                        if (_m->observers[_i]->member)                         \
                                (void) _m->observers[_i]->member(__VA_ARGS__); \
        } while (0)

/* Tells the observers that Manager properties may have changed. */
void manager_changed(Manager *m);
/* Whether a migration may start now, and between which products: 0, or
 * -errno with the D-Bus error name and why. -ENOENT: no discouraged product
 * is installed (a fresh detection may find one). */
int manager_check_start(Manager *m, const char *replacement, bool force, ProductInfo **ret_from, ProductInfo **ret_to,
                        const char **ret_error, char *why, size_t why_size);
const char *manager_state(Manager *m);
void manager_snapshot(Manager *m, PropertySnapshot *s);
int manager_save(Manager *m);
void manager_detect(Manager *m);
/* Runs detection (or joins the one running) and calls cb when it is done. */
int manager_detect_then(Manager *m, void (*cb)(Manager *m, void *userdata), void *userdata);
void manager_set_status(Manager *m, const char *text);
