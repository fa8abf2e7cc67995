/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "parse-util.h"

int parse_uint64(const char *v, uint64_t *ret) {
        char *end = NULL;
        unsigned long long u;

        /* strtoull() would skip white space and accept a sign (and wrap "-1"). */
        if (!v || !isdigit((unsigned char) *v))
                return -EINVAL;
        errno = 0;
        u = strtoull(v, &end, 10);
        if (errno != 0)
                return -errno;
        if (*end)
                return -EINVAL;
        *ret = (uint64_t) u;
        return 0;
}
