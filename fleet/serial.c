/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>

#include "serial.h"
#include "util.h"

#define SERIAL_FILE_MAX 32

int fleet_serial_load(const char *path, uint64_t *ret) {
        _cleanup_free_ char *buf = NULL;
        size_t n;
        int r;

        r = read_file_bounded(path, SERIAL_FILE_MAX, &buf, &n);
        if (r == -ENOENT) {
                *ret = 0;
                return 0;
        }
        if (r == -EFBIG)
                return -EBADMSG;
        if (r < 0)
                return r;
        if (n == 0 || buf[n - 1] != '\n')
                return -EBADMSG;
        buf[n - 1] = 0;
        return parse_uint64(buf, ret) < 0 ? -EBADMSG : 0;
}

int fleet_serial_save(const char *path, uint64_t serial) {
        char buf[SERIAL_FILE_MAX];
        int n;

        n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", serial);
        return write_file_atomic(path, buf, (size_t) n, 0644);
}
