/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ESET Endpoint Antivirus tool output (plugins/eset-eea/eset-parse.c): upd
 * version and module list, lic --status, odscan's JSON object and detection
 * lines, lslog details, on the input NUL-terminated as avm_host_run()
 * delivers output. */
#include "eset-parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *out = fuzz_strndup(data, size), buf[64];
        PluginParseError e = { 0 };
        EsetOdscan od;
        EsetScanLog sl;
        time_t t;

        if (!out)
                return 0;
        if (eset_parse_upd_version(out, size, buf, sizeof(buf), &e) == 0)
                FUZZ_ASSERT(buf[0] && strspn(buf, "0123456789.") == strlen(buf));
        FUZZ_ASSERT(strlen(e.text) < sizeof(e.text));
        (void) eset_parse_upd_version(out, size, buf, 4, NULL);
        (void) eset_parse_engine_date(out, size, &t, &e);
        (void) eset_parse_lic_status(out, size, buf, sizeof(buf), &e);
        if (eset_parse_odscan(out, size, &od, &e) == 0) {
                FUZZ_ASSERT(!strchr(od.log_name, '/') && od.log_name[0] != '-' && od.log_name[0] != '.');
                FUZZ_ASSERT(od.detections == 0 || od.threat[0]);
        }
        if (eset_parse_lslog(out, size, &sl, NULL) == 0)
                FUZZ_ASSERT(sl.detections >= 0);
        if (size > 0)
                FUZZ_ASSERT(eset_odscan_exit_message(data[0]));
        free(out);
        return 0;
}
