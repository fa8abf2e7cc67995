/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the ESET output parsers, on the real samples in this
 * directory (each headed by its provenance) and variations of them. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avm-test.h"
#include "plugin-sample.h"

#include "../eset-parse.h"

#define S(x) x, strlen(x)

static char *sample(const char *name, size_t *n) {
        return load_sample(TEST_DATA_DIR, name, ESET_OUTPUT_MAX, n);
}

int main(void) {
        static const int documented[] = { 0, 1, 10, 50, 100 };
        PluginParseError e;
        EsetOdscan od;
        EsetScanLog sl;
        char v[128];
        time_t t;
        size_t n;
        char *b;

        /* upd -version, 12.0.13.0 (GLPI) */
        b = sample("upd-version-12.0.13.0.txt", &n);
        CHECK(eset_parse_upd_version(b, n, v, sizeof v, NULL) == 0 && strcmp(v, "12.0.13.0") == 0);
        free(b);
        CHECK(eset_parse_upd_version(S("upd (eea)\t12.1.2.0\r\n"), v, sizeof v, NULL) == 0 && strcmp(v, "12.1.2.0") == 0);
        CHECK(eset_parse_upd_version(S("upd 12\n"), v, sizeof v, &e) == -EBADMSG && e.line == 0);
        CHECK(eset_parse_upd_version(S("x\n/opt/eset/eea/bin/upd (eea) 12.0x\n"), v, sizeof v, &e) == -EBADMSG && e.line == 2 &&
              strstr(e.text, "12.0x"));

        /* upd --list-modules, 12.0.13.0 (GLPI): TAB-separated, EM002 on line 3 */
        b = sample("upd-list-modules-12.0.13.0.txt", &n);
        CHECK(strstr(b, "EM002\t 31832 (20250909)\tDetection engine") != NULL);
        CHECK(eset_parse_engine_date(b, n, &t, NULL) == 0 && t == 1757376000); /* 2025-09-09 00:00 UTC */
        {
                /* the same with spaces instead of tabs, and CRLF */
                char *s = strdup(b);
                for (char *c = s; *c; c++)
                        if (*c == '\t')
                                *c = ' ';
                CHECK(eset_parse_engine_date(s, strlen(s), &t, NULL) == 0 && t == 1757376000);
                free(s);
        }
        /* a damaged EM002 line is reported with its number and text */
        {
                char *s = strdup(b), *p = strstr(s, "(20250909)");
                p[5] = 'x';
                CHECK(eset_parse_engine_date(s, strlen(s), &t, &e) == -EBADMSG && e.line == 3 && strstr(e.text, "EM002"));
                free(s);
        }
        free(b);
        CHECK(eset_parse_engine_date(S("EM0020\t 1 (20250909)\tX\n"), &t, &e) == -EBADMSG && e.line == 0);
        CHECK(eset_parse_engine_date(S("EM003\t 1 (20261122)\tRapid\n"), &t, &e) == -EBADMSG && strstr(e.text, "EM002"));
        CHECK(eset_parse_engine_date(S("EM002\t 1 (20261122)\n"), &t, &e) == -EBADMSG && e.line == 1);
        CHECK(eset_parse_engine_date(S("EM002 31234 (2026112) Detection engine\n"), &t, &e) == -EBADMSG && e.line == 1);

        /* lic --status (GLPI) */
        b = sample("lic-status-12.0.13.0.txt", &n);
        CHECK(eset_parse_lic_status(b, n, v, sizeof v, NULL) == 1 && strcmp(v, "2026-06-21") == 0);
        free(b);
        CHECK(eset_parse_lic_status(S("Status: Not activated\n"), v, sizeof v, NULL) == 0 && v[0] == '\0');
        CHECK(eset_parse_lic_status(S("Product name: X\n"), v, sizeof v, &e) == -EBADMSG);

        /* odscan --show-scan-info, 11.1 (Saphir): a JSON object over several lines */
        b = sample("odscan-show-scan-info-11.1.txt", &n);
        CHECK(eset_parse_odscan(b, n, &od, NULL) == 0 && strcmp(od.log_name, "ndlnJ78oi") == 0 && od.detections == 0);
        free(b);
        CHECK(eset_parse_odscan(S("{\"type\":0,\"session_id\":1,\"log_name\":\"ndl1\"}\n"), &od, NULL) == 0 &&
              strcmp(od.log_name, "ndl1") == 0);
        CHECK(eset_parse_odscan(S("{\"log_name\":\"../etc/passwd\"}"), &od, &e) == -EBADMSG && e.line == 1);
        CHECK(eset_parse_odscan(S("{\"log_name\":\"-rf\"}"), &od, NULL) == -EBADMSG);
        CHECK(eset_parse_odscan(S("{\"log_name\":"), &od, NULL) == -EBADMSG);
        CHECK(eset_parse_odscan(S(""), &od, NULL) == 0 && od.detections == 0);

        /* odscan 8.0 detection line (MailScanner/v5#540), alone and after the JSON object */
        b = sample("odscan-detection-8.0.txt", &n);
        CHECK(eset_parse_odscan(b, n, &od, NULL) == 0 && od.detections == 1 && strcmp(od.threat, "Eicar test file") == 0 &&
              strcmp(od.path, "/tmp/eicar.txt") == 0 && strcmp(od.action, "retained") == 0);
        {
                char both[512];
                snprintf(both, sizeof both, "{\"type\":0,\"session_id\":6,\"log_name\":\"ndlnJ78oi\"}\n%s", b);
                CHECK(eset_parse_odscan(both, strlen(both), &od, NULL) == 0 && od.detections == 1 &&
                      strcmp(od.log_name, "ndlnJ78oi") == 0);
        }
        free(b);
        /* older odscan: threat= [INF]; keys in another order; unknown keys ignored */
        {
                static const char s[] =
                        "name=\"/p/e.com\", threat=\"Eicar test file\", action=\"cleaned\", info=\"\"\n"
                        "name=\"/p/f.com\", action=\"retained\", result=\"Other\", new_key=\"x\"\n";
                CHECK(eset_parse_odscan(s, sizeof s - 1, &od, NULL) == 0 && od.detections == 2 &&
                      strcmp(od.threat, "Eicar test file") == 0 && strcmp(od.action, "cleaned") == 0);
        }
        CHECK(eset_parse_odscan(S("name=\"/p/e.com, result=\"x\"\n"), &od, &e) == -EBADMSG && e.line == 1);

        /* lslog --ods-details (Saphir) */
        b = sample("lslog-ods-details-clean-11.1.txt", &n);
        CHECK(eset_parse_lslog(b, n, &sl, NULL) == 0 && sl.detections == 0 && sl.scanned == 1 && sl.not_scanned == 0 &&
              sl.cleaned == 0 && sl.completed);
        free(b);
        CHECK(eset_parse_lslog(S("Scanned: 1\n"), &sl, &e) == -EBADMSG && e.line == 0);
        CHECK(eset_parse_lslog(S("Detections occurred: many\n"), &sl, &e) == -EBADMSG && e.line == 1);
        CHECK(eset_parse_lslog(S("Detections occurred:\t2\r\nScanned:  3\n"), &sl, NULL) == 0 && sl.detections == 2 &&
              sl.scanned == 3 && !sl.completed);

        {
                char garbage[1024];
                for (size_t i = 0; i < sizeof garbage - 1; i++)
                        garbage[i] = (char) (1 + (i * 7919) % 255);
                garbage[sizeof garbage - 1] = '\0';
                CHECK(eset_parse_upd_version(garbage, strlen(garbage), v, sizeof v, NULL) < 0);
                CHECK(eset_parse_engine_date(garbage, strlen(garbage), &t, NULL) < 0);
                CHECK(eset_parse_odscan(garbage, strlen(garbage), &od, NULL) < 0);
                CHECK(eset_parse_lslog(garbage, strlen(garbage), &sl, NULL) < 0);
                CHECK(eset_parse_lic_status(garbage, strlen(garbage), v, sizeof v, NULL) < 0);
        }
        {
                char *big = malloc(ESET_OUTPUT_MAX + 10);
                memset(big, 'x', ESET_OUTPUT_MAX + 9);
                big[ESET_OUTPUT_MAX + 9] = '\0';
                CHECK(eset_parse_lslog(big, ESET_OUTPUT_MAX + 9, &sl, NULL) == -EBADMSG);
                CHECK(eset_parse_odscan(big, ESET_OUTPUT_MAX + 9, &od, NULL) == -EBADMSG);
                free(big);
        }
        CHECK(eset_parse_upd_version(NULL, 0, v, sizeof v, NULL) == -EBADMSG);

        for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
                CHECK(strcmp(eset_odscan_exit_message(documented[i]), "undocumented exit code") != 0);
        CHECK(strcmp(eset_odscan_exit_message(7), "undocumented exit code") == 0);

        return avm_test_finish();
}
