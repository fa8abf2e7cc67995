/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sophos Protection for Linux (plugins/sophos-spl/sophos-parse.c):
 * VERSION.ini, avscanner output and soapd's on_access_status,
 * NUL-terminated as the plugin reads them. */
#include "fuzz.h"
#include "sophos-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *out = fuzz_strndup(data, size), buf[64];
        PluginParseError e = { 0 };
        SophosScan s;
        int r;

        if (!out)
                return 0;
        if (sophos_parse_version_ini(out, size, buf, sizeof(buf), &e) == 0)
                FUZZ_ASSERT(buf[0] && strspn(buf, "0123456789.") == strlen(buf));
        FUZZ_ASSERT(strlen(e.text) < sizeof(e.text));
        (void) sophos_parse_version_ini(out, size, buf, 4, NULL);
        if (sophos_parse_avscanner(out, size, &s, NULL) == 0)
                FUZZ_ASSERT(s.detections == 0 || s.threat[0]);
        r = sophos_parse_on_access_status(out, size, NULL);
        FUZZ_ASSERT(r == 0 || r == 1 || r < 0);
        if (size > 0)
                FUZZ_ASSERT(sophos_exit_message(data[0]));
        free(out);
        return 0;
}
