/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

int stat_trusted(const struct stat *st, char *why, size_t why_size) {
        if (!S_ISREG(st->st_mode)) {
                snprintf(why, why_size, "not a regular file");
                return -EPERM;
        }
        /* Root-owned, or owned by the user the daemon runs as (tests run it
         * unprivileged against their own build tree). */
        if (st->st_uid != 0 && st->st_uid != geteuid()) {
                snprintf(why, why_size, "owned by uid %u, not root", (unsigned) st->st_uid);
                return -EPERM;
        }
        if (st->st_mode & (S_IWGRP | S_IWOTH)) {
                snprintf(why, why_size, "writable by group or others (mode %04o)", (unsigned) (st->st_mode & 07777));
                return -EPERM;
        }
        return 0;
}

static int read_fd_bounded(int fd, size_t max, char **ret, size_t *ret_size);

int read_file_trusted(const char *path, size_t max, char **ret, size_t *ret_size, char *why, size_t why_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        int r;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        r = stat_trusted(&st, why, why_size);
        if (r < 0)
                return r;
        return read_fd_bounded(fd, max, ret, ret_size);
}

int read_file_bounded(const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return -errno;
        return read_fd_bounded(fd, max, ret, ret_size);
}

static int read_fd_bounded(int fd, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;

        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;

        for (;;) {
                ssize_t k;

                if (n > max)
                        return -EFBIG;
                k = read(fd, buf + n, max + 1 - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > max)
                        return -EFBIG;
        }

        buf[n] = 0;
        *ret = buf;
        buf = NULL;
        if (ret_size)
                *ret_size = n;
        return 0;
}

static int fsync_parent(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int dfd = -EBADF;

        if (!copy)
                return -ENOMEM;
        dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (fsync(dfd) < 0)
                return -errno;
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode) {
        char tmp[4096];
        _cleanup_close_ int fd = -EBADF;
        const char *p = data;
        int r;

        r = snprintf(tmp, sizeof(tmp), "%s.tmp.%" PRIu64, path, now_usec(CLOCK_MONOTONIC));
        if (r < 0 || (size_t) r >= sizeof(tmp))
                return -ENAMETOOLONG;

        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;

        while (size > 0) {
                ssize_t k = write(fd, p, size);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto fail;
                }
                p += k;
                size -= (size_t) k;
        }
        if (fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto fail;
        }
        return fsync_parent(path);

fail:
        (void) unlink(tmp);
        return r;
}

int append_line_durable(const char *path, const char *line) {
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(line);
        _cleanup_free_ char *buf = malloc(len + 2);

        if (!buf)
                return -ENOMEM;
        memcpy(buf, line, len);
        buf[len++] = '\n';

        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        /* One write() of the whole line so a crash never leaves half a record
         * interleaved with another; readers skip a torn last line. */
        if (write(fd, buf, len) != (ssize_t) len)
                return errno > 0 ? -errno : -EIO;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

int mkdir_p(const char *path, mode_t mode) {
        char buf[4096];
        size_t len = strlen(path);

        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, path, len + 1);
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int parse_boolean(const char *v) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        if (!v)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(v, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(v, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

int parse_sec(const char *v, uint64_t *ret) {
        uint64_t whole = 0, frac = 0, scale = USEC_PER_SEC;
        const char *dot;
        char intpart[32];
        int r;

        if (isempty(v))
                return -EINVAL;
        dot = strchr(v, '.');
        if (!dot)
                r = parse_uint64(v, &whole);
        else {
                size_t n = (size_t) (dot - v);
                if (n == 0 || n >= sizeof(intpart))
                        return -EINVAL;
                memcpy(intpart, v, n);
                intpart[n] = 0;
                r = parse_uint64(intpart, &whole);
                if (r < 0)
                        return r;
                if (!dot[1])
                        return -EINVAL;
                for (const char *p = dot + 1; *p; p++) {
                        if (*p < '0' || *p > '9')
                                return -EINVAL;
                        if (scale > 1) {
                                scale /= 10;
                                frac += (uint64_t) (*p - '0') * scale;
                        }
                }
        }
        if (r < 0)
                return r;
        if (whole > UINT64_MAX / USEC_PER_SEC - 1)
                return -ERANGE;
        *ret = whole * USEC_PER_SEC + frac;
        return 0;
}

const char *env_dir(const char *name, const char *fallback, char *buf, size_t size) {
        const char *e = getenv(name);
        size_t n;

        if (isempty(e))
                return fallback;
        /* systemd passes several colon-separated paths when several are configured. */
        n = strcspn(e, ":");
        if (n == 0 || n >= size)
                return fallback;
        memcpy(buf, e, n);
        buf[n] = 0;
        return buf;
}

bool string_is_safe_id(const char *s) {
        size_t n = 0;

        if (isempty(s))
                return false;
        for (; *s; s++, n++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
                        return false;
        return n < 64;
}
