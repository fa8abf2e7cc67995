/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* MaintenanceWindow= (daemon/window.c): window_parse() of the input as a
 * string, then window_contains() at a few instants of a week. */
#include <stdlib.h>

#include "fuzz.h"
#include "window.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        setenv("TZ", "UTC", 1); /* window_contains() uses local time */
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = fuzz_strndup(data, size);
        Window w;

        if (!s)
                return 0;
        if (window_parse(s, &w) == 0) {
                FUZZ_ASSERT(w.n <= WINDOW_MAX);
                for (unsigned i = 0; i < w.n; i++)
                        FUZZ_ASSERT(w.spans[i].days != 0 && w.spans[i].days <= 0x7f && w.spans[i].start_min <= 24 * 60 &&
                                    w.spans[i].end_min <= 24 * 60);
                /* Sunday 2025-11-23 00:00 UTC, then every 7h13m across the week */
                for (time_t t = 1763856000; t < 1763856000 + 8 * 86400; t += 7 * 3600 + 13 * 60)
                        (void) window_contains(&w, t);
        }
        free(s);
        return 0;
}
