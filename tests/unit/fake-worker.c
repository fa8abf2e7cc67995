/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "fake-worker.h"
#include "util.h"

#define FAKE_MAX 64

struct Worker {
        char name[32];
        char *args[16];
        WorkerMessage on_message;
        WorkerDone on_done;
        void *userdata;
        bool stopped, done;
        sd_event_source *defer;
        int auto_error;
        char *auto_data;
};

static Worker *live[FAKE_MAX];
static struct {
        char command[32];
        int error;
        char *data;
} autos[8];
static unsigned n_autos;
static struct {
        char command[32];
        unsigned n;
} counts[16];

static void count(const char *command) {
        for (unsigned i = 0; i < ELEMENTSOF(counts); i++) {
                if (!counts[i].command[0])
                        snprintf(counts[i].command, sizeof(counts[i].command), "%s", command);
                if (streq(counts[i].command, command)) {
                        counts[i].n++;
                        return;
                }
        }
}

unsigned fake_worker_started(const char *command) {
        for (unsigned i = 0; i < ELEMENTSOF(counts); i++)
                if (streq(counts[i].command, command))
                        return counts[i].n;
        return 0;
}

void fake_worker_auto(const char *command, int error, const char *data) {
        if (n_autos >= ELEMENTSOF(autos))
                abort();
        snprintf(autos[n_autos].command, sizeof(autos[n_autos].command), "%s", command);
        autos[n_autos].error = error;
        autos[n_autos].data = data ? strdup(data) : NULL;
        n_autos++;
}

static int on_auto(sd_event_source *s, void *userdata) {
        Worker *w = userdata;
        w->defer = sd_event_source_disable_unref(w->defer);
        fake_worker_finish(w, w->auto_error, NULL, w->auto_data);
        return 0;
}

int worker_start(sd_event *e, const char *name, uint64_t timeout_usec, const char *const *args, WorkerMessage on_message,
                 WorkerDone on_done, void *userdata, Worker **ret) {
        Worker *w = calloc(1, sizeof(Worker));
        size_t i;

        if (!w)
                return -ENOMEM;
        snprintf(w->name, sizeof(w->name), "%s", name);
        for (i = 0; i < ELEMENTSOF(w->args) - 1 && args[i]; i++)
                w->args[i] = strdup(args[i]);
        w->on_message = on_message;
        w->on_done = on_done;
        w->userdata = userdata;
        count(args[0]);
        for (i = 0; i < FAKE_MAX && live[i]; i++)
                ;
        if (i == FAKE_MAX)
                abort();
        live[i] = w;
        for (unsigned a = 0; a < n_autos; a++)
                if (streq(autos[a].command, args[0])) {
                        w->auto_error = autos[a].error;
                        w->auto_data = autos[a].data;
                        (void) sd_event_add_defer(e, &w->defer, on_auto, w);
                }
        *ret = w;
        return 0;
}

void worker_stop(Worker *w) {
        if (w)
                w->stopped = true;
}

Worker *worker_free(Worker *w) {
        if (!w)
                return NULL;
        for (unsigned i = 0; i < FAKE_MAX; i++)
                if (live[i] == w)
                        live[i] = NULL;
        for (unsigned i = 0; i < ELEMENTSOF(w->args); i++)
                free(w->args[i]);
        sd_event_source_disable_unref(w->defer);
        free(w);
        return NULL;
}

const char *worker_name(Worker *w) {
        return w->name;
}

uint64_t worker_op_usec(Worker *w) {
        return 0;
}

pid_t worker_pid(Worker *w) {
        return 0;
}

int worker_set_environment(char *const *pass) {
        return 0;
}

const char *worker_binary(void) {
        return "fake";
}

void worker_kill_stale(void) {
}

Worker *fake_worker_find(const char *command) {
        for (unsigned i = 0; i < FAKE_MAX; i++)
                if (live[i] && !live[i]->done && streq(live[i]->args[0], command))
                        return live[i];
        return NULL;
}

const char *fake_worker_arg(Worker *w, unsigned i) {
        return i < ELEMENTSOF(w->args) ? w->args[i] : NULL;
}

bool fake_worker_stopped(Worker *w) {
        return w->stopped;
}

void fake_worker_message(Worker *w, const char *key, const char *value) {
        if (w->on_message)
                w->on_message(w, key, value, w->userdata);
}

void fake_worker_finish(Worker *w, int error, const char *message, const char *data) {
        json_object *o = data ? json_tokener_parse(data) : NULL;

        w->done = true;
        /* on_done usually frees w */
        w->on_done(w, error, message, o, w->userdata);
        json_object_put(o);
}
