/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "config.h"
#include "log.h"
#include "paths.h"
#include "process-id.h"
#include "utf8.h"
#include "util.h"
#include "worker.h"

#define WORKER_GRACE_USEC (5 * USEC_PER_SEC)
#define ORPHAN_POLL_USEC (250 * USEC_PER_MSEC)
#define ORPHAN_WAIT_USEC (10 * 60 * USEC_PER_SEC)
#define STALE_ORPHAN_WAIT_USEC (60 * USEC_PER_SEC)
#define WORKER_FD 3
#define WORKER_ARGS_MAX 16
#define WORKER_ENV_MAX 64
#define WORKER_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct Worker {
        char name[64];
        pid_t pid;
        int fd;
        sd_event *event;
        sd_event_source *io, *child, *timeout, *kill_timer, *orphan_timer;
        ProcessId orphan;
        uint64_t orphan_deadline;
        WorkerMessage on_message;
        WorkerDone on_done;
        void *userdata;
        WorkerResult result;
        bool timed_out;
        bool done;
};

static char *worker_env[WORKER_ENV_MAX + 1];

const char *worker_name(Worker *w) {
        return w->name;
}

uint64_t worker_op_usec(Worker *w) {
        return w->result.op_usec;
}

pid_t worker_pid(Worker *w) {
        return w && !w->done ? w->pid : 0;
}

const char *worker_binary(void) {
        static char path[PATH_MAX];
        char self[PATH_MAX];
        ssize_t n;

        if (path[0])
                return path;
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0)
                snprintf(path, sizeof(path), "%s/avmigrate-worker", AVM_LIBEXEC_DIR);
        else {
                self[n] = 0;
                snprintf(path, sizeof(path), "%s/avmigrate-worker", dirname(self));
        }
        return path;
}

/* Variables a worker may need whatever the configuration says: where our
 * directories are (systemd's *_DIRECTORY, the AVMIGRATE_* overrides),
 * where the log goes, and how to reach the network (proxies, honoured by
 * vendor tools and package managers). */
static bool env_always_passed(const char *name, size_t len) {
        static const char *const names[] = {
                "STATE_DIRECTORY",
                "CONFIGURATION_DIRECTORY",
                "CACHE_DIRECTORY",
                "LOGS_DIRECTORY",
                "RUNTIME_DIRECTORY",
                "JOURNAL_STREAM",
                "DBUS_SYSTEM_BUS_ADDRESS",
                "http_proxy",
                "https_proxy",
                "no_proxy",
                "HTTP_PROXY",
                "HTTPS_PROXY",
                "NO_PROXY",
                "ALL_PROXY",
                "all_proxy",
        };

        if (len > 10 && strncmp(name, "AVMIGRATE_", 10) == 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strlen(names[i]) == len && strncmp(name, names[i], len) == 0)
                        return true;
        return false;
}

static bool env_named_in(const char *name, size_t len, char *const *pass) {
        for (char *const *p = pass; p && *p; p++)
                if (strlen(*p) == len && strncmp(name, *p, len) == 0)
                        return true;
        return false;
}

int worker_set_environment(char *const *pass) {
        size_t n = 0;

        for (size_t i = 0; worker_env[i]; i++)
                worker_env[i] = mfree(worker_env[i]);
        worker_env[n++] = strdup(WORKER_PATH);
        worker_env[n++] = strdup("LANG=C.UTF-8");
        for (char **e = environ; e && *e; e++) {
                const char *eq = strchr(*e, '=');
                size_t len = eq ? (size_t) (eq - *e) : 0;

                if (len == 0 || (!env_always_passed(*e, len) && !env_named_in(*e, len, pass)))
                        continue;
                if (n >= WORKER_ENV_MAX) {
                        log_warning("More than %d variables to pass to workers; ignoring %.*s and the rest.", WORKER_ENV_MAX,
                                    (int) len, *e);
                        break;
                }
                worker_env[n++] = strdup(*e);
        }
        for (size_t i = 0; i < n; i++)
                if (!worker_env[i])
                        return -ENOMEM;
        worker_env[n] = NULL;
        return 0;
}

/* The program a dead worker was running, if that very process still runs. */
static bool orphan_of(const char *name, ProcessId *ret) {
        char path[PATH_MAX];

        worker_run_path(name, path, sizeof(path));
        if (process_id_load(path, ret) < 0 || !process_id_alive(ret)) {
                (void) unlink(path);
                return false;
        }
        return true;
}

void worker_kill_stale(void) {
        static const char *const names[] = { "step", "monitor", "detect" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char path[PATH_MAX];
                ProcessId orphan, stale;

                if (orphan_of(names[i], &orphan)) {
                        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + STALE_ORPHAN_WAIT_USEC;

                        log_notice("A program started by the previous instance (pid %d) still runs; waiting for it.",
                                   (int) orphan.pid);
                        while (process_id_alive(&orphan) && now_usec(CLOCK_MONOTONIC) < deadline)
                                (void) usleep(ORPHAN_POLL_USEC);
                        if (process_id_alive(&orphan)) {
                                log_warning("Killing process group %d, still running after %" PRIu64 " s.", (int) orphan.pid,
                                            STALE_ORPHAN_WAIT_USEC / USEC_PER_SEC);
                                (void) kill(-orphan.pid, SIGKILL);
                        }
                        worker_run_path(names[i], path, sizeof(path));
                        (void) unlink(path);
                }
                /* A worker outlives a SIGKILLed daemon only if PDEATHSIG missed
                 * it; its children share its process group. A record whose
                 * process is gone, or is somebody else now (pids are reused,
                 * the file survives reboots), is only removed. */
                worker_pid_path(names[i], path, sizeof(path));
                if (process_id_load(path, &stale) >= 0 && process_id_alive(&stale) && kill(-stale.pid, SIGKILL) >= 0)
                        log_warning("Killed worker process group %d left over by a previous instance.", (int) stale.pid);
                (void) unlink(path);
        }
}

static void finish(Worker *w) {
        const char *msg;
        int error;

        if (w->done)
                return;
        w->done = true;
        w->io = sd_event_source_disable_unref(w->io);
        w->timeout = sd_event_source_disable_unref(w->timeout);
        w->kill_timer = sd_event_source_disable_unref(w->kill_timer);
        w->orphan_timer = sd_event_source_disable_unref(w->orphan_timer);

        error = w->result.error;
        msg = w->result.message;
        if (w->timed_out) {
                error = -ETIME;
                if (!msg[0])
                        msg = "operation timed out";
        }
        {
                /* on_done usually frees the worker: keep what it is handed alive. */
                json_object *data = json_object_get(w->result.data);
                char text[sizeof(w->result.message)];

                snprintf(text, sizeof(text), "%s", msg);
                w->on_done(w, error, text[0] ? text : NULL, data, w->userdata);
                json_object_put(data);
        }
}

static void handle_message(Worker *w, const char *raw, size_t n) {
        _cleanup_free_ char *buf = NULL;
        const char *key, *value;

        if (worker_message_read(&w->result, raw, n, &buf, &key, &value) > 0 && w->on_message)
                w->on_message(w, key, value, w->userdata);
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

        if (process_id_alive(&w->orphan) && now_usec(CLOCK_MONOTONIC) < w->orphan_deadline)
                return sd_event_source_set_time_relative(s, ORPHAN_POLL_USEC) < 0 ?
                        0 :
                        sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (process_id_alive(&w->orphan)) {
                log_warning("Killing process group %d left by worker '%s'.", (int) w->orphan.pid, w->name);
                (void) kill(-w->orphan.pid, SIGKILL);
        }
        worker_run_path(w->name, path, sizeof(path));
        (void) unlink(path);
        finish(w);
        return 0;
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Worker *w = userdata;
        char path[PATH_MAX];

        drain(w);
        worker_pid_path(w->name, path, sizeof(path));
        (void) unlink(path);
        if (si->si_code != CLD_EXITED) {
                w->result.error = -ECHILD;
                if (!w->timed_out)
                        snprintf(w->result.message, sizeof(w->result.message), "worker '%s' was killed by signal %d", w->name,
                                 si->si_status);
        } else if (!w->result.have_errno) {
                w->result.error = si->si_status == 0 ? -EPROTO : -ECHILD;
                if (!w->result.message[0])
                        snprintf(w->result.message, sizeof(w->result.message),
                                 "worker '%s' exited with status %d without a result", w->name, si->si_status);
        }
        /* A worker that died while running a program (apt, dpkg, a vendor
         * uninstaller) leaves it running in its own process group: let it
         * finish before anything else touches the products (bounded). */
        if (orphan_of(w->name, &w->orphan)) {
                log_notice("Worker '%s' is gone but pid %d it started still runs; waiting for it.", w->name, (int) w->orphan.pid);
                w->orphan_deadline = now_usec(CLOCK_MONOTONIC) + ORPHAN_WAIT_USEC;
                if (sd_event_add_time_relative(w->event, &w->orphan_timer, CLOCK_MONOTONIC, ORPHAN_POLL_USEC, 0, on_orphan_timer,
                                               w) >= 0)
                        return 0;
        }
        finish(w);
        return 0;
}

/* The worker's process group: while the worker is not reaped its pid (its
 * group's id) cannot belong to anyone else. */
static void signal_group(Worker *w, int sig) {
        if (!w->done && w->pid > 0)
                (void) kill(-w->pid, sig);
}

static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        signal_group(userdata, SIGKILL);
        return 0;
}

void worker_stop(Worker *w) {
        if (!w || w->done || w->kill_timer)
                return;
        signal_group(w, SIGTERM);
        (void) sd_event_add_time_relative(w->event, &w->kill_timer, CLOCK_MONOTONIC, WORKER_GRACE_USEC, 0, on_kill_timer, w);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Worker *w = userdata;

        log_warning("Worker '%s' (pid %d) timed out; stopping it.", w->name, (int) w->pid);
        w->timed_out = true;
        worker_stop(w);
        return 0;
}

/* In the child, before exec: nothing of the daemon's state may leak into
 * vendor code — not its ignored SIGPIPE (ignored signals survive exec), not
 * its blocked signals, not its descriptors (the bus connection). The child
 * is vfork()ed: it runs in the daemon's memory until execve(), so it only
 * makes system calls and writes nothing but its own stack (and errno). */
_Noreturn static void child_exec(int fd, pid_t parent, char *const *argv) {
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t ss;
        int null;

        (void) setpgid(0, 0);
        /* If the daemon dies (kill -9, crash), so does the worker: the
         * restarted daemon re-checks reality instead of racing it. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
                _exit(1);
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) sigaction(sig, &sa, NULL);
        sigemptyset(&ss);
        (void) sigprocmask(SIG_SETMASK, &ss, NULL);

        if (fd != WORKER_FD) {
                if (dup2(fd, WORKER_FD) < 0)
                        _exit(127);
        } else if (fcntl(fd, F_SETFD, 0) < 0)
                _exit(127);
        null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0)
                _exit(127);
        (void) close_range(WORKER_FD + 1, ~0U, 0);
        execve(argv[0], argv, worker_env);
        {
                char msg[256];
                int k = snprintf(msg, sizeof(msg), "ERRMSG=cannot execute %s: %s", argv[0], strerror(errno));
                if (k > 0)
                        (void) send(WORKER_FD, msg, (size_t) k, MSG_NOSIGNAL);
        }
        _exit(127);
}

static int watch_child(Worker *w) {
        int pidfd = pidfd_open(w->pid, 0), r;

        /* pidfd where the kernel has it: the child source can never confuse
         * our worker with a later process of the same pid. */
        if (pidfd >= 0) {
                r = sd_event_add_child_pidfd(w->event, &w->child, pidfd, WEXITED, on_child, w);
                if (r < 0) {
                        close(pidfd);
                        return r;
                }
                return sd_event_source_set_child_pidfd_own(w->child, true);
        }
        return sd_event_add_child(w->event, &w->child, w->pid, WEXITED, on_child, w);
}

static int build_argv(const char *const *args, char **argv) {
        size_t n = 0;

        argv[n++] = (char *) worker_binary();
        argv[n++] = (char *) "--fd=3";
        for (size_t i = 0; args && args[i]; i++) {
                if (n + 1 >= WORKER_ARGS_MAX)
                        return -E2BIG;
                argv[n++] = (char *) args[i];
        }
        argv[n] = NULL;
        return 0;
}

int worker_start(sd_event *e, const char *name, uint64_t timeout_usec, const char *const *args, WorkerMessage on_message,
                 WorkerDone on_done, void *userdata, Worker **ret) {
        char *argv[WORKER_ARGS_MAX];
        pid_t parent = getpid(), pid;
        sigset_t all, saved;
        int pair[2], r, k;
        Worker *w;

        if (!worker_env[0]) {
                r = worker_set_environment(NULL);
                if (r < 0)
                        return r;
        }
        r = build_argv(args, argv);
        if (r < 0)
                return r;
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
        fflush(stdout);
        fflush(stderr);
        /* vfork(), not fork(): fork() copied the daemon's page tables and
         * made it fault on every page it wrote afterwards, ~1 ms of each
         * step's overhead (issue 13); we are suspended until the child
         * executes the worker (or exits). All signals stay blocked until the
         * child has put every handler back to the default: no handler of
         * ours may run in the child, on our memory. */
        sigfillset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, &saved);
        pid = vfork();
        if (pid == 0)
                child_exec(pair[1], parent, argv);
        k = errno;
        (void) sigprocmask(SIG_SETMASK, &saved, NULL);
        w->pid = pid;
        if (pid < 0) {
                r = -k;
                close(pair[0]);
                close(pair[1]);
                goto fail;
        }
        close(pair[1]);
        w->fd = pair[0];
        (void) setpgid(w->pid, w->pid); /* also here: no race with a signal below */

        r = sd_event_add_io(e, &w->io, w->fd, EPOLLIN, on_io, w);
        if (r >= 0)
                r = watch_child(w);
        if (r >= 0 && timeout_usec > 0)
                r = sd_event_add_time_relative(e, &w->timeout, CLOCK_MONOTONIC, timeout_usec, 0, on_timeout, w);
        if (r < 0) {
                (void) kill(-w->pid, SIGKILL);
                (void) waitpid(w->pid, NULL, 0);
                w->done = true;
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
        json_object_put(w->result.data);
        sd_event_unref(w->event);
        free(w);
        return NULL;
}
