/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers shared by the libFuzzer targets (tests/fuzz/README.md). */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'ed copy of the input with a NUL after it (and nothing else
 * allocated), so ASan sees every byte read past it. NULL on ENOMEM. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);

        if (!s)
                return NULL;
        if (size > 0)
                memcpy(s, data, size);
        s[size] = '\0';
        return s;
}

/* A property of a parser's result that must hold: a crash libFuzzer records. */
#define FUZZ_ASSERT(x)                    \
        do {                              \
                if (!(x))                 \
                        __builtin_trap(); \
        } while (0)
