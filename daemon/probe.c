/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>

#include "log.h"
#include "paths.h"
#include "probe.h"
#include "util.h"

/* Writes EICAR through a descriptor opened while the file was still empty:
 * a blocking on-access scanner sees an empty file at open, so the write is
 * not refused and the descriptor stays usable for a scan. flags: O_EXCL or
 * O_TRUNC. Returns the descriptor (at offset 0) or -errno. */
static int eicar_fd(const char *path, int flags) {
        char eicar[69];
        _cleanup_close_ int fd = -EBADF;
        size_t n;
        int ret;

        avm_eicar(eicar);
        n = strlen(eicar);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | flags, 0644);
        if (fd < 0)
                return -errno;
        if (write(fd, eicar, n) != (ssize_t) n)
                return errno > 0 ? -errno : -EIO;
        if (fsync(fd) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        ret = fd;
        fd = -EBADF; /* handed to the caller */
        return ret;
}

static int write_eicar(const char *path) {
        int fd = eicar_fd(path, O_TRUNC);

        if (fd < 0)
                return fd;
        (void) close(fd);
        return 0;
}

int probe_on_demand(AvmHost *host, const AvmPlugin *p, char *threat, size_t threat_size) {
        char dir[PATH_MAX], path[PATH_MAX + 64];
        _cleanup_close_ int fd = -EBADF;
        AvmScanResult res = {};
        int r;

        if (!p->scan_file && !p->scan_fd)
                return -EOPNOTSUPP;
        /* Outside every scope root, so the probes of on-access protection and
         * this on-demand scan do not meet. */
        if (state_path(dir, sizeof(dir), "scan") < 0 || mkdir_p(dir, 0755) < 0)
                return -EIO;
        (void) chmod(dir, 0755);
        snprintf(path, sizeof(path), "%s/eicar-%d-%" PRIu64 ".com", dir, (int) getpid(), now_usec(CLOCK_MONOTONIC));
        fd = eicar_fd(path, O_EXCL);
        if (fd < 0) {
                avm_host_error(host, "cannot write the EICAR test file %s: %s", path, strerror(-fd));
                return fd;
        }
        if (p->scan_fd)
                r = p->scan_fd(host, fd, &res);
        else
                r = p->scan_file(host, path, &res);
        (void) unlink(path);
        if (r < 0)
                return r;
        res.threat[sizeof(res.threat) - 1] = 0;
        if (threat)
                snprintf(threat, threat_size, "%s", res.threat);
        return res.detected ? 1 : 0;
}

static int probe_in_dir(const char *dir) {
        char path[PATH_MAX];
        char buf[128];
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;
        int r;

        snprintf(path, sizeof(path), "%s/eicar-probe-%d.com", dir, (int) getpid());
        r = write_eicar(path);
        if (r == -EPERM || r == -EACCES)
                return 1; /* even creating it was refused */
        if (r < 0)
                return r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                r = -errno;
                (void) unlink(path);
                return r == -EPERM || r == -EACCES ? 1 : (r == -ENOENT ? 1 : r); /* ENOENT: quarantined */
        }
        n = read(fd, buf, sizeof(buf));
        r = n < 0 ? -errno : 0;
        (void) unlink(path);
        if (r == -EPERM || r == -EACCES)
                return 1;
        if (r < 0)
                return r;
        return 0;
}

int probe_on_access(const char *probe_dir) {
        if (!probe_dir)
                return -EINVAL;
        return probe_in_dir(probe_dir);
}

void probe_set_open(ProbeSet *s, const ScopeList *roots) {
        *s = (ProbeSet){ .n = roots->n };
        for (size_t i = 0; i < roots->n; i++) {
                ProbeRoot *p = &s->roots[i];

                snprintf(p->root, sizeof(p->root), "%s", roots->path[i]);
                /* mkdtemp: 0700, root-only, a name no user file has. */
                snprintf(p->dir, sizeof(p->dir), "%s/.avmigrate-probe.XXXXXX", streq(p->root, "/") ? "" : p->root);
                if (!mkdtemp(p->dir)) {
                        p->error = -errno;
                        p->dir[0] = '\0';
                        continue;
                }
        }
}

void probe_set_run(ProbeSet *s) {
        for (size_t i = 0; i < s->n; i++) {
                ProbeRoot *p = &s->roots[i];
                struct stat st;

                if (p->dir[0])
                        p->result = probe_in_dir(p->dir);
                else if (stat(p->root, &st) < 0 && errno == ENOENT)
                        /* Gone since preflight (a package removal deleted /opt
                         * with the old product's files): nobody works there. */
                        p->result = PROBE_ABSENT;
                else
                        p->result = p->error < 0 ? p->error : -ENOENT;
        }
}

bool probe_set_all_blocked(const ProbeSet *s) {
        size_t blocked = 0;

        for (size_t i = 0; i < s->n; i++) {
                if (s->roots[i].result == 1)
                        blocked++;
                else if (s->roots[i].result != PROBE_ABSENT)
                        return false;
        }
        return blocked > 0;
}

void probe_set_close(ProbeSet *s) {
        for (size_t i = 0; i < s->n; i++)
                if (s->roots[i].dir[0]) {
                        (void) rmdir(s->roots[i].dir);
                        s->roots[i].dir[0] = '\0';
                }
}

const char *probe_result_string(int result) {
        if (result == 1)
                return "blocked";
        if (result == PROBE_ABSENT)
                return "absent";
        if (result == 0)
                return "readable";
        return "error";
}
