/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The worker side of the daemon ⇄ avmigrate-worker protocol: sd_notify-style
 * datagrams on a SOCK_SEQPACKET socket, one KEY=VALUE per datagram:
 *   PROGRESS=<0..100>  STATUS=<text>  EVENT=<json>  DATA=<json>
 *   ERRNO=<positive errno or 0, the result, last>  ERRMSG=<text>
 *   TIME=<µs the plugin operations took, without the worker's start-up>
 * A worker run from a shell (no --fd) prints the same lines on stdout. */

#define WORKER_MSG_MAX (64u * 1024u)
/* fd value meaning "print KEY=VALUE lines on stdout" */
#define WORKER_FD_STDOUT (-100)

/* What the daemon keeps of a worker's result messages (ERRNO=, ERRMSG=,
 * TIME=, DATA=). */
typedef struct WorkerResult {
        int error; /* -errno of ERRNO= */
        bool have_errno;
        uint64_t op_usec;
        char message[512]; /* ERRMSG=, valid UTF-8, cut between characters */
        json_object *data; /* the last DATA= object, owned */
} WorkerResult;

/* The daemon's reading of one datagram from a worker (raw: n bytes, not
 * NUL-terminated; text after a NUL byte is ignored). Everything a worker
 * sends may carry vendor text, so it is made valid UTF-8 first. Result
 * messages are taken into r. Returns 1 for any other KEY=VALUE, with
 * *ret_key and *ret_value pointing into *ret_buf (the caller frees it); 0
 * for a result message or a datagram without '=' (ignored); -ENOMEM. */
int worker_message_read(WorkerResult *r, const char *raw, size_t n, char **ret_buf, const char **ret_key, const char **ret_value);

/* An EVENT= value: a JSON object whose "event" is a string. 0 with *ret
 * (owned by the caller) and *ret_name (borrowed from it), or -EBADMSG. */
int worker_event_parse(const char *value, json_object **ret, const char **ret_name);

void worker_send(int fd, const char *key, const char *value);
void worker_send_json(int fd, const char *key, json_object *o);

/* The worker's class ("step", "detect", "monitor"), which names its record
 * files in $STATE_DIRECTORY; NULL outside a worker. */
extern const char *worker_current;

/* The process group of the program the worker is running through
 * avm_host_run(), recorded (with its identity, process-id.h) so that if the
 * worker dies the daemon waits for that program — a package manager must not
 * be cut off half-way — instead of racing it. */
void worker_record_run(pid_t pgid);
void worker_clear_run(void);

/* $STATE_DIRECTORY/worker-<name>.pid and worker-<name>.run */
void worker_pid_path(const char *name, char *buf, size_t size);
void worker_run_path(const char *name, char *buf, size_t size);
