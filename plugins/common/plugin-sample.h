/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Real vendor output samples for the plugins' unit tests (plugins/<id>/tests/).
 * A sample file starts with its provenance, lines beginning with '#', ended by
 * the line "# ---"; everything after that line is the tool's output,
 * byte-exact. The simulators in tests/fixtures replay the same files
 * (avmsim.sample()). Include after avm-test.h.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loads dir/name (load_file) and returns its body (a buffer to free()) with
 * the size in *ret_size; exits 2 when the provenance header is missing. */
static inline char *load_sample(const char *dir, const char *name, size_t max, size_t *ret_size) {
        size_t n;
        char *buf = load_file(dir, name, max + 4096, &n), *m, *body;

        m = strstr(buf, "\n# ---\n");
        if (buf[0] != '#' || !m) {
                fprintf(stderr, "%s/%s: no provenance header ended by \"# ---\"\n", dir, name);
                exit(2);
        }
        m += strlen("\n# ---\n");
        n -= (size_t) (m - buf);
        body = malloc(n + 1);
        if (!body)
                exit(2);
        memcpy(body, m, n);
        body[n] = '\0';
        free(buf);
        *ret_size = n;
        return body;
}
