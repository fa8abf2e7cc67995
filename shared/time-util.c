/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "time-util.h"

uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        if (clock_gettime(clock, &ts) < 0)
                return 0;
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

void format_timespan(char *buf, size_t n, uint64_t usec) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } table[] = {
                { "d", 24ULL * 3600ULL * USEC_PER_SEC },
                { "h", 3600ULL * USEC_PER_SEC },
                { "min", 60ULL * USEC_PER_SEC },
                { "s", USEC_PER_SEC },
        };
        size_t l = 0;

        if (usec == 0) {
                snprintf(buf, n, "0");
                return;
        }
        if (usec < USEC_PER_MSEC) {
                snprintf(buf, n, "%" PRIu64 "us", usec);
                return;
        }
        if (usec < USEC_PER_SEC) {
                snprintf(buf, n, "%.1fms", (double) usec / (double) USEC_PER_MSEC);
                return;
        }
        if (usec < 60 * USEC_PER_SEC) {
                snprintf(buf, n, "%.3fs", (double) usec / (double) USEC_PER_SEC);
                return;
        }

        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(table) && l + 1 < n; i++) {
                uint64_t k = usec / table[i].usec;
                int w;

                if (k == 0)
                        continue;
                usec -= k * table[i].usec;
                w = snprintf(buf + l, n - l, "%s%" PRIu64 "%s", l > 0 ? " " : "", k, table[i].suffix);
                if (w < 0 || (size_t) w >= n - l)
                        break;
                l += (size_t) w;
        }
}

void format_timestamp(char *buf, size_t n, uint64_t usec) {
        time_t t;
        struct tm tm;

        if (usec == 0 || usec == UINT64_MAX) {
                snprintf(buf, n, "n/a");
                return;
        }
        t = (time_t) (usec / USEC_PER_SEC);
        if (!localtime_r(&t, &tm) || strftime(buf, n, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, n, "@%" PRIu64, usec);
}

/* Units as in systemd.time(7); plain numbers are seconds. No fractions:
 * nobody postpones by 1.5h, and integers cannot round. */
int parse_timespan(const char *s, uint64_t *ret) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                { "us", 1 },
                { "usec", 1 },
                { "\xc2\xb5s", 1 },
                { "ms", USEC_PER_MSEC },
                { "msec", USEC_PER_MSEC },
                { "s", USEC_PER_SEC },
                { "sec", USEC_PER_SEC },
                { "second", USEC_PER_SEC },
                { "seconds", USEC_PER_SEC },
                { "m", 60 * USEC_PER_SEC },
                { "min", 60 * USEC_PER_SEC },
                { "minute", 60 * USEC_PER_SEC },
                { "minutes", 60 * USEC_PER_SEC },
                { "h", 3600 * USEC_PER_SEC },
                { "hr", 3600 * USEC_PER_SEC },
                { "hour", 3600 * USEC_PER_SEC },
                { "hours", 3600 * USEC_PER_SEC },
                { "d", 86400 * USEC_PER_SEC },
                { "day", 86400 * USEC_PER_SEC },
                { "days", 86400 * USEC_PER_SEC },
                { "w", 7 * 86400 * USEC_PER_SEC },
                { "week", 7 * 86400 * USEC_PER_SEC },
                { "weeks", 7 * 86400 * USEC_PER_SEC },
        };
        uint64_t total = 0;
        bool any = false;

        for (;;) {
                uint64_t mult = USEC_PER_SEC, k;
                const char *u;
                size_t ul;
                char *end;

                while (*s == ' ')
                        s++;
                if (!*s)
                        break;
                if (!isdigit((unsigned char) *s))
                        return -EINVAL;
                errno = 0;
                k = strtoull(s, &end, 10);
                if (errno != 0)
                        return -ERANGE;
                s = end;
                while (*s == ' ')
                        s++;
                u = s;
                while (*s && *s != ' ' && !isdigit((unsigned char) *s))
                        s++;
                ul = (size_t) (s - u);
                if (ul > 0) {
                        bool found = false;

                        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                                if (strlen(units[i].suffix) == ul && strncmp(units[i].suffix, u, ul) == 0) {
                                        mult = units[i].usec;
                                        found = true;
                                        break;
                                }
                        if (!found)
                                return -EINVAL;
                }
                if (k > UINT64_MAX / mult || total > UINT64_MAX - k * mult)
                        return -ERANGE;
                total += k * mult;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret = total;
        return 0;
}
