/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mdatp output (plugins/microsoft-mdatp/mdatp-parse.c): `health --field`,
 * `health --output json` and `threat list --output json` parsers on the
 * input, NUL-terminated as avm_host_run() delivers output. */
#include "fuzz.h"
#include "mdatp-parse.h"

static MdatpThreats before, after; /* 52 KiB each: not on the stack */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *out = fuzz_strndup(data, size), field[256];
        MdatpHealth h;

        if (!out)
                return 0;
        if (mdatp_parse_field(out, size, field, sizeof(field)) == 0) {
                FUZZ_ASSERT(field[0] && strlen(field) < sizeof(field));
                (void) mdatp_parse_bool(field);
        }
        (void) mdatp_parse_bool(out);
        if (mdatp_parse_health_json(out, size, &h) == 0)
                FUZZ_ASSERT(h.healthy >= 0 && strlen(h.conflicting) < sizeof(h.conflicting));
        before.n = 0;
        if (mdatp_parse_threats(out, size, NULL, &before) == 0) {
                FUZZ_ASSERT(before.n <= MDATP_THREATS_MAX);
                if (mdatp_parse_threats(out, size, "/var/tmp/avmigrate-probe/sample", &after) == 0) {
                        FUZZ_ASSERT(after.n == before.n);
                        (void) mdatp_threat_new(&before, &after);
                        before.n = 0;
                        (void) mdatp_threat_new(&before, &after);
                        FUZZ_ASSERT(!mdatp_threat_new(&after, &after));
                }
        }
        free(out);
        return 0;
}
