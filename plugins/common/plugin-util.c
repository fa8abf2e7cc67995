/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin-util.h"

const char *plugin_cfg(AvmHost *host, const char *key, const char *def) {
        const char *v = avm_host_config(host, key);
        return v && *v ? v : def;
}

void plugin_closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}

uint64_t plugin_now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

void plugin_sleep_usec(uint64_t usec) {
        struct timespec ts = { .tv_sec = (time_t) (usec / USEC_PER_SEC), .tv_nsec = (long) (usec % USEC_PER_SEC) * 1000 };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int plugin_run(AvmHost *host, const char *label, const char *const argv[], const char *const env[], uint64_t timeout_usec,
               size_t max_output, AvmRunResult *r) {
        int ret;

        ret = avm_host_run(host, argv, env, timeout_usec, max_output, r);
        if (ret == -ETIME && label) {
                avm_host_error(host, "%s timed out", label);
                return ret;
        }
        if (ret < 0) {
                avm_host_error(host, "Cannot run %s: %s", argv[0], strerror(-ret));
                return ret;
        }
        if (r->truncated) {
                avm_host_error(host, "%s: output larger than %zu bytes, refusing it", label ? label : argv[0], max_output);
                return -EBADMSG;
        }
        return 0;
}

int plugin_read_file(const char *path, size_t max, char *buf, size_t *ret_size) {
        _cleanup_(plugin_closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        size_t n = 0;

        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t k = read(fd, buf + n, max + 1 - n);
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
        buf[n] = '\0';
        *ret_size = n;
        return 0;
}

int plugin_fd_trusted(int fd, char *why, size_t why_size) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode)) {
                snprintf(why, why_size, "not a regular file");
                return -EPERM;
        }
        if (st.st_uid != 0 && st.st_uid != geteuid()) {
                snprintf(why, why_size, "owned by uid %u, not root", (unsigned) st.st_uid);
                return -EPERM;
        }
        if (st.st_mode & (S_IWGRP | S_IWOTH)) {
                snprintf(why, why_size, "writable by group or others (mode %04o)", (unsigned) (st.st_mode & 07777));
                return -EPERM;
        }
        return 0;
}

int64_t plugin_age_sec(time_t t) {
        time_t now = time(NULL);
        return now > t ? (int64_t) (now - t) : 0;
}

bool plugin_definitions_too_old(AvmHost *host, int64_t age_sec) {
        uint64_t max = avm_host_max_definitions_age_sec(host);
        return max > 0 && age_sec > 0 && (uint64_t) age_sec > max;
}
