/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The small harness of the unit tests (tests/unit and plugins/<id>/tests):
 * CHECK() counts, load_file() reads a captured output, avm_test_finish()
 * prints "N passed, M failed" and gives main()'s exit code. One test program
 * is one translation unit.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>

static unsigned avm_test_passed, avm_test_failed;

#define CHECK(cond)                                                                        \
        do {                                                                               \
                if (cond)                                                                  \
                        avm_test_passed++;                                                 \
                else {                                                                     \
                        avm_test_failed++;                                                 \
                        fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
                }                                                                          \
        } while (0)

/* Reads dir/name, at most max + 1 bytes (so a parser bounded to max still
 * sees that a file is larger), NUL-terminated; exits 2 if it cannot. Returns
 * a buffer to free(). */
static inline char *load_file(const char *dir, const char *name, size_t max, size_t *ret_size) {
        char path[4096];
        char *buf = malloc(max + 2);
        FILE *f;
        size_t n;

        snprintf(path, sizeof path, "%s/%s", dir, name);
        f = fopen(path, "rbe");
        if (!f || !buf) {
                fprintf(stderr, "cannot open %s\n", path);
                exit(2);
        }
        n = fread(buf, 1, max + 1, f);
        fclose(f);
        buf[n] = '\0';
        *ret_size = n;
        return buf;
}

/* Prints the tally; returns main()'s exit code. */
static inline int avm_test_finish(void) {
        printf("%u passed, %u failed\n", avm_test_passed, avm_test_failed);
        return avm_test_failed ? 1 : 0;
}
