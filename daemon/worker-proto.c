/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <sys/socket.h>

#include "paths.h"
#include "process-id.h"
#include "utf8.h"
#include "util.h"
#include "worker-proto.h"

const char *worker_current;

int worker_message_read(WorkerResult *r, const char *raw, size_t n, char **ret_buf, const char **ret_key, const char **ret_value) {
        _cleanup_free_ char *text = strndup(raw, n), *buf = NULL;
        char *eq;

        if (!text)
                return -ENOMEM;
        buf = utf8_sanitize_dup(text);
        if (!buf)
                return -ENOMEM;
        eq = strchr(buf, '=');
        if (!eq)
                return 0;
        *eq = 0;
        if (streq(buf, "ERRNO")) {
                uint64_t e;
                if (parse_uint64(eq + 1, &e) >= 0 && e < 4096) {
                        r->error = -(int) e;
                        r->have_errno = true;
                }
        } else if (streq(buf, "TIME")) {
                uint64_t u;
                if (parse_uint64(eq + 1, &u) >= 0)
                        r->op_usec = u;
        } else if (streq(buf, "ERRMSG"))
                (void) utf8_snprintf(r->message, sizeof(r->message), "%s", eq + 1);
        else if (streq(buf, "DATA")) {
                json_object *o = json_tokener_parse(eq + 1);
                if (o) {
                        json_object_put(r->data);
                        r->data = o;
                }
        } else {
                *ret_key = buf;
                *ret_value = eq + 1;
                *ret_buf = buf;
                buf = NULL;
                return 1;
        }
        return 0;
}

int worker_event_parse(const char *value, json_object **ret, const char **ret_name) {
        json_object *o = json_tokener_parse(value), *ev;

        /* "event": null or a number must not reach streq() as NULL. */
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "event", &ev) ||
            !json_object_is_type(ev, json_type_string)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        *ret_name = json_object_get_string(ev);
        return 0;
}

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
