/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mdatp output (plugins/microsoft-mdatp/mdatp-parse.c): health --field,
 * health --output json, the health table, scan custom and threat list, on
 * the input NUL-terminated as avm_host_run() delivers output. */
#include "fuzz.h"
#include "mdatp-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static MdatpThreats before, after;
        char *out = fuzz_strndup(data, size), buf[64];
        PluginParseError e = { 0 };
        unsigned files, threats;
        MdatpHealth h;
        bool managed;

        if (!out)
                return 0;
        if (mdatp_parse_field(out, size, buf, sizeof(buf), &managed, &e) == 0)
                FUZZ_ASSERT(buf[0] && strlen(buf) < sizeof(buf));
        FUZZ_ASSERT(strlen(e.text) < sizeof(e.text));
        (void) mdatp_parse_bool(out);
        if (mdatp_parse_health_json(out, size, &h, NULL) == 0)
                FUZZ_ASSERT(h.healthy >= 0 && strlen(h.conflicting) < sizeof(h.conflicting));
        if (mdatp_parse_health_text(out, size, &h, &e) == 0)
                FUZZ_ASSERT(strlen(h.org_id) < sizeof(h.org_id));
        (void) mdatp_parse_scan(out, size, &files, &threats, NULL);
        before.n = 0;
        if (mdatp_parse_threats(out, size, &after, NULL) == 0) {
                FUZZ_ASSERT(after.n <= MDATP_THREATS_MAX);
                FUZZ_ASSERT(after.n == 0 || mdatp_threat_new(&before, &after) == &after.threats[0]);
        }
        free(out);
        return 0;
}
