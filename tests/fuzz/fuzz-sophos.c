/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sophos Protection for Linux (plugins/sophos-spl/sophos-parse.c):
 * VERSION.ini and avscanner output, NUL-terminated as the plugin reads them. */
#include "fuzz.h"
#include "sophos-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *out = fuzz_strndup(data, size), buf[64], threat[128];
        bool detected;

        if (!out)
                return 0;
        if (sophos_parse_version_ini(out, size, buf, sizeof(buf)) == 0)
                FUZZ_ASSERT(buf[0] && strspn(buf, "0123456789.") == strlen(buf));
        (void) sophos_parse_version_ini(out, size, buf, 4);
        if (sophos_parse_avscanner(out, size, &detected, threat, sizeof(threat)) == 0)
                FUZZ_ASSERT(detected || !threat[0]);
        (void) sophos_parse_avscanner(out, size, &detected, NULL, 0);
        (void) sophos_parse_avscanner(out, size, &detected, threat, 4);
        if (size > 0)
                FUZZ_ASSERT(sophos_exit_message(data[0]));
        free(out);
        return 0;
}
