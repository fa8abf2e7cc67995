/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

/* A forked process that runs one plugin operation (or one step's worth of
 * them) so the event loop keeps answering D-Bus, a crashing plugin cannot
 * take the daemon down, and every operation has a timeout. The child talks
 * back over a SOCK_SEQPACKET socketpair in sd_notify style datagrams:
 * PROGRESS=, STATUS=, EVENT=<json>, DATA=<json>, ERRNO=, ERRMSG=. */

typedef struct Worker Worker;

/* Runs in the child. fd is the datagram socket; return 0 or -errno. */
typedef int (*WorkerFunction)(int fd, void *userdata);
/* PROGRESS/STATUS/EVENT messages as they arrive. */
typedef void (*WorkerMessage)(Worker *w, const char *key, const char *value, void *userdata);
/* Once, when the child is gone. data is the last DATA= object or NULL (borrowed). */
typedef void (*WorkerDone)(Worker *w, int error, const char *message, json_object *data, void *userdata);

int worker_start(sd_event *e, const char *name, uint64_t timeout_usec, WorkerFunction f, void *fdata, WorkerMessage on_message,
                 WorkerDone on_done, void *userdata, Worker **ret);
/* Asks the worker to stop: SIGTERM to its process group, SIGKILL after a grace period. */
void worker_stop(Worker *w);
Worker *worker_free(Worker *w);
const char *worker_name(Worker *w);

/* Child side. */
void worker_send(int fd, const char *key, const char *value);
void worker_send_json(int fd, const char *key, json_object *o);

/* Kills worker process groups left behind by a previous daemon instance,
 * after letting a package manager they started finish (bounded). */
void worker_kill_stale(void);

/* Child side: the worker's name, and the process group of the program it is
 * running through avm_host_run(), recorded so that if the worker dies the
 * daemon waits for that program (a package manager must not be cut off
 * half-way) instead of racing it. */
extern const char *worker_current;
void worker_record_run(pid_t pgid);
void worker_clear_run(void);
