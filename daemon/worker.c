/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "log.h"
#include "paths.h"
#include "util.h"
#include "worker.h"

#define WORKER_MSG_MAX (64u * 1024u)
#define WORKER_GRACE_USEC (5 * USEC_PER_SEC)
#define ORPHAN_POLL_USEC (250 * USEC_PER_MSEC)
#define ORPHAN_WAIT_USEC (10 * 60 * USEC_PER_SEC)
#define STALE_ORPHAN_WAIT_USEC (60 * USEC_PER_SEC)

const char *worker_current;

struct Worker {
        char name[64];
        pid_t pid;
        int fd;
        sd_event *event;
        sd_event_source *io, *child, *timeout, *kill_timer, *orphan_timer;
        pid_t orphan;
        uint64_t orphan_deadline;
        WorkerMessage on_message;
        WorkerDone on_done;
        void *userdata;
        int error;
        bool have_errno;
        bool timed_out;
        char message[512];
        json_object *data;
        bool done;
};

const char *worker_name(Worker *w) {
        return w->name;
}

void worker_send(int fd, const char *key, const char *value) {
        size_t kl = strlen(key), vl = strlen(value);
        _cleanup_free_ char *buf = NULL;

        if (kl + 1 + vl > WORKER_MSG_MAX)
                vl = WORKER_MSG_MAX - kl - 1;
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

static void pidfile_path(const char *name, char *buf, size_t size) {
        char n[96];
        snprintf(n, sizeof(n), "worker-%s.pid", name);
        (void) state_path(buf, size, n);
}

static void runfile_path(const char *name, char *buf, size_t size) {
        char n[96];
        snprintf(n, sizeof(n), "worker-%s.run", name);
        (void) state_path(buf, size, n);
}

void worker_record_run(pid_t pgid) {
        char path[PATH_MAX], buf[32];

        if (!worker_current)
                return;
        runfile_path(worker_current, path, sizeof(path));
        snprintf(buf, sizeof(buf), "%d\n", (int) pgid);
        (void) write_file_atomic(path, buf, strlen(buf), 0600);
}

void worker_clear_run(void) {
        char path[PATH_MAX];

        if (!worker_current)
                return;
        runfile_path(worker_current, path, sizeof(path));
        (void) unlink(path);
}

static pid_t read_pid_file(const char *path) {
        _cleanup_free_ char *s = NULL;
        uint64_t pid;

        if (read_file_bounded(path, 32, &s, NULL) < 0)
                return 0;
        s[strcspn(s, "\n")] = 0;
        if (parse_uint64(s, &pid) < 0 || pid <= 1 || pid >= INT_MAX)
                return 0;
        return (pid_t) pid;
}

/* Alive and not a zombie (an orphan's parent may never reap it). */
static bool process_running(pid_t pid) {
        char path[64], *p;
        _cleanup_free_ char *stat = NULL;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        if (read_file_bounded(path, 4096, &stat, NULL) < 0)
                return false;
        p = strrchr(stat, ')');
        return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* The program a dead worker was running, if it still runs. */
static pid_t orphan_of(const char *name) {
        char path[PATH_MAX];
        pid_t pid;

        runfile_path(name, path, sizeof(path));
        pid = read_pid_file(path);
        if (pid <= 0 || !process_running(pid)) {
                (void) unlink(path);
                return 0;
        }
        return pid;
}

void worker_kill_stale(void) {
        static const char *const names[] = { "step", "monitor", "detect" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char path[PATH_MAX];
                _cleanup_free_ char *s = NULL;
                uint64_t pgid;

                pid_t orphan = orphan_of(names[i]);

                if (orphan > 0) {
                        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + STALE_ORPHAN_WAIT_USEC;

                        log_notice("A program started by the previous instance (pid %d) still runs; waiting for it.", (int) orphan);
                        while (process_running(orphan) && now_usec(CLOCK_MONOTONIC) < deadline)
                                (void) usleep(ORPHAN_POLL_USEC);
                        if (process_running(orphan)) {
                                log_warning("Killing process group %d, still running after %" PRIu64 " s.", (int) orphan,
                                            STALE_ORPHAN_WAIT_USEC / USEC_PER_SEC);
                                (void) kill(-orphan, SIGKILL);
                        }
                        runfile_path(names[i], path, sizeof(path));
                        (void) unlink(path);
                }
                pidfile_path(names[i], path, sizeof(path));
                if (read_file_bounded(path, 32, &s, NULL) < 0)
                        continue;
                s[strcspn(s, "\n")] = 0;
                if (parse_uint64(s, &pgid) >= 0 && pgid > 1 && pgid < INT_MAX) {
                        /* A worker outlives a SIGKILLed daemon only if PDEATHSIG
                         * missed it; its children share its process group. */
                        if (kill(-(pid_t) pgid, SIGKILL) >= 0)
                                log_warning("Killed process group %" PRIu64 " left over by a previous instance.", pgid);
                }
                (void) unlink(path);
        }
}

static void finish(Worker *w) {
        int error;
        const char *msg;

        if (w->done)
                return;
        w->done = true;
        w->io = sd_event_source_disable_unref(w->io);
        w->timeout = sd_event_source_disable_unref(w->timeout);
        w->kill_timer = sd_event_source_disable_unref(w->kill_timer);
        w->orphan_timer = sd_event_source_disable_unref(w->orphan_timer);

        error = w->error;
        msg = w->message;
        if (w->timed_out) {
                error = -ETIME;
                if (!msg[0])
                        msg = "operation timed out";
        }
        {
                /* on_done usually frees the worker: keep what it is handed alive. */
                json_object *data = json_object_get(w->data);
                char text[sizeof(w->message)];

                snprintf(text, sizeof(text), "%s", msg);
                w->on_done(w, error, text[0] ? text : NULL, data, w->userdata);
                json_object_put(data);
        }
}

static void handle_message(Worker *w, char *buf, size_t n) {
        char *eq;

        buf[n] = 0;
        eq = strchr(buf, '=');
        if (!eq)
                return;
        *eq = 0;
        if (streq(buf, "ERRNO")) {
                uint64_t e;
                if (parse_uint64(eq + 1, &e) >= 0 && e < 4096) {
                        w->error = -(int) e;
                        w->have_errno = true;
                }
        } else if (streq(buf, "ERRMSG"))
                snprintf(w->message, sizeof(w->message), "%s", eq + 1);
        else if (streq(buf, "DATA")) {
                json_object *o = json_tokener_parse(eq + 1);
                if (o) {
                        json_object_put(w->data);
                        w->data = o;
                }
        } else if (w->on_message)
                w->on_message(w, buf, eq + 1, w->userdata);
}

static void drain(Worker *w) {
        _cleanup_free_ char *buf = malloc(WORKER_MSG_MAX + 1);

        if (!buf)
                return;
        for (;;) {
                ssize_t n = recv(w->fd, buf, WORKER_MSG_MAX, MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
                handle_message(w, buf, (size_t) n);
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        drain(userdata);
        if (revents & (EPOLLHUP | EPOLLERR)) {
                Worker *w = userdata;
                w->io = sd_event_source_disable_unref(w->io);
        }
        return 0;
}

static int on_orphan_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Worker *w = userdata;
        char path[PATH_MAX];

        if (process_running(w->orphan) && now_usec(CLOCK_MONOTONIC) < w->orphan_deadline)
                return sd_event_source_set_time_relative(s, ORPHAN_POLL_USEC) < 0 ?
                        0 :
                        sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (process_running(w->orphan)) {
                log_warning("Killing process group %d left by worker '%s'.", (int) w->orphan, w->name);
                (void) kill(-w->orphan, SIGKILL);
        }
        runfile_path(w->name, path, sizeof(path));
        (void) unlink(path);
        finish(w);
        return 0;
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Worker *w = userdata;
        char path[PATH_MAX];

        drain(w);
        pidfile_path(w->name, path, sizeof(path));
        (void) unlink(path);
        if (si->si_code != CLD_EXITED) {
                w->error = -ECHILD;
                if (!w->timed_out)
                        snprintf(w->message, sizeof(w->message), "worker '%s' was killed by signal %d", w->name, si->si_status);
        } else if (!w->have_errno) {
                w->error = si->si_status == 0 ? -EPROTO : -ECHILD;
                snprintf(w->message, sizeof(w->message), "worker '%s' exited with status %d without a result", w->name,
                         si->si_status);
        }
        /* A worker that died while running a program (apt, dpkg, a vendor
         * uninstaller) leaves it running in its own process group: let it
         * finish before anything else touches the products (bounded). */
        w->orphan = orphan_of(w->name);
        if (w->orphan > 0) {
                log_notice("Worker '%s' is gone but pid %d it started still runs; waiting for it.", w->name, (int) w->orphan);
                w->orphan_deadline = now_usec(CLOCK_MONOTONIC) + ORPHAN_WAIT_USEC;
                if (sd_event_add_time_relative(w->event, &w->orphan_timer, CLOCK_MONOTONIC, ORPHAN_POLL_USEC, 0, on_orphan_timer,
                                               w) >= 0)
                        return 0;
        }
        finish(w);
        return 0;
}

static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Worker *w = userdata;
        (void) kill(-w->pid, SIGKILL);
        return 0;
}

void worker_stop(Worker *w) {
        if (!w || w->done || w->kill_timer)
                return;
        (void) kill(-w->pid, SIGTERM);
        (void) sd_event_add_time_relative(w->event, &w->kill_timer, CLOCK_MONOTONIC, WORKER_GRACE_USEC, 0, on_kill_timer, w);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Worker *w = userdata;

        log_warning("Worker '%s' (pid %d) timed out; stopping it.", w->name, (int) w->pid);
        w->timed_out = true;
        worker_stop(w);
        return 0;
}

_Noreturn static void child_main(int fd, WorkerFunction f, void *fdata) {
        sigset_t ss;
        char buf[32];
        int r;

        (void) setpgid(0, 0);
        /* If the daemon dies (kill -9, crash), so does the step: the restarted
         * daemon re-checks reality instead of racing an orphan. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
                _exit(1);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        sigemptyset(&ss);
        (void) sigprocmask(SIG_SETMASK, &ss, NULL);

        r = f(fd, fdata);
        snprintf(buf, sizeof(buf), "%d", r < 0 ? -r : 0);
        worker_send(fd, "ERRNO", buf);
        _exit(0);
}

int worker_start(sd_event *e, const char *name, uint64_t timeout_usec, WorkerFunction f, void *fdata, WorkerMessage on_message,
                 WorkerDone on_done, void *userdata, Worker **ret) {
        Worker *w;
        int pair[2], r;
        char path[PATH_MAX], pidbuf[32];

        w = calloc(1, sizeof(Worker));
        if (!w)
                return -ENOMEM;
        snprintf(w->name, sizeof(w->name), "%s", name);
        w->fd = -EBADF;
        w->event = sd_event_ref(e);
        w->on_message = on_message;
        w->on_done = on_done;
        w->userdata = userdata;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
                r = -errno;
                goto fail;
        }
        fflush(stderr);
        w->pid = fork();
        if (w->pid < 0) {
                r = -errno;
                close(pair[0]);
                close(pair[1]);
                goto fail;
        }
        if (w->pid == 0) {
                close(pair[0]);
                worker_current = w->name;
                child_main(pair[1], f, fdata);
        }
        close(pair[1]);
        w->fd = pair[0];
        (void) setpgid(w->pid, w->pid);

        pidfile_path(name, path, sizeof(path));
        snprintf(pidbuf, sizeof(pidbuf), "%d\n", (int) w->pid);
        (void) write_file_atomic(path, pidbuf, strlen(pidbuf), 0600);

        r = sd_event_add_io(e, &w->io, w->fd, EPOLLIN, on_io, w);
        if (r >= 0)
                r = sd_event_add_child(e, &w->child, w->pid, WEXITED, on_child, w);
        if (r >= 0 && timeout_usec > 0)
                r = sd_event_add_time_relative(e, &w->timeout, CLOCK_MONOTONIC, timeout_usec, 0, on_timeout, w);
        if (r < 0) {
                (void) kill(-w->pid, SIGKILL);
                (void) waitpid(w->pid, NULL, 0);
                goto fail;
        }
        *ret = w;
        return 0;

fail:
        worker_free(w);
        return r;
}

Worker *worker_free(Worker *w) {
        if (!w)
                return NULL;
        if (!w->done && w->pid > 0) {
                (void) kill(-w->pid, SIGKILL);
                (void) waitpid(w->pid, NULL, 0);
        }
        sd_event_source_disable_unref(w->io);
        sd_event_source_disable_unref(w->child);
        sd_event_source_disable_unref(w->timeout);
        sd_event_source_disable_unref(w->kill_timer);
        sd_event_source_disable_unref(w->orphan_timer);
        if (w->fd >= 0)
                close(w->fd);
        json_object_put(w->data);
        sd_event_unref(w->event);
        free(w);
        return NULL;
}
