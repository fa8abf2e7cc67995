/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the Sophos parsers and exit codes. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avm-test.h"

#include "../sophos-parse.h"

int main(void) {
        static const int documented[] = { 0, 1, 3, 8, 16, 20, 24, 25, 36, 40, 41 };
        char v[128];
        bool found;
        size_t n;
        char *b;

        b = load_file(TEST_DATA_DIR, "VERSION.ini", SOPHOS_OUTPUT_MAX, &n);
        CHECK(sophos_parse_version_ini(b, n, v, sizeof v) == 0 && strcmp(v, "1.2.7.96") == 0);
        free(b);
        CHECK(sophos_parse_version_ini("PRODUCT_VERSION=1.2.3\n", 22, v, sizeof v) == 0 && strcmp(v, "1.2.3") == 0);
        CHECK(sophos_parse_version_ini("PRODUCT_VERSION=1.2;x\n", 22, v, sizeof v) == -EBADMSG);
        CHECK(sophos_parse_version_ini("PRODUCT_NAME=x\n", 15, v, sizeof v) == -EBADMSG);
        CHECK(sophos_parse_version_ini("", 0, v, sizeof v) == -EBADMSG);

        b = load_file(TEST_DATA_DIR, "avscanner-found.txt", SOPHOS_OUTPUT_MAX, &n);
        CHECK(sophos_parse_avscanner(b, n, &found, v, sizeof v) == 0 && found && strcmp(v, "EICAR-AV-Test") == 0);
        free(b);
        b = load_file(TEST_DATA_DIR, "avscanner-clean.txt", SOPHOS_OUTPUT_MAX, &n);
        CHECK(sophos_parse_avscanner(b, n, &found, v, sizeof v) == 0 && !found);
        free(b);
        CHECK(sophos_parse_avscanner("", 0, &found, v, sizeof v) == 0 && !found);
        CHECK(sophos_parse_avscanner("Detected \"/x\" is infected with\n", 31, &found, v, sizeof v) == -EBADMSG);
        CHECK(sophos_parse_avscanner("Detected \"/x\" is infected with T\n", 33, &found, v, sizeof v) == -EBADMSG);
        {
                char garbage[1024];
                for (size_t i = 0; i < sizeof garbage - 1; i++)
                        garbage[i] = (char) (1 + (i * 7919) % 255);
                garbage[sizeof garbage - 1] = '\0';
                CHECK(sophos_parse_avscanner(garbage, strlen(garbage), &found, v, sizeof v) < 0);
                CHECK(sophos_parse_version_ini(garbage, strlen(garbage), v, sizeof v) < 0);
        }
        {
                char *big = malloc(SOPHOS_OUTPUT_MAX + 10);
                memset(big, 'x', SOPHOS_OUTPUT_MAX + 9);
                big[SOPHOS_OUTPUT_MAX + 9] = '\0';
                CHECK(sophos_parse_avscanner(big, SOPHOS_OUTPUT_MAX + 9, &found, v, sizeof v) == -EBADMSG);
                free(big);
        }
        for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
                CHECK(strcmp(sophos_exit_message(documented[i]), "undocumented exit code") != 0);
        CHECK(strcmp(sophos_exit_message(99), "undocumented exit code") == 0);

        return avm_test_finish();
}
