/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "rfc3339.h"

#define USEC_PER_SEC UINT64_C(1000000)

const char *rfc3339_format(uint64_t usec, char *buf, size_t size) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (size == 0)
                return buf;
        if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                buf[0] = 0;
        return buf;
}

int rfc3339_parse(const char *s, uint64_t *ret_usec) {
        char again[RFC3339_LEN + 1];
        struct tm tm = {};
        const char *end;
        time_t t;

        if (!s || strlen(s) != RFC3339_LEN)
                return -EINVAL;
        end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (!end || *end)
                return -EINVAL;
        t = timegm(&tm);
        if (t < 0)
                return -EINVAL;
        /* strptime() and timegm() normalise "02-30" into March: only an
         * instant that prints back to the same text is a real one. */
        if (strcmp(rfc3339_format((uint64_t) t * USEC_PER_SEC, again, sizeof(again)), s) != 0)
                return -EINVAL;
        *ret_usec = (uint64_t) t * USEC_PER_SEC;
        return 0;
}
