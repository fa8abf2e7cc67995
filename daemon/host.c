/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host services a plugin may use (include/avmigrate/plugin.h). They run
 * inside a worker process. */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "host.h"
#include "log.h"
#include "paths.h"
#include "util.h"
#include "worker-proto.h"

#define RUN_MAX_ENV 256

extern char **environ;

#define EXPORT __attribute__((visibility("default")))

EXPORT const char *avm_host_plugin_id(AvmHost *host) {
        return host->plugin->id;
}

const char *host_setting(AvmHost *host, const char *section, const char *key) {
        return config_get(host->config, section, key);
}

EXPORT const char *avm_host_config(AvmHost *host, const char *key) {
        char section[96];

        snprintf(section, sizeof(section), "Product %s", host->plugin->id);
        return config_get(host->config, section, key);
}

/* The value of a declared key as a number, else its declared default. The
 * value was validated when the plugins were loaded; checking it again costs
 * nothing and keeps a bad value from ever being used. */
static uint64_t config_number(AvmHost *host, const char *key, AvmConfigType type) {
        const AvmConfigKey *k = config_key_find(host->plugin->config_keys, key);
        const char *v = avm_host_config(host, key);
        uint64_t u = 0;
        char why[256];

        if (!k || k->type != type) {
                log_error("%s: configuration key %s is not declared with this type; using 0.", host->plugin->id, key);
                return 0;
        }
        if (!isempty(v) && config_value_check(k, v, &u, why, sizeof(why)) >= 0)
                return u;
        if (!isempty(v))
                log_warning("%s: %s; using the default.", host->plugin->id, why);
        if (k->default_value && config_value_check(k, k->default_value, &u, why, sizeof(why)) >= 0)
                return u;
        return 0;
}

EXPORT uint64_t avm_host_config_usec(AvmHost *host, const char *key) {
        return config_number(host, key, AVM_CONFIG_SECONDS);
}

EXPORT bool avm_host_config_bool(AvmHost *host, const char *key) {
        return config_number(host, key, AVM_CONFIG_BOOL) != 0;
}

EXPORT uint64_t avm_host_max_definitions_age_sec(AvmHost *host) {
        return config_number(host, "MaxDefinitionsAgeDays", AVM_CONFIG_UINT) * 24 * 3600;
}

bool host_definitions_too_old(AvmHost *host, int64_t age_sec) {
        uint64_t max = avm_host_max_definitions_age_sec(host);
        return max > 0 && age_sec > 0 && (uint64_t) age_sec > max;
}

static const char *ensure_dir(char **cache, const char *sub) {
        char buf[PATH_MAX];

        if (*cache)
                return *cache;
        if (snprintf(buf, sizeof(buf), "%s/%s", state_dir(), sub) >= (int) sizeof(buf))
                return NULL;
        if (mkdir_p(buf, 0700) < 0)
                return NULL;
        *cache = strdup(buf);
        return *cache;
}

EXPORT const char *avm_host_state_dir(AvmHost *host) {
        char sub[96];

        snprintf(sub, sizeof(sub), "plugins/%s", host->plugin->id);
        return ensure_dir(&host->state_dir, sub);
}

EXPORT const char *avm_host_probe_dir(AvmHost *host) {
        /* Shared by all products: both scanners of a handover watch it. It
         * must be reachable by the products' own daemons, hence 0755. */
        const char *d = ensure_dir(&host->probe_dir, "probe");
        if (d)
                (void) chmod(d, 0755);
        return d;
}

EXPORT const char *const *avm_host_protected_paths(AvmHost *host) {
        static const char *const none[] = { NULL };
        return host->protected_paths ? host->protected_paths : none;
}

EXPORT const char *const *avm_host_excluded_paths(AvmHost *host) {
        static const char *const none[] = { NULL };
        return host->excluded_paths ? host->excluded_paths : none;
}

EXPORT const char *avm_host_artifact(AvmHost *host) {
        return host->artifact;
}

EXPORT void avm_host_log(AvmHost *host, int priority, const char *format, ...) {
        char buf[1024];
        va_list ap;

        va_start(ap, format);
        vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);
        log_internal(priority, 0, "%s: %s", host->plugin->id, buf);
}

EXPORT void avm_host_error(AvmHost *host, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        vsnprintf(host->error, sizeof(host->error), format, ap);
        va_end(ap);
}

EXPORT void avm_host_progress(AvmHost *host, unsigned percent, const char *status) {
        char buf[512];
        int n;

        if (host->progress_fd < 0)
                return;
        n = snprintf(buf, sizeof(buf), "PROGRESS=%u", percent > 100 ? 100 : percent);
        (void) send(host->progress_fd, buf, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (status) {
                n = snprintf(buf, sizeof(buf), "STATUS=%s: %s", host->plugin->id, status);
                (void) send(host->progress_fd, buf, (size_t) (n < (int) sizeof(buf) ? n : (int) sizeof(buf) - 1),
                            MSG_NOSIGNAL | MSG_DONTWAIT);
        }
}

EXPORT void avm_eicar(char *buf) {
        /* Assembled at run time so no file of ours contains the whole test
         * string (scanners on developer machines would quarantine it). */
        static const char *const parts[] = { "X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-", "TEST-FILE!$H+H*" };
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                size_t l = strlen(parts[i]);
                memcpy(buf + n, parts[i], l);
                n += l;
        }
        buf[n] = 0;
}

static int build_env(const char *const extra[], char **env, size_t max) {
        size_t n = 0;
        bool have_lang = false, have_lc_all = false;

        for (size_t i = 0; extra && extra[i]; i++) {
                if (n + 3 >= max)
                        return -E2BIG;
                if (strncmp(extra[i], "LANG=", 5) == 0)
                        have_lang = true;
                if (strncmp(extra[i], "LC_ALL=", 7) == 0)
                        have_lc_all = true;
                env[n++] = (char *) extra[i];
        }
        if (!have_lang)
                env[n++] = (char *) "LANG=C";
        if (!have_lc_all)
                env[n++] = (char *) "LC_ALL=C";
        for (char **e = environ; e && *e; e++) {
                bool overridden = false;
                const char *eq = strchr(*e, '=');
                size_t klen = eq ? (size_t) (eq - *e) + 1 : strlen(*e);

                for (size_t i = 0; i < n; i++)
                        if (strncmp(env[i], *e, klen) == 0)
                                overridden = true;
                if (overridden)
                        continue;
                if (n + 1 >= max)
                        return -E2BIG;
                env[n++] = *e;
        }
        env[n] = NULL;
        return 0;
}

static void kill_group(pid_t pid) {
        (void) kill(-pid, SIGKILL);
        (void) kill(pid, SIGKILL);
}

EXPORT void avm_run_result_done(AvmRunResult *r) {
        if (!r)
                return;
        r->output = mfree(r->output);
        r->output_size = 0;
}

EXPORT int avm_host_run(AvmHost *host, const char *const argv[], const char *const env[], uint64_t timeout_usec,
                        size_t max_output, AvmRunResult *ret) {
        char *envp[RUN_MAX_ENV];
        int pipefd[2], status, r;
        _cleanup_free_ char *out = NULL;
        size_t n = 0;
        bool truncated = false;
        uint64_t deadline;
        pid_t pid;

        if (!argv || !argv[0] || argv[0][0] != '/') {
                avm_host_error(host, "refusing to run a program without an absolute path");
                return -EINVAL;
        }
        if (max_output == 0 || max_output > 64u * 1024u * 1024u)
                max_output = 1024u * 1024u;
        r = build_env(env, envp, RUN_MAX_ENV);
        if (r < 0)
                return r;
        out = malloc(max_output + 1);
        if (!out)
                return -ENOMEM;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;

        log_debug("%s: running %s", host->plugin->id, argv[0]);
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return r;
        }
        if (pid == 0) {
                int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                sigset_t ss;

                (void) setpgid(0, 0);
                sigemptyset(&ss);
                (void) sigprocmask(SIG_SETMASK, &ss, NULL);
                if (nullfd < 0 || dup2(nullfd, STDIN_FILENO) < 0 || dup2(pipefd[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execve(argv[0], (char *const *) argv, envp);
                fprintf(stderr, "Failed to execute %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        close(pipefd[1]);
        (void) setpgid(pid, pid); /* also here: no race with the record below */
        worker_record_run(pid);

        deadline = timeout_usec ? now_usec(CLOCK_MONOTONIC) + timeout_usec : 0;
        for (;;) {
                struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
                int wait_ms = -1;
                ssize_t k;
                char sink[4096];

                if (deadline) {
                        uint64_t now = now_usec(CLOCK_MONOTONIC);
                        if (now >= deadline) {
                                kill_group(pid);
                                (void) waitpid(pid, NULL, 0);
                                worker_clear_run();
                                close(pipefd[0]);
                                avm_host_error(host, "%s timed out", argv[0]);
                                return -ETIME;
                        }
                        wait_ms = (int) ((deadline - now) / 1000) + 1;
                }
                r = poll(&pfd, 1, wait_ms);
                if (r < 0 && errno != EINTR) {
                        r = -errno;
                        kill_group(pid);
                        (void) waitpid(pid, NULL, 0);
                        worker_clear_run();
                        close(pipefd[0]);
                        return r;
                }
                if (r <= 0)
                        continue;
                if (n < max_output)
                        k = read(pipefd[0], out + n, max_output - n);
                else
                        k = read(pipefd[0], sink, sizeof(sink));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                if (n < max_output)
                        n += (size_t) k;
                else
                        truncated = true; /* keep draining so the child never blocks */
        }
        close(pipefd[0]);

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        worker_clear_run();
                        return -errno;
                }
        worker_clear_run();
        out[n] = 0;
        *ret = (AvmRunResult){
                .exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                .output = out,
                .output_size = n,
                .truncated = truncated,
        };
        out = NULL;
        log_debug("%s: %s exited with %d", host->plugin->id, argv[0], ret->exit_status);
        return 0;
}
