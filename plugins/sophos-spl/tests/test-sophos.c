/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the Sophos parsers and exit codes. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sophos-parse.h"

static unsigned passed, failed;

#define CHECK(cond)                                                                        \
        do {                                                                               \
                if (cond)                                                                  \
                        passed++;                                                          \
                else {                                                                     \
                        failed++;                                                          \
                        fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
                }                                                                          \
        } while (0)

static char *load(const char *name, size_t *ret_size) {
        char path[4096];
        char *buf = malloc(SOPHOS_OUTPUT_MAX + 2);
        FILE *f;
        size_t n;

        snprintf(path, sizeof path, "%s/%s", TEST_DATA_DIR, name);
        f = fopen(path, "rbe");
        if (!f || !buf) {
                fprintf(stderr, "cannot open %s\n", path);
                exit(2);
        }
        n = fread(buf, 1, SOPHOS_OUTPUT_MAX + 1, f);
        fclose(f);
        buf[n] = '\0';
        *ret_size = n;
        return buf;
}

int main(void) {
        static const int documented[] = { 0, 1, 3, 8, 16, 20, 24, 25, 36, 40, 41 };
        char v[128];
        bool found;
        size_t n;
        char *b;

        b = load("VERSION.ini", &n);
        CHECK(sophos_parse_version_ini(b, n, v, sizeof v) == 0 && strcmp(v, "1.2.7.96") == 0);
        free(b);
        CHECK(sophos_parse_version_ini("PRODUCT_VERSION=1.2.3\n", 22, v, sizeof v) == 0 && strcmp(v, "1.2.3") == 0);
        CHECK(sophos_parse_version_ini("PRODUCT_VERSION=1.2;x\n", 22, v, sizeof v) == -EBADMSG);
        CHECK(sophos_parse_version_ini("PRODUCT_NAME=x\n", 15, v, sizeof v) == -EBADMSG);
        CHECK(sophos_parse_version_ini("", 0, v, sizeof v) == -EBADMSG);

        b = load("avscanner-found.txt", &n);
        CHECK(sophos_parse_avscanner(b, n, &found, v, sizeof v) == 0 && found && strcmp(v, "EICAR-AV-Test") == 0);
        free(b);
        b = load("avscanner-clean.txt", &n);
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

        printf("%u passed, %u failed\n", passed, failed);
        return failed ? 1 : 0;
}
