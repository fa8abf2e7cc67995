/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The protection scope's parsers: ProtectedPaths= lists and
 * /proc/self/mountinfo text (daemon/scope.c), and KESL's File Threat
 * Protection settings (plugins/kaspersky-kesl/kesl-scope.c). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kesl-scope.h"
#include "scope.h"

static ScopeList list, mounts; /* 16 KiB each */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = fuzz_strndup(data, size), err[160];
        AvmScope k;

        if (!s)
                return 0;
        if (scope_list_parse(s, &list, err, sizeof(err)) == 0)
                for (size_t i = 0; i < list.n; i++) {
                        char p[SCOPE_PATH_MAX];
                        strcpy(p, list.path[i]);
                        /* what the parser keeps is normalised: normalising again changes nothing */
                        FUZZ_ASSERT(scope_path_normalize(p) == 0 && strcmp(p, list.path[i]) == 0);
                        FUZZ_ASSERT(scope_path_under(list.path[i], "/"));
                }
        FUZZ_ASSERT(scope_user_mounts(s, size, &mounts) == 0 && mounts.n <= SCOPE_MAX_PATHS);
        for (size_t i = 0; i < mounts.n; i++)
                FUZZ_ASSERT(mounts.path[i][0] == '/' && strcmp(mounts.path[i], "/") != 0);
        if (kesl_parse_scope((const char *) data, size, &k) == 0 && k.known)
                for (unsigned i = 0; i < k.n_include; i++)
                        FUZZ_ASSERT(k.include[i][0] == '/' && memchr(k.include[i], 0, AVM_SCOPE_PATH_MAX));
        free(s);
        return 0;
}
