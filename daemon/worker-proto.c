/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <sys/socket.h>

#include "paths.h"
#include "process-id.h"
#include "util.h"
#include "worker-proto.h"

const char *worker_current;

void worker_send(int fd, const char *key, const char *value) {
        size_t kl = strlen(key), vl = strlen(value);
        _cleanup_free_ char *buf = NULL;

        if (kl + 1 + vl > WORKER_MSG_MAX)
                vl = WORKER_MSG_MAX - kl - 1;
        if (fd == WORKER_FD_STDOUT) {
                printf("%s=%.*s\n", key, (int) vl, value);
                fflush(stdout);
                return;
        }
        buf = malloc(kl + 1 + vl);
        if (!buf)
                return;
        memcpy(buf, key, kl);
        buf[kl] = '=';
        memcpy(buf + kl + 1, value, vl);
        (void) send(fd, buf, kl + 1 + vl, MSG_NOSIGNAL);
}

void worker_send_json(int fd, const char *key, json_object *o) {
        worker_send(fd, key, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

void worker_pid_path(const char *name, char *buf, size_t size) {
        char n[96];
        snprintf(n, sizeof(n), "worker-%s.pid", name);
        (void) state_path(buf, size, n);
}

void worker_run_path(const char *name, char *buf, size_t size) {
        char n[96];
        snprintf(n, sizeof(n), "worker-%s.run", name);
        (void) state_path(buf, size, n);
}

void worker_record_run(pid_t pgid) {
        char path[PATH_MAX];

        if (!worker_current)
                return;
        worker_run_path(worker_current, path, sizeof(path));
        (void) process_id_record(path, pgid);
}

void worker_clear_run(void) {
        char path[PATH_MAX];

        if (!worker_current)
                return;
        worker_run_path(worker_current, path, sizeof(path));
        (void) unlink(path);
}
