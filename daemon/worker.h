/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "worker-proto.h"

/* The daemon side of a worker: avmigrate-worker, forked and exec'd to run one
 * plugin operation or one step (see worker-main.c), so that vendor code never
 * runs in the daemon, the event loop keeps answering D-Bus, a crashing plugin
 * cannot take the daemon down, and every operation has a timeout. The child
 * starts from a clean slate: default signal dispositions, an empty signal
 * mask, only stdout/stderr and the protocol socket (fd 3) open, and a minimal
 * environment (worker_set_environment()). Messages: worker-proto.h. */

typedef struct Worker Worker;

/* PROGRESS/STATUS/EVENT messages as they arrive. */
typedef void (*WorkerMessage)(Worker *w, const char *key, const char *value, void *userdata);
/* Once, when the child is gone. data is the last DATA= object or NULL (borrowed). */
typedef void (*WorkerDone)(Worker *w, int error, const char *message, json_object *data, void *userdata);

/* Runs "avmigrate-worker COMMAND ARGS..." (args: NULL-terminated, e.g.
 * {"step", NULL}). name is the worker's class (step, detect, monitor). */
int worker_start(sd_event *e, const char *name, uint64_t timeout_usec, const char *const *args, WorkerMessage on_message,
                 WorkerDone on_done, void *userdata, Worker **ret);
/* Asks the worker to stop: SIGTERM to its process group, SIGKILL after a grace period. */
void worker_stop(Worker *w);
Worker *worker_free(Worker *w);
const char *worker_name(Worker *w);
pid_t worker_pid(Worker *w);
/* The worker's own measure of its operations (TIME=), 0 if it sent none:
 * what a step costs without the daemon and the worker's start-up. */
uint64_t worker_op_usec(Worker *w);

/* The environment every worker gets: a fixed PATH, LANG=C.UTF-8, the
 * directories systemd passes (STATE_DIRECTORY, …), AVMIGRATE_*, the proxy
 * variables, and the variables named in pass (PassEnvironment=). Called once
 * at start-up; 0 or -errno. */
int worker_set_environment(char *const *pass);
/* Path of avmigrate-worker: beside the daemon's own executable. */
const char *worker_binary(void);

/* Kills worker process groups left behind by a previous daemon instance,
 * after letting a package manager they started finish (bounded) — only
 * processes proven to be those workers (process-id.h). */
void worker_kill_stale(void);
