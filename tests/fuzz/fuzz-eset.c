/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ESET Endpoint Antivirus tool output (plugins/eset-eea/eset-parse.c): upd
 * version and module list, odscan's JSON line, lslog details and cfg's
 * real-time status, on the input NUL-terminated as avm_host_run() delivers
 * output. */
#include "eset-parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *out = fuzz_strndup(data, size), buf[64], log_name[256], threat[128];
        unsigned detections;
        time_t t;

        if (!out)
                return 0;
        if (eset_parse_upd_version(out, size, buf, sizeof(buf)) == 0)
                FUZZ_ASSERT(buf[0] && strspn(buf, "0123456789.") == strlen(buf));
        (void) eset_parse_upd_version(out, size, buf, 4);
        (void) eset_parse_engine_date(out, size, &t);
        if (eset_parse_odscan(out, size, log_name, sizeof(log_name)) == 0)
                FUZZ_ASSERT(log_name[0] && !strchr(log_name, '/') && log_name[0] != '-' && log_name[0] != '.');
        if (eset_parse_lslog(out, size, &detections, threat, sizeof(threat)) == 0)
                FUZZ_ASSERT(strlen(threat) < sizeof(threat));
        (void) eset_parse_lslog(out, size, &detections, NULL, 0);
        (void) eset_parse_rtp_status(out, size);
        if (size > 0)
                FUZZ_ASSERT(eset_odscan_exit_message(data[0]));
        free(out);
        return 0;
}
