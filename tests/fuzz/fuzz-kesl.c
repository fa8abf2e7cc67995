/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kesl-control output (plugins/kaspersky-kesl/kesl-parse.c): every public
 * parser on the input, NUL-terminated as avm_host_run() delivers output. */
#include "fuzz.h"
#include "kesl-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *out = fuzz_strndup(data, size);
        KeslAppInfo ai;
        KeslTaskState st;
        KeslScan scan;

        if (!out)
                return 0;
        if (kesl_parse_app_info(out, size, &ai) == 0)
                FUZZ_ASSERT(ai.version[0] && strlen(ai.name) < sizeof(ai.name) && strlen(ai.version) < sizeof(ai.version));
        if (kesl_parse_task_state(out, size, &st) == 0)
                FUZZ_ASSERT(strcmp(kesl_task_state_name(st), "unknown") != 0);
        if (kesl_parse_events(out, size, "/tmp/eicar.com", &scan, NULL) == 0)
                FUZZ_ASSERT(strlen(scan.threat) < sizeof(scan.threat) && (scan.detected > 0) == (scan.threat[0] != 0));
        if (size > 0) {
                FUZZ_ASSERT(kesl_exit_message(data[0]));
                (void) kesl_exit_errno(data[0]);
        }
        free(out);
        return 0;
}
