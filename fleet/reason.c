/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "reason.h"

int reason_set(char *reason, size_t reason_size, int error, const char *format, ...) {
        va_list ap;

        if (reason && reason_size > 0) {
                va_start(ap, format);
                vsnprintf(reason, reason_size, format, ap);
                va_end(ap);
        }
        return -abs(error);
}
