/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <time.h>

/* MaintenanceWindow=: "[DAYS ]HH:MM-HH:MM", DAYS a range "Mon..Fri" or a
 * list "Sat,Sun"; an end before the start wraps past midnight. Empty means
 * always. Several windows are separated by ";". Local time. */

#define WINDOW_MAX 8

typedef struct Window {
        unsigned n;
        struct {
                unsigned days; /* bit 0 = Sunday (struct tm's tm_wday) */
                unsigned start_min, end_min;
        } spans[WINDOW_MAX];
} Window;

int window_parse(const char *s, Window *ret);
bool window_contains(const Window *w, time_t t);
