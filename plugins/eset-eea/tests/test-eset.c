/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the ESET output parsers. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avm-test.h"

#include "../eset-parse.h"

int main(void) {
        static const int documented[] = { 0, 1, 10, 50, 100 };
        char v[128], threat[128];
        unsigned det;
        time_t t;
        size_t n;
        char *b;

        b = load_file(TEST_DATA_DIR, "upd-version.txt", ESET_OUTPUT_MAX, &n);
        CHECK(eset_parse_upd_version(b, n, v, sizeof v) == 0 && strcmp(v, "12.0.13.0") == 0);
        free(b);
        CHECK(eset_parse_upd_version("upd 12", 6, v, sizeof v) == -EBADMSG);
        CHECK(eset_parse_upd_version("x (eea) 12.0x", 13, v, sizeof v) == -EBADMSG);

        b = load_file(TEST_DATA_DIR, "upd-list-modules.txt", ESET_OUTPUT_MAX, &n);
        CHECK(eset_parse_engine_date(b, n, &t) == 0 && t == 1795305600);
        free(b);
        b = load_file(TEST_DATA_DIR, "upd-list-modules-bad.txt", ESET_OUTPUT_MAX, &n);
        CHECK(eset_parse_engine_date(b, n, &t) == -EBADMSG);
        free(b);
        CHECK(eset_parse_engine_date("EM003 1 (20261122) Rapid\n", 25, &t) == -EBADMSG);

        b = load_file(TEST_DATA_DIR, "odscan-found.txt", ESET_OUTPUT_MAX, &n);
        CHECK(eset_parse_odscan(b, n, v, sizeof v) == 0 && strcmp(v, "ndl00000001.dat") == 0);
        free(b);
        CHECK(eset_parse_odscan("{\"log_name\":\"../etc/passwd\"}", 28, v, sizeof v) == -EBADMSG);
        CHECK(eset_parse_odscan("{\"log_name\":\"-rf\"}", 18, v, sizeof v) == -EBADMSG);
        CHECK(eset_parse_odscan("{\"log_name\":", 12, v, sizeof v) == -EBADMSG);
        CHECK(eset_parse_odscan("[]", 2, v, sizeof v) == -EBADMSG);

        b = load_file(TEST_DATA_DIR, "lslog-found.txt", ESET_OUTPUT_MAX, &n);
        CHECK(eset_parse_lslog(b, n, &det, threat, sizeof threat) == 0 && det == 1 && strcmp(threat, "Eicar test file") == 0);
        free(b);
        CHECK(eset_parse_lslog("Scanned: 1\n", 11, &det, threat, sizeof threat) == -EBADMSG);
        CHECK(eset_parse_lslog("Detections occurred: many\n", 26, &det, threat, sizeof threat) == -EBADMSG);

        b = load_file(TEST_DATA_DIR, "cfg-rtp-status.txt", ESET_OUTPUT_MAX, &n);
        CHECK(eset_parse_rtp_status(b, n) == 1);
        free(b);
        CHECK(eset_parse_rtp_status("Real-time file system protection: disabled\n", 43) == 0);
        CHECK(eset_parse_rtp_status("Real-time file system protection: sort of\n", 42) == -EBADMSG);

        {
                char garbage[1024];
                for (size_t i = 0; i < sizeof garbage - 1; i++)
                        garbage[i] = (char) (1 + (i * 7919) % 255);
                garbage[sizeof garbage - 1] = '\0';
                CHECK(eset_parse_upd_version(garbage, strlen(garbage), v, sizeof v) < 0);
                CHECK(eset_parse_engine_date(garbage, strlen(garbage), &t) < 0);
                CHECK(eset_parse_odscan(garbage, strlen(garbage), v, sizeof v) < 0);
                CHECK(eset_parse_lslog(garbage, strlen(garbage), &det, threat, sizeof threat) < 0);
        }
        {
                char *big = malloc(ESET_OUTPUT_MAX + 10);
                memset(big, 'x', ESET_OUTPUT_MAX + 9);
                big[ESET_OUTPUT_MAX + 9] = '\0';
                CHECK(eset_parse_lslog(big, ESET_OUTPUT_MAX + 9, &det, threat, sizeof threat) == -EBADMSG);
                free(big);
        }
        CHECK(eset_parse_odscan(NULL, 0, v, sizeof v) == -EBADMSG);

        for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
                CHECK(strcmp(eset_odscan_exit_message(documented[i]), "undocumented exit code") != 0);
        CHECK(strcmp(eset_odscan_exit_message(7), "undocumented exit code") == 0);

        return avm_test_finish();
}
