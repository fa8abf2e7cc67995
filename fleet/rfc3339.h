/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Timestamps in the manifest: RFC 3339 in UTC with seconds and a literal "Z"
 * ("2026-12-01T18:00:00Z"), nothing else. One spelling per instant keeps
 * signed documents unambiguous and comparisons trivial. Times are µs since
 * the epoch, as sd-event's CLOCK_REALTIME. */

#define RFC3339_LEN 20 /* "YYYY-MM-DDTHH:MM:SSZ" */

/* 0, or -EINVAL if s is not exactly that form or names no real instant
 * (February 30th, 25:00). */
int rfc3339_parse(const char *s, uint64_t *ret_usec);

/* Writes the form above into buf (at least RFC3339_LEN + 1 bytes). */
const char *rfc3339_format(uint64_t usec, char *buf, size_t size);
