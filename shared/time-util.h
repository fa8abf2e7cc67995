/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Time in µs: reading clocks, formatting and parsing spans and timestamps. */

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)

/* 0 if the clock cannot be read. */
uint64_t now_usec(clockid_t clock);

/* "0", "250us", "1.5ms", "2.000s", "1h 30min" */
void format_timespan(char *buf, size_t n, uint64_t usec);

/* Local time of a CLOCK_REALTIME µs value; "n/a" for 0 and UINT64_MAX. */
void format_timestamp(char *buf, size_t n, uint64_t usec);

/* "90", "90s", "30min", "2h", "1d", "1h 30min", "2weeks"; plain numbers are
 * seconds. -EINVAL or -ERANGE. */
int parse_timespan(const char *s, uint64_t *ret);
