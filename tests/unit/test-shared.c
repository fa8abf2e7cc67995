/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of libavm_shared (shared/): parsing and formatting of time
 * spans, parse_uint64(). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "parse-util.h"
#include "time-util.h"

#include "avm-test.h"

static bool timespan_is(const char *s, uint64_t want) {
        uint64_t u = 0;

        return parse_timespan(s, &u) == 0 && u == want;
}

static void test_parse_timespan(void) {
        uint64_t u;

        CHECK(timespan_is("90", 90 * USEC_PER_SEC));
        CHECK(timespan_is("90s", 90 * USEC_PER_SEC));
        CHECK(timespan_is("30min", 30 * 60 * USEC_PER_SEC));
        CHECK(timespan_is("2h", 2 * 3600 * USEC_PER_SEC));
        CHECK(timespan_is("1d", 86400 * USEC_PER_SEC));
        CHECK(timespan_is("1h 30min", 5400 * USEC_PER_SEC));
        CHECK(timespan_is("1 h 30 m", 5400 * USEC_PER_SEC));
        CHECK(timespan_is("2weeks", 14 * 86400 * USEC_PER_SEC));
        CHECK(timespan_is("250ms", 250 * USEC_PER_MSEC));
        CHECK(timespan_is("7\xc2\xb5s", 7));
        CHECK(parse_timespan("", &u) == -EINVAL);
        CHECK(parse_timespan("  ", &u) == -EINVAL);
        CHECK(parse_timespan("h", &u) == -EINVAL);
        CHECK(parse_timespan("-5s", &u) == -EINVAL);
        CHECK(parse_timespan("1.5h", &u) == -EINVAL);
        CHECK(parse_timespan("5 fortnights", &u) == -EINVAL);
        CHECK(parse_timespan("99999999999999999999", &u) == -ERANGE);
        CHECK(parse_timespan("999999999999w", &u) == -ERANGE);
}

static bool formats_as(uint64_t usec, const char *want) {
        char buf[64];

        format_timespan(buf, sizeof(buf), usec);
        return strcmp(buf, want) == 0;
}

static void test_format_timespan(void) {
        char small[4];

        CHECK(formats_as(0, "0"));
        CHECK(formats_as(500, "500us"));
        CHECK(formats_as(1500, "1.5ms"));
        CHECK(formats_as(2 * USEC_PER_SEC, "2.000s"));
        CHECK(formats_as(5400 * USEC_PER_SEC, "1h 30min"));
        CHECK(formats_as(86400 * USEC_PER_SEC + 61 * USEC_PER_SEC, "1d 1min 1s"));
        /* Bounded by the buffer, never past it. */
        format_timespan(small, sizeof(small), 5400 * USEC_PER_SEC);
        CHECK(strlen(small) < sizeof(small));
}

static void test_format_timestamp(void) {
        char buf[128];

        format_timestamp(buf, sizeof(buf), 0);
        CHECK(strcmp(buf, "n/a") == 0);
        format_timestamp(buf, sizeof(buf), UINT64_MAX);
        CHECK(strcmp(buf, "n/a") == 0);
        format_timestamp(buf, sizeof(buf), 1700000000 * USEC_PER_SEC);
        CHECK(strstr(buf, "2023-11-") != NULL);
}

static void test_parse_uint64(void) {
        uint64_t u = 0;

        CHECK(parse_uint64("0", &u) == 0 && u == 0);
        CHECK(parse_uint64("42", &u) == 0 && u == 42);
        CHECK(parse_uint64("18446744073709551615", &u) == 0 && u == UINT64_MAX);
        CHECK(parse_uint64("18446744073709551616", &u) == -ERANGE);
        CHECK(parse_uint64(NULL, &u) == -EINVAL);
        CHECK(parse_uint64("", &u) == -EINVAL);
        CHECK(parse_uint64(" 1", &u) == -EINVAL);
        CHECK(parse_uint64("\t1", &u) == -EINVAL);
        CHECK(parse_uint64("-1", &u) == -EINVAL);
        CHECK(parse_uint64("+1", &u) == -EINVAL);
        CHECK(parse_uint64("1x", &u) == -EINVAL);
        CHECK(parse_uint64("1 ", &u) == -EINVAL);
}

static void test_now_usec(void) {
        uint64_t a = now_usec(CLOCK_MONOTONIC), b = now_usec(CLOCK_MONOTONIC);

        CHECK(a > 0 && b >= a);
        CHECK(now_usec(CLOCK_REALTIME) > 1700000000 * USEC_PER_SEC);
}

int main(void) {
        test_parse_timespan();
        test_format_timespan();
        test_format_timestamp();
        test_parse_uint64();
        test_now_usec();
        return avm_test_finish();
}
