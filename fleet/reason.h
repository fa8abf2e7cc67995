/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Writes a human-readable reason (if reason is not NULL) and returns -abs(error),
 * so a refusal is one line: return reason_set(reason, size, EBADMSG, "…"); */
int reason_set(char *reason, size_t reason_size, int error, const char *format, ...) __attribute__((format(printf, 4, 5)));
