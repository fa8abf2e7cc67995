/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ClamAV: clamd over its unix socket (PING, VERSION, INSTREAM) and clamonacc
 * for on-access prevention over the daemon's protection scope
 * (avm_host_protected_paths(): one OnAccessIncludePath per root).
 *
 * clamd and clamonacc are managed either through their systemd units
 * (ClamdMode=systemd, ClamonaccMode=systemd, the default) or as detached
 * processes started by this plugin with a pidfile in its state directory
 * (…Mode=exec, used where there is no systemd, e.g. the bus tests).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <avmigrate/plugin.h>

#include "clamav-proto.h"
#include "plugin-util.h"


#define DEFAULT_SOCKET "/run/clamav/clamd.ctl"
#define DEFAULT_CLAMD "/usr/sbin/clamd"
#define DEFAULT_CLAMONACC "/usr/sbin/clamonacc"
#define CLAMD_UNIT "clamav-daemon.service"
#define FRESHCLAM_UNIT "clamav-freshclam.service"
#define CLAMONACC_UNIT "clamav-clamonacc.service"
#define DEFAULT_DROPIN_DIR "/etc/systemd/system/clamav-clamonacc.service.d"
#define DEFAULT_CLAMD_CONF "/etc/clamav/clamd.conf"
#define CHUNK_SIZE (64 * 1024)
#define PIDFILE_MAX 32

static const char *const packages[] = { "clamav-daemon", "clamav-freshclam", NULL };
/* Debian's ClamAV: definitions, logs, sockets, configuration. */
static const char *const own_paths[] = { "/var/lib/clamav", "/var/log/clamav", "/run/clamav", "/etc/clamav", NULL };

static bool mode_is_exec(AvmHost *host, const char *key) {
        return strcmp(plugin_cfg(host, key, "systemd"), "exec") == 0;
}

static int write_file_atomic(const char *path, const char *data, mode_t mode) {
        char tmp[PATH_MAX];
        size_t len = strlen(data);
        int fd, r = 0;

        if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp)
                return -ENAMETOOLONG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        if (write(fd, data, len) != (ssize_t) len || fsync(fd) < 0)
                r = errno ? -errno : -EIO;
        close(fd);
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r;
}

/* ---- clamd socket ---- */

static int socket_path(AvmHost *host, char *buf, size_t size) {
        const char *s = avm_host_config(host, "ClamdSocket");
        const char *conf = avm_host_config(host, "ClamdConfig");

        if (s && *s) {
                if (snprintf(buf, size, "%s", s) >= (int) size)
                        return -ENAMETOOLONG;
                return 0;
        }
        if (conf && *conf) {
                char text[64 * 1024 + 1];
                size_t n;
                int r = plugin_read_file(conf, sizeof text - 1, text, &n);
                if (r < 0) {
                        avm_host_error(host, "Cannot read ClamdConfig=%s: %s", conf, strerror(-r));
                        return r;
                }
                r = clamav_conf_get(text, n, "LocalSocket", buf, size);
                if (r == 0)
                        return 0;
                if (r != -ENOENT) {
                        avm_host_error(host, "Malformed LocalSocket line in %s", conf);
                        return -EBADMSG;
                }
        }
        snprintf(buf, size, "%s", DEFAULT_SOCKET);
        return 0;
}

static int clamd_connect(AvmHost *host, const char *path, bool quiet) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct timeval tv = { .tv_sec = (time_t) (avm_host_config_usec(host, "ClamdTimeoutSec") / USEC_PER_SEC) };
        int fd;

        if (strlen(path) >= sizeof sa.sun_path) {
                avm_host_error(host, "clamd socket path %s is too long", path);
                return -ENAMETOOLONG;
        }
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int e = errno;
                close(fd);
                if (!quiet)
                        avm_host_error(host, "clamd does not answer on %s: %s", path, strerror(e));
                return -e;
        }
        return fd;
}

static int send_all(int fd, const void *data, size_t size) {
        const char *p = data;
        while (size > 0) {
                ssize_t k = send(fd, p, size, MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? -ETIME : -errno;
                }
                p += k;
                size -= (size_t) k;
        }
        return 0;
}

/* Reads one NUL-terminated reply (bounded). */
static int recv_reply(AvmHost *host, int fd, char *buf, size_t size, size_t *ret_size) {
        size_t n = 0;

        for (;;) {
                ssize_t k = recv(fd, buf + n, size - n, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        avm_host_error(host, "No reply from clamd: %s", errno == EAGAIN ? "timed out" : strerror(errno));
                        return errno == EAGAIN ? -ETIME : -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (memchr(buf, '\0', n))
                        break;
                if (n >= size) {
                        avm_host_error(host, "Oversized reply from clamd (more than %zu bytes)", size);
                        return -EBADMSG;
                }
        }
        if (n == 0) {
                avm_host_error(host, "clamd closed the connection without a reply");
                return -EBADMSG;
        }
        *ret_size = n;
        return 0;
}

static int clamd_command(AvmHost *host, const char *sock, const char *cmd, char *reply, size_t reply_size, size_t *ret_size,
                         bool quiet) {
        _cleanup_(plugin_closep) int fd = -EBADF;
        int r;

        fd = clamd_connect(host, sock, quiet);
        if (fd < 0)
                return fd;
        r = send_all(fd, cmd, strlen(cmd) + 1); /* "zPING" + its NUL */
        if (r < 0) {
                if (!quiet)
                        avm_host_error(host, "Cannot send %s to clamd: %s", cmd + 1, strerror(-r));
                return r;
        }
        return recv_reply(host, fd, reply, reply_size, ret_size);
}

static int clamd_ping(AvmHost *host, const char *sock, bool quiet) {
        char reply[CLAMAV_REPLY_MAX];
        size_t n;
        int r;

        r = clamd_command(host, sock, "zPING", reply, sizeof reply, &n, quiet);
        if (r < 0)
                return r;
        r = clamav_parse_ping(reply, n);
        if (r < 0 && !quiet)
                avm_host_error(host, "Unexpected reply from clamd to PING");
        return r;
}

static int clamd_version(AvmHost *host, const char *sock, ClamavVersion *ret) {
        char reply[CLAMAV_REPLY_MAX];
        size_t n;
        int r;

        r = clamd_command(host, sock, "zVERSION", reply, sizeof reply, &n, false);
        if (r < 0)
                return r;
        r = clamav_parse_version(reply, n, ret);
        if (r < 0)
                avm_host_error(host, "Malformed VERSION reply from clamd");
        return r;
}

static int clamd_instream(AvmHost *host, const char *sock, int file_fd, ClamavVerdict *verdict, char *threat, size_t threat_size) {
        static const char cmd[] = "zINSTREAM";
        _cleanup_(plugin_closep) int fd = -EBADF;
        char reply[CLAMAV_REPLY_MAX];
        uint8_t *chunk;
        size_t n;
        int r;

        fd = clamd_connect(host, sock, false);
        if (fd < 0)
                return fd;
        r = send_all(fd, cmd, sizeof cmd);
        if (r < 0)
                goto send_fail;
        chunk = malloc(4 + CHUNK_SIZE);
        if (!chunk)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(file_fd, chunk + 4, CHUNK_SIZE);
                uint32_t len;
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        free(chunk);
                        avm_host_error(host, "Cannot read the file to scan: %s", strerror(-r));
                        return r;
                }
                len = (uint32_t) k;
                chunk[0] = (uint8_t) (len >> 24);
                chunk[1] = (uint8_t) (len >> 16);
                chunk[2] = (uint8_t) (len >> 8);
                chunk[3] = (uint8_t) len;
                r = send_all(fd, chunk, 4 + (size_t) k); /* k == 0: the zero-length terminator */
                if (r < 0 || k == 0)
                        break;
        }
        free(chunk);
        if (r < 0) {
                /* clamd may have closed early (size limit): read its reason. */
                if (recv_reply(host, fd, reply, sizeof reply, &n) == 0) {
                        reply[n < sizeof reply ? n : sizeof reply - 1] = '\0';
                        avm_host_error(host, "clamd refused the stream: %.200s", reply);
                        return -EIO;
                }
                goto send_fail;
        }
        r = recv_reply(host, fd, reply, sizeof reply, &n);
        if (r < 0)
                return r;
        r = clamav_parse_scan(reply, n, verdict, threat, threat_size);
        if (r == -EIO) {
                reply[n < sizeof reply ? n : sizeof reply - 1] = '\0';
                avm_host_error(host, "clamd could not scan: %.200s", reply);
        } else if (r < 0)
                avm_host_error(host, "Malformed scan reply from clamd");
        return r;

send_fail:
        avm_host_error(host, "Cannot stream to clamd: %s", strerror(-r));
        return r;
}

/* ---- detached processes (exec mode) ---- */

static int pidfile_path(AvmHost *host, const char *name, char *buf, size_t size) {
        const char *dir = avm_host_state_dir(host);
        if (!dir)
                return -ENOENT;
        if (snprintf(buf, size, "%s/%s.pid", dir, name) >= (int) size)
                return -ENAMETOOLONG;
        return 0;
}

/* Returns the pid from the pidfile if that process is alive and is `comm`, else 0. */
static pid_t pidfile_alive(AvmHost *host, const char *name) {
        char path[PATH_MAX], buf[PIDFILE_MAX + 1], procpath[64], comm[64];
        size_t n;
        char *end;
        long pid;
        int r;

        if (pidfile_path(host, name, path, sizeof path) < 0)
                return 0;
        r = plugin_read_file(path, PIDFILE_MAX, buf, &n);
        if (r < 0)
                return 0;
        errno = 0;
        pid = strtol(buf, &end, 10);
        if (errno || end == buf || (*end && *end != '\n') || pid <= 1 || pid > INT32_MAX)
                return 0;
        snprintf(procpath, sizeof procpath, "/proc/%ld/stat", pid);
        {
                char stat[512];
                char *rp;
                if (plugin_read_file(procpath, sizeof stat - 1, stat, &n) < 0)
                        return 0;
                rp = strrchr(stat, ')');
                if (!rp || rp[1] != ' ' || rp[2] == 'Z' || rp[2] == 'X')
                        return 0;
        }
        snprintf(procpath, sizeof procpath, "/proc/%ld/comm", pid);
        if (plugin_read_file(procpath, sizeof comm - 1, comm, &n) < 0)
                return 0;
        comm[strcspn(comm, "\n")] = '\0';
        if (strcmp(comm, name) != 0)
                return 0;
        return (pid_t) pid;
}

/* fork, setsid, fork, exec: the program is reparented and outlives the worker.
 * stdout/stderr go to <state>/<name>.log. Returns the program's pid. */
static int spawn_detached(AvmHost *host, const char *name, const char *const argv[]) {
        char pidpath[PATH_MAX], logpath[PATH_MAX], pidbuf[32];
        int pipefd[2];
        pid_t child, grandchild = 0;
        int status, err = 0, r;
        ssize_t k;

        r = pidfile_path(host, name, pidpath, sizeof pidpath);
        if (r < 0)
                return r;
        if (snprintf(logpath, sizeof logpath, "%s/%s.log", avm_host_state_dir(host), name) >= (int) sizeof logpath)
                return -ENAMETOOLONG;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;

        child = fork();
        if (child < 0) {
                r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return r;
        }
        if (child == 0) {
                int null, log;
                pid_t gc;

                close(pipefd[0]);
                (void) setsid();
                gc = fork();
                if (gc < 0)
                        _exit(1);
                if (gc > 0) {
                        if (write(pipefd[1], &gc, sizeof gc) < 0)
                                _exit(1); /* the parent then sees no pid and reports the failure */
                        _exit(0);
                }
                null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                log = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
                if (null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0) {
                        int e = errno;
                        if (write(pipefd[1], &e, sizeof e) < 0)
                                _exit(2);
                        _exit(1);
                }
                {
                        sigset_t ss;
                        sigemptyset(&ss);
                        sigprocmask(SIG_SETMASK, &ss, NULL);
                        for (int s = 1; s < NSIG; s++)
                                (void) signal(s, SIG_DFL);
                }
                execv(argv[0], (char *const *) argv);
                {
                        int e = errno;
                        if (write(pipefd[1], &e, sizeof e) < 0)
                                _exit(126);
                }
                _exit(127);
        }
        close(pipefd[1]);
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                ;
        k = read(pipefd[0], &grandchild, sizeof grandchild);
        if (k == (ssize_t) sizeof grandchild) {
                /* A second message means exec failed (the pipe is O_CLOEXEC). */
                k = read(pipefd[0], &err, sizeof err);
                if (k == (ssize_t) sizeof err && err != 0) {
                        close(pipefd[0]);
                        avm_host_error(host, "Cannot execute %s: %s", argv[0], strerror(err));
                        return -err;
                }
        } else {
                close(pipefd[0]);
                avm_host_error(host, "Cannot start %s", argv[0]);
                return -ECHILD;
        }
        close(pipefd[0]);
        snprintf(pidbuf, sizeof pidbuf, "%d\n", (int) grandchild);
        r = write_file_atomic(pidpath, pidbuf, 0644);
        if (r < 0) {
                (void) kill(grandchild, SIGTERM);
                avm_host_error(host, "Cannot write %s: %s", pidpath, strerror(-r));
                return r;
        }
        avm_host_log(host, LOG_INFO, "Started %s as pid %d (log %s)", argv[0], (int) grandchild, logpath);
        return (int) grandchild;
}

static int stop_detached(AvmHost *host, const char *name) {
        char path[PATH_MAX];
        pid_t pid = pidfile_alive(host, name);
        uint64_t deadline;

        if (pid > 0) {
                avm_host_log(host, LOG_INFO, "Stopping %s (pid %d)", name, (int) pid);
                if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
                        return -errno;
                deadline = plugin_now_usec() + 10 * USEC_PER_SEC;
                while (pidfile_alive(host, name) > 0) {
                        if (plugin_now_usec() > deadline) {
                                (void) kill(pid, SIGKILL);
                                plugin_sleep_usec(200000);
                                break;
                        }
                        plugin_sleep_usec(5000);
                }
                if (pidfile_alive(host, name) > 0) {
                        avm_host_error(host, "%s (pid %d) does not stop", name, (int) pid);
                        return -EBUSY;
                }
        }
        if (pidfile_path(host, name, path, sizeof path) == 0)
                (void) unlink(path);
        return 0;
}

/* ---- clamd lifecycle ---- */

static int clamd_wait(AvmHost *host, const char *sock, uint64_t timeout) {
        uint64_t deadline = plugin_now_usec() + timeout;

        while (clamd_ping(host, sock, true) < 0) {
                if (plugin_now_usec() > deadline) {
                        avm_host_error(host,
                                       "clamd did not answer on %s within %llu s (no signature databases? Debian's clamav-daemon.service "
                                       "only starts when /var/lib/clamav holds main and daily databases)",
                                       sock, (unsigned long long) (timeout / USEC_PER_SEC));
                        return -ETIME;
                }
                plugin_sleep_usec(50000);
        }
        return 0;
}

static int clamd_ensure(AvmHost *host, const char *sock) {
        int r;

        if (clamd_ping(host, sock, true) == 0)
                return 0;
        if (mode_is_exec(host, "ClamdMode")) {
                const char *conf = avm_host_config(host, "ClamdConfig");
                const char *argv[] = { plugin_cfg(host, "Clamd", DEFAULT_CLAMD), "--foreground", "-c", conf, NULL };

                if (!conf || conf[0] != '/') {
                        avm_host_error(host, "ClamdMode=exec needs an absolute ClamdConfig= in [Product clamav]");
                        return -EINVAL;
                }
                if (pidfile_alive(host, "clamd") == 0) {
                        r = spawn_detached(host, "clamd", argv);
                        if (r < 0)
                                return r;
                }
        } else {
                (void) avm_host_unit_control(host, FRESHCLAM_UNIT, "enable");
                (void) avm_host_unit_control(host, FRESHCLAM_UNIT, "start");
                r = avm_host_unit_control(host, CLAMD_UNIT, "enable");
                if (r < 0)
                        return r;
                r = avm_host_unit_control(host, CLAMD_UNIT, "start");
                if (r < 0)
                        return r;
        }
        return clamd_wait(host, sock, avm_host_config_usec(host, "ClamdStartTimeoutSec"));
}

/* ---- clamonacc ---- */

static int onacc_conf_path(AvmHost *host, char *buf, size_t size) {
        const char *dir = avm_host_state_dir(host);
        if (!dir)
                return -ENOENT;
        if (snprintf(buf, size, "%s/clamonacc.conf", dir) >= (int) size)
                return -ENAMETOOLONG;
        return 0;
}

/* clamonacc insists on excluding some user: the one clamd runs as. */
static void onacc_exclusion(AvmHost *host, char *uname, size_t size) {
        const char *excl = avm_host_config(host, "ClamonaccExcludeUser");
        const char *conf = avm_host_config(host, "ClamdConfig");

        uname[0] = '\0';
        if (excl && *excl) {
                snprintf(uname, size, "%s", excl);
                return;
        }
        if (mode_is_exec(host, "ClamdMode") && conf) {
                char text[64 * 1024 + 1];
                size_t n;
                if (plugin_read_file(conf, sizeof text - 1, text, &n) == 0 && clamav_conf_get(text, n, "User", uname, size) == 0)
                        return;
                uname[0] = '\0';
                return; /* clamd runs as root here; --fdpass keeps it from opening files itself */
        }
        if (getpwnam("clamav"))
                snprintf(uname, size, "clamav");
}

/* clamd's configuration: ClamdConfig= (exec mode) or Debian's. */
static const char *clamd_conf_path(AvmHost *host) {
        const char *conf = avm_host_config(host, "ClamdConfig");
        return conf && *conf ? conf : DEFAULT_CLAMD_CONF;
}

/* clamd's TemporaryDirectory, which clamonacc never watches; "" if unset. */
static void clamd_tmpdir(AvmHost *host, char *buf, size_t size) {
        char text[64 * 1024 + 1];
        size_t n;

        buf[0] = '\0';
        if (plugin_read_file(clamd_conf_path(host), sizeof text - 1, text, &n) < 0 ||
            clamav_conf_get(text, n, "TemporaryDirectory", buf, size) < 0)
                buf[0] = '\0';
}

static int onacc_write_conf(AvmHost *host, const char *sock, char *path, size_t path_size) {
        const char *const *include = avm_host_protected_paths(host);
        char excl[64], tmp[PATH_MAX], text[64 * 1024], old[64 * 1024 + 1];
        ClamavOnaccSpec spec;
        size_t n;
        int r;

        if (!include[0]) {
                avm_host_error(host, "No protection scope given (ProtectedPaths= resolved to nothing)");
                return -ENOENT;
        }
        for (size_t i = 0; include[i]; i++) {
                const char *why = clamav_cannot_protect(include[i], NULL);
                if (why) {
                        avm_host_error(host, "Cannot protect %s: %s", include[i], why);
                        return -EOPNOTSUPP;
                }
        }
        onacc_exclusion(host, excl, sizeof excl);
        clamd_tmpdir(host, tmp, sizeof tmp);
        /* clamonacc leaves out "clamd's temporary directory", which without
         * TemporaryDirectory= it takes to be /tmp (inotif.c): name one outside
         * every scope instead. clamd itself, unconfigured, still uses /tmp, as
         * the clamav user that clamonacc excludes. */
        if (!tmp[0] && avm_host_state_dir(host))
                snprintf(tmp, sizeof tmp, "%s/no-temporary-directory", avm_host_state_dir(host));
        /* Without a clamd user to exclude, exclude "nobody" (65534): clamonacc requires some exclusion. */
        spec = (ClamavOnaccSpec){
                .socket_path = sock,
                .include = include,
                .exclude = avm_host_excluded_paths(host),
                .temporary_dir = tmp[0] ? tmp : NULL,
                .exclude_uname = excl[0] ? excl : NULL,
                .exclude_uid = 65534,
        };
        r = clamav_onacc_config(text, sizeof text, &spec);
        if (r < 0) {
                avm_host_error(host, "Cannot generate the clamonacc configuration (bad socket, scope path or user)");
                return r;
        }
        r = onacc_conf_path(host, path, path_size);
        if (r < 0)
                return r;
        /* Unchanged: keep it, so nothing needs reloading inside the gap. */
        if (plugin_read_file(path, sizeof old - 1, old, &n) == 0 && n == strlen(text) && memcmp(old, text, n) == 0)
                return 0;
        r = write_file_atomic(path, text, 0644);
        if (r < 0)
                avm_host_error(host, "Cannot write %s: %s", path, strerror(-r));
        return r;
}

/* clamonacc has placed its fanotify marks once its fanotify fd lists one in fdinfo. */
static bool pid_has_fanotify_marks(pid_t pid) {
        char dir[64];
        DIR *d;
        struct dirent *de;
        bool found = false;

        snprintf(dir, sizeof dir, "/proc/%d/fdinfo", (int) pid);
        d = opendir(dir);
        if (!d)
                return false;
        while (!found && (de = readdir(d))) {
                char path[128], text[16 * 1024 + 1];
                size_t n;

                if (de->d_name[0] == '.')
                        continue;
                if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int) sizeof path)
                        continue;
                if (plugin_read_file(path, sizeof text - 1, text, &n) < 0)
                        continue;
                if (strstr(text, "fanotify ino:") || strstr(text, "fanotify mnt_id:"))
                        found = true;
        }
        closedir(d);
        return found;
}

static int onacc_wait_ready(AvmHost *host, pid_t pid) {
        uint64_t deadline = plugin_now_usec() + avm_host_config_usec(host, "ClamonaccStartTimeoutSec");

        /* Polled finely: this wait is inside the handover gap. */
        while (!pid_has_fanotify_marks(pid)) {
                if (kill(pid, 0) < 0 || pidfile_alive(host, "clamonacc") != pid) {
                        avm_host_error(host, "clamonacc exited during start-up; see %s/clamonacc.log", avm_host_state_dir(host));
                        return -ESRCH;
                }
                if (plugin_now_usec() > deadline) {
                        avm_host_error(host, "clamonacc did not place its fanotify marks in time");
                        return -ETIME;
                }
                plugin_sleep_usec(2000);
        }
        return 0;
}

static int onacc_dropin(AvmHost *host, const char *conf) {
        const char *dir = plugin_cfg(host, "ClamonaccDropInDir", DEFAULT_DROPIN_DIR);
        const char *bin = plugin_cfg(host, "Clamonacc", DEFAULT_CLAMONACC);
        char path[PATH_MAX], text[PATH_MAX * 3], old[PATH_MAX * 3 + 1];
        size_t n;
        int r;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                r = -errno;
                avm_host_error(host, "Cannot create %s: %s", dir, strerror(-r));
                return r;
        }
        if (!clamav_conf_value_ok(bin) || snprintf(path, sizeof path, "%s/50-avmigrate.conf", dir) >= (int) sizeof path)
                return -EINVAL;
        snprintf(text, sizeof text,
                 "# Generated by avmigrate: clamonacc with prevention over avmigrate's protection scope.\n"
                 "[Service]\n"
                 "ExecStart=\n"
                 "ExecStart=%s -F --fdpass --config-file=%s\n",
                 bin, conf);
        /* Unchanged: no daemon-reload (it would land inside the handover gap). */
        if (plugin_read_file(path, sizeof old - 1, old, &n) == 0 && n == strlen(text) && memcmp(old, text, n) == 0)
                return 0;
        r = write_file_atomic(path, text, 0644);
        if (r < 0) {
                avm_host_error(host, "Cannot write %s: %s", path, strerror(-r));
                return r;
        }
        return avm_host_unit_control(host, NULL, "daemon-reload");
}

static int onacc_running(AvmHost *host) {
        if (mode_is_exec(host, "ClamonaccMode"))
                return pidfile_alive(host, "clamonacc") > 0;
        return avm_host_unit_is_active(host, CLAMONACC_UNIT);
}

static int onacc_start(AvmHost *host, const char *sock) {
        char conf[PATH_MAX];
        int r;

        r = onacc_write_conf(host, sock, conf, sizeof conf);
        if (r < 0)
                return r;
        if (mode_is_exec(host, "ClamonaccMode")) {
                char confarg[PATH_MAX + 16];
                const char *argv[] = { plugin_cfg(host, "Clamonacc", DEFAULT_CLAMONACC), "--foreground", "--fdpass", confarg, NULL };
                pid_t pid;

                snprintf(confarg, sizeof confarg, "--config-file=%s", conf);
                /* restart so the freshly written configuration is used */
                r = stop_detached(host, "clamonacc");
                if (r < 0)
                        return r;
                r = spawn_detached(host, "clamonacc", argv);
                if (r < 0)
                        return r;
                pid = (pid_t) r;
                return onacc_wait_ready(host, pid);
        }
        r = onacc_dropin(host, conf);
        if (r < 0)
                return r;
        /* Enabled too, so on-access protection comes back after a reboot. */
        r = avm_host_unit_control(host, CLAMONACC_UNIT, "enable");
        if (r < 0)
                return r;
        return avm_host_unit_control(host, CLAMONACC_UNIT, "restart");
}

static int onacc_stop(AvmHost *host) {
        if (mode_is_exec(host, "ClamonaccMode"))
                return stop_detached(host, "clamonacc");
        (void) avm_host_unit_control(host, CLAMONACC_UNIT, "disable");
        return avm_host_unit_control(host, CLAMONACC_UNIT, "stop");
}

/* ---- operations ---- */

static int clamav_detect(AvmHost *host, AvmDetection *ret) {
        int r;

        *ret = (AvmDetection){ 0 };
        r = avm_host_package_query(host, "clamav-daemon", ret->version, sizeof ret->version);
        if (r < 0)
                return r;
        ret->installed = r > 0;
        return 0;
}

static int clamav_status(AvmHost *host, AvmStatus *ret) {
        char sock[PATH_MAX];
        ClamavVersion v;
        int r, onacc;

        *ret = (AvmStatus){ .definitions_age_sec = -1 };
        r = socket_path(host, sock, sizeof sock);
        if (r < 0)
                return r;
        if (clamd_ping(host, sock, true) < 0) {
                snprintf(ret->detail, sizeof ret->detail, "clamd does not answer on %.200s", sock);
                return 0;
        }
        ret->running = true;
        r = clamd_version(host, sock, &v);
        if (r < 0)
                return r;
        if (v.db_time != (time_t) -1)
                ret->definitions_age_sec = plugin_age_sec(v.db_time);
        onacc = onacc_running(host);
        if (onacc < 0)
                return onacc;
        ret->realtime = onacc > 0;
        ret->passive = !ret->realtime;
        ret->healthy = true;
        if (plugin_definitions_too_old(host, ret->definitions_age_sec))
                ret->healthy = false;
        snprintf(ret->detail, sizeof ret->detail, "ClamAV %s, database %u%s, on-access %s", v.version, v.db_version,
                 v.db_version ? "" : " (custom signatures only)", ret->realtime ? "on (clamonacc)" : "off");
        return 0;
}

static int clamav_install(AvmHost *host) {
        char sock[PATH_MAX];
        const char *art = avm_host_artifact(host);
        int r;

        avm_host_progress(host, 10, "Installing ClamAV packages");
        r = avm_host_package_install(host, art ? NULL : packages, art);
        if (r < 0)
                return r;
        if (art) {
                r = avm_host_package_install(host, packages, NULL);
                if (r < 0)
                        return r;
        }
        avm_host_progress(host, 60, "Starting clamd");
        r = socket_path(host, sock, sizeof sock);
        if (r < 0)
                return r;
        r = clamd_ensure(host, sock);
        if (r < 0)
                return r;
        /* Installed passive: on-access stays off until the handover. */
        avm_host_progress(host, 90, "Keeping on-access scanning off");
        return onacc_stop(host);
}

static int clamav_set_realtime(AvmHost *host, bool enable) {
        char sock[PATH_MAX];
        int r;

        r = socket_path(host, sock, sizeof sock);
        if (r < 0)
                return r;
        if (!enable) {
                r = onacc_stop(host);
                if (r < 0)
                        return r;
                if (onacc_running(host) > 0) {
                        avm_host_error(host, "clamonacc is still running after stop");
                        return -EBUSY;
                }
                return 0;
        }
        r = clamd_ensure(host, sock);
        if (r < 0)
                return r;
        r = onacc_start(host, sock);
        if (r < 0)
                return r;
        r = onacc_running(host);
        if (r < 0)
                return r;
        if (r == 0) {
                avm_host_error(host, "clamonacc is not running after start");
                return -ESRCH;
        }
        return 0;
}

/* Before the gap: clamd up with its database, clamonacc's configuration and
 * unit drop-in written, systemd reloaded. set_realtime(true) then only
 * starts clamonacc. */
static int clamav_prepare_realtime(AvmHost *host) {
        char sock[PATH_MAX], conf[PATH_MAX];
        int r;

        r = socket_path(host, sock, sizeof sock);
        if (r < 0)
                return r;
        r = clamd_ensure(host, sock);
        if (r < 0)
                return r;
        r = onacc_write_conf(host, sock, conf, sizeof conf);
        if (r < 0)
                return r;
        if (!mode_is_exec(host, "ClamonaccMode"))
                return onacc_dropin(host, conf);
        return 0;
}

static int clamav_can_protect(AvmHost *host, const char *path) {
        char tmp[PATH_MAX];
        const char *why;

        clamd_tmpdir(host, tmp, sizeof tmp);
        why = clamav_cannot_protect(path, tmp[0] ? tmp : NULL);
        if (why) {
                avm_host_error(host, "ClamAV cannot protect %s: %s", path, why);
                return -EOPNOTSUPP;
        }
        return 0;
}

/* The scope of the configuration clamonacc runs with: ours once we wrote
 * it, else Debian's clamd.conf (which clamav-clamonacc.service reads). */
static int clamav_scope(AvmHost *host, AvmScope *ret) {
        char path[PATH_MAX], text[64 * 1024 + 1];
        const char *src;
        size_t n;
        int r;

        *ret = (AvmScope){ 0 };
        if (onacc_conf_path(host, path, sizeof path) == 0 && access(path, F_OK) == 0)
                src = path;
        else
                src = clamd_conf_path(host);
        r = plugin_read_file(src, sizeof text - 1, text, &n);
        if (r == -ENOENT)
                return 0; /* not configured: unknown */
        if (r < 0) {
                avm_host_error(host, "Cannot read %s: %s", src, strerror(-r));
                return r;
        }
        r = clamav_conf_scope(text, n, ret);
        if (r < 0) {
                avm_host_error(host, "Malformed OnAccessIncludePath/OnAccessExcludePath in %s", src);
                return r;
        }
        snprintf(ret->source, sizeof ret->source, "%s", src);
        return 0;
}

static int clamav_uninstall(AvmHost *host) {
        const char *dir = plugin_cfg(host, "ClamonaccDropInDir", DEFAULT_DROPIN_DIR);
        char path[PATH_MAX];
        int r;

        r = onacc_stop(host);
        if (r < 0)
                return r;
        if (mode_is_exec(host, "ClamdMode")) {
                r = stop_detached(host, "clamd");
                if (r < 0)
                        return r;
        } else {
                (void) avm_host_unit_control(host, CLAMD_UNIT, "stop");
                (void) avm_host_unit_control(host, FRESHCLAM_UNIT, "stop");
        }
        if (!mode_is_exec(host, "ClamonaccMode") &&
            snprintf(path, sizeof path, "%s/50-avmigrate.conf", dir) < (int) sizeof path && unlink(path) == 0)
                (void) avm_host_unit_control(host, NULL, "daemon-reload");
        r = avm_host_package_remove(host, packages, true);
        if (r < 0)
                return r;
        for (size_t i = 0; packages[i]; i++) {
                r = avm_host_package_query(host, packages[i], NULL, 0);
                if (r < 0)
                        return r;
                if (r > 0) {
                        avm_host_error(host, "Package %s is still installed", packages[i]);
                        return -EBUSY;
                }
        }
        return 0;
}

/* The daemon's probe descriptor: clamd reads the content over INSTREAM, so
 * another product's on-access denial of open() does not matter. */
static int clamav_scan_fd(AvmHost *host, int fd, AvmScanResult *ret) {
        ClamavVerdict verdict;
        char sock[PATH_MAX];
        int r;

        *ret = (AvmScanResult){ 0 };
        r = socket_path(host, sock, sizeof sock);
        if (r < 0)
                return r;
        r = clamd_instream(host, sock, fd, &verdict, ret->threat, sizeof ret->threat);
        if (r < 0)
                return r;
        ret->detected = verdict == CLAMAV_FOUND;
        return 0;
}

static int clamav_scan_file(AvmHost *host, const char *path, AvmScanResult *ret) {
        _cleanup_(plugin_closep) int fd = -EBADF;
        int r;

        *ret = (AvmScanResult){ 0 };
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0) {
                r = -errno;
                avm_host_error(host, "Cannot open %s to scan it: %s%s", path, strerror(-r),
                               r == -EPERM || r == -EACCES ? " (is on-access prevention blocking it?)" : "");
                return r;
        }
        return clamav_scan_fd(host, fd, ret);
}

/* The keys of [Product clamav] (plugin.h: validated before anything runs). */
static const AvmConfigKey config_keys[] = {
        { "ClamdSocket", AVM_CONFIG_PATH, NULL, 0, 0, NULL }, /* default: LocalSocket of ClamdConfig, else DEFAULT_SOCKET */
        { "ClamdConfig", AVM_CONFIG_PATH, NULL, 0, 0, NULL }, /* required with ClamdMode=exec */
        { "ClamdMode", AVM_CONFIG_ENUM, "systemd", 0, 0, "systemd|exec" },
        { "ClamonaccMode", AVM_CONFIG_ENUM, "systemd", 0, 0, "systemd|exec" },
        { "Clamd", AVM_CONFIG_PATH, DEFAULT_CLAMD, 0, 0, NULL },
        { "Clamonacc", AVM_CONFIG_PATH, DEFAULT_CLAMONACC, 0, 0, NULL },
        { "ClamonaccDropInDir", AVM_CONFIG_PATH, DEFAULT_DROPIN_DIR, 0, 0, NULL },
        { "ClamonaccExcludeUser", AVM_CONFIG_STRING, NULL, 0, 0, NULL }, /* default: the user clamd runs as */
        { "ClamdTimeoutSec", AVM_CONFIG_SECONDS, "30", 1, 3600, NULL },
        { "ClamdStartTimeoutSec", AVM_CONFIG_SECONDS, "120", 1, 3600, NULL },
        { "ClamonaccStartTimeoutSec", AVM_CONFIG_SECONDS, "30", 1, 3600, NULL },
        {},
};

__attribute__((visibility("default"))) const AvmPlugin avm_plugin = {
        .api_version = AVM_PLUGIN_API_VERSION,
        .struct_size = sizeof(AvmPlugin),
        .id = "clamav",
        .vendor = "Cisco Talos",
        .product = "ClamAV",
        .capabilities = AVM_CAP_ON_ACCESS | AVM_CAP_BLOCKING_FANOTIFY | AVM_CAP_INSTALL | AVM_CAP_UNINSTALL,
        .detect = clamav_detect,
        .status = clamav_status,
        .install = clamav_install,
        .set_realtime = clamav_set_realtime,
        .uninstall = clamav_uninstall,
        .scan_file = clamav_scan_file,
        .scope = clamav_scope,
        .can_protect = clamav_can_protect,
        .prepare_realtime = clamav_prepare_realtime,
        .own_paths = own_paths,
        .scan_fd = clamav_scan_fd,
        .config_keys = config_keys,
};
