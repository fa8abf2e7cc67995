/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the Sophos parsers and exit codes, on the samples in this
 * directory (each headed by its provenance in Sophos' published sources). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avm-test.h"
#include "plugin-sample.h"

#include "../sophos-parse.h"

#define S(x) x, strlen(x)

static char *sample(const char *name, size_t *n) {
        return load_sample(TEST_DATA_DIR, name, SOPHOS_OUTPUT_MAX, n);
}

int main(void) {
        static const int documented[] = { 0, 1, 3, 8, 15, 16, 20, 24, 25, 28, 32, 36, 40, 41 };
        PluginParseError e;
        SophosScan s;
        char v[128];
        size_t n;
        char *b;

        b = sample("VERSION-ini-base.txt", &n);
        CHECK(sophos_parse_version_ini(b, n, v, sizeof v, NULL) == 0 && strcmp(v, "1.2.2.999") == 0);
        free(b);
        CHECK(sophos_parse_version_ini(S("PRODUCT_VERSION=1.2.3\n"), v, sizeof v, NULL) == 0 && strcmp(v, "1.2.3") == 0);
        CHECK(sophos_parse_version_ini(S("PRODUCT_VERSION\t=  2023.1.0.5 \r\n"), v, sizeof v, NULL) == 0 &&
              strcmp(v, "2023.1.0.5") == 0);
        CHECK(sophos_parse_version_ini(S("X = 1\nPRODUCT_VERSION = 1.2;x\n"), v, sizeof v, &e) == -EBADMSG && e.line == 2);
        CHECK(sophos_parse_version_ini(S("PRODUCT_NAME = x\n"), v, sizeof v, &e) == -EBADMSG && e.line == 0);
        CHECK(sophos_parse_version_ini(S(""), v, sizeof v, NULL) == -EBADMSG);

        /* avscanner since 2022-09: " (On Demand)" suffix */
        b = sample("avscanner-detected-2022.txt", &n);
        CHECK(sophos_parse_avscanner(b, n, &s, NULL) == 0 && s.detections == 1 && strcmp(s.threat, "EICAR-AV-Test") == 0 &&
              strcmp(s.scan_type, "On Demand") == 0 && strcmp(s.path, "/tmp/eicar.com") == 0 && s.errors == 0);
        free(b);
        /* avscanner 2020-2022: no suffix (the old parser rejected this line) */
        b = sample("avscanner-detected-2021.txt", &n);
        CHECK(sophos_parse_avscanner(b, n, &s, NULL) == 0 && s.detections == 1 && strcmp(s.threat, "EICAR-AV-Test") == 0 &&
              s.scan_type[0] == '\0');
        free(b);
        b = sample("avscanner-clean.txt", &n);
        CHECK(sophos_parse_avscanner(b, n, &s, NULL) == 0 && s.detections == 0 && s.errors == 0);
        free(b);
        b = sample("avscanner-missing-file.txt", &n);
        CHECK(sophos_parse_avscanner(b, n, &s, NULL) == 0 && s.detections == 0 && s.errors == 1);
        free(b);
        /* a log prefix, a symlink, a path with a quote, an empty output */
        CHECK(sophos_parse_avscanner(S("[ WARN] Detected \"/a/l\" (symlinked to /a/e.com) is infected with EICAR-AV-Test (On "
                                       "Demand)\n"),
                                     &s, NULL) == 0 &&
              s.detections == 1 && strcmp(s.threat, "EICAR-AV-Test") == 0 && strcmp(s.path, "/a/l") == 0);
        CHECK(sophos_parse_avscanner(S("Detected \"/x\" is infected with Troj/Foo-A (Scheduled)\n"), &s, NULL) == 0 &&
              strcmp(s.threat, "Troj/Foo-A") == 0 && strcmp(s.scan_type, "Scheduled") == 0);
        CHECK(sophos_parse_avscanner(S(""), &s, NULL) == 0 && s.detections == 0);
        CHECK(sophos_parse_avscanner(S("x\nDetected \"/x\" is infected\n"), &s, &e) == -EBADMSG && e.line == 2);
        CHECK(sophos_parse_avscanner(S("Detected \"/x\" is infected with \n"), &s, &e) == -EBADMSG && e.line == 1);

        b = sample("on-access-status-enabled.txt", &n);
        CHECK(sophos_parse_on_access_status(b, n, NULL) == 1);
        free(b);
        CHECK(sophos_parse_on_access_status(S("disabled\n"), NULL) == 0);
        CHECK(sophos_parse_on_access_status(S("maybe\n"), &e) == -EBADMSG && e.line == 1);
        CHECK(sophos_parse_on_access_status(S(""), &e) == -EBADMSG);

        {
                char garbage[1024];
                for (size_t i = 0; i < sizeof garbage - 1; i++)
                        garbage[i] = (char) (1 + (i * 7919) % 255);
                garbage[sizeof garbage - 1] = '\0';
                CHECK(sophos_parse_avscanner(garbage, strlen(garbage), &s, NULL) < 0);
                CHECK(sophos_parse_version_ini(garbage, strlen(garbage), v, sizeof v, NULL) < 0);
        }
        for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
                CHECK(strcmp(sophos_exit_message(documented[i]), "undocumented exit code") != 0);
        CHECK(strcmp(sophos_exit_message(2), "undocumented exit code") == 0);
        return avm_test_finish();
}
