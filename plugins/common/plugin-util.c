/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin-util.h"

const char *plugin_cfg(AvmHost *host, const char *key, const char *def) {
        const char *v = avm_host_config(host, key);
        return v && *v ? v : def;
}

int plugin_cfg_seconds(AvmHost *host, const char *key, unsigned long min_sec, unsigned long max_sec, bool lenient,
                       unsigned long *ret) {
        const char *v = avm_host_config(host, key);
        char *end;
        unsigned long s;

        if (!v || !*v)
                return -ENOENT;
        errno = 0;
        s = strtoul(v, &end, 10);
        if (errno || (!lenient && *end) || s < min_sec || s > max_sec)
                return -EINVAL;
        *ret = s;
        return 0;
}

uint64_t plugin_cfg_usec(AvmHost *host, const char *key, unsigned def_sec, unsigned long min_sec, unsigned long max_sec,
                         bool lenient) {
        unsigned long s;

        if (plugin_cfg_seconds(host, key, min_sec, max_sec, lenient, &s) < 0)
                return def_sec * PLUGIN_USEC_PER_SEC;
        return s * PLUGIN_USEC_PER_SEC;
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

static void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}

int plugin_read_file(const char *path, size_t max, char *buf, size_t *ret_size) {
        __attribute__((cleanup(closep))) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
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

int64_t plugin_age_sec(time_t t) {
        time_t now = time(NULL);
        return now > t ? (int64_t) (now - t) : 0;
}

bool plugin_definitions_too_old(AvmHost *host, int64_t age_sec) {
        const char *ma = avm_host_config(host, "MaxDefinitionsAgeDays");
        long days = ma ? strtol(ma, NULL, 10) : 7;
        return days > 0 && age_sec > (int64_t) days * 86400;
}
