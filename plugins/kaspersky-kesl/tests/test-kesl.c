/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the kesl-control output parsers and exit codes. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avm-test.h"
#include "plugin-sample.h"

#include "../kesl-parse.h"

static int app_info_file(const char *name, KeslAppInfo *ai) {
        size_t n;
        char *b = load_file(TEST_DATA_DIR, name, KESL_OUTPUT_MAX, &n);
        int r = kesl_parse_app_info(b, n, ai);
        free(b);
        return r;
}

static int task_file(const char *name, KeslTaskState *s) {
        size_t n;
        char *b = load_file(TEST_DATA_DIR, name, KESL_OUTPUT_MAX, &n);
        int r = kesl_parse_task_state(b, n, s);
        free(b);
        return r;
}

int main(void) {
        static const int documented[] = { 0, 1, 2, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 128 };
        KeslAppInfo ai;
        KeslTaskState ts;
        KeslScan scan;
        size_t n;
        char *b;

        /* --app-info: English text, Russian text, JSON, KESL 10 */
        CHECK(app_info_file("app-info-en.txt", &ai) == 0);
        CHECK(strcmp(ai.version, "12.1.0.1297") == 0 && ai.db_loaded == 1 && ai.file_monitoring == 0 && ai.policy_applied == 0);
        CHECK(ai.db_release > 1700000000 && strcmp(ai.name, "Kaspersky Endpoint Security for Linux") == 0);
        CHECK(app_info_file("app-info-ru.txt", &ai) == 0);
        CHECK(strcmp(ai.version, "12.1.0.1297") == 0 && ai.db_loaded == 1 && ai.file_monitoring == 0 && ai.policy_applied == 0);
        CHECK(ai.db_release > 1700000000);
        CHECK(app_info_file("app-info.json", &ai) == 0);
        CHECK(strcmp(ai.version, "12.1.0.1297") == 0 && ai.db_loaded == 1 && ai.db_release > 1700000000);
        /* KESL 10 SP1, real (Checkmk's example): "Anti-virus databases loaded", extra lines */
        b = load_sample(TEST_DATA_DIR, "app-info-10.1.0.5960-en.txt", KESL_OUTPUT_MAX, &n);
        CHECK(kesl_parse_app_info(b, n, &ai) == 0 && strcmp(ai.version, "10.1.0.5960") == 0 && ai.db_loaded == 1 &&
              ai.db_release == 1534997460 && ai.file_monitoring == 0 && ai.policy_applied == -1);
        free(b);
        /* Russian database label of a certified-configuration script ("программы", not "приложения") */
        b = load_sample(TEST_DATA_DIR, "app-info-ru-db-label-programmy.txt", KESL_OUTPUT_MAX, &n);
        {
                char *s2 = malloc(n + 64);
                snprintf(s2, n + 64, "Версия:  12.1.0.1297\n%s", b);
                CHECK(kesl_parse_app_info(s2, strlen(s2), &ai) == 0 && ai.db_release == 1710183120);
                free(s2);
        }
        free(b);
        /* truncated / malformed */
        CHECK(app_info_file("app-info-truncated.txt", &ai) == -EBADMSG);
        CHECK(app_info_file("app-info-truncated.json", &ai) == -EBADMSG);
        CHECK(kesl_parse_app_info("", 0, &ai) == -EBADMSG);
        CHECK(kesl_parse_app_info(NULL, 0, &ai) == -EBADMSG);
        CHECK(kesl_parse_app_info("hello world\n", 12, &ai) == -EBADMSG);
        CHECK(kesl_parse_app_info("[1,2,3]", 7, &ai) == -EBADMSG);
        CHECK(kesl_parse_app_info("{\"Version\": {\"x\": 1}}", 21, &ai) == -EBADMSG);
        CHECK(kesl_parse_app_info("{\"Version\": \"1.2\"} trailing", 27, &ai) == -EBADMSG);
        CHECK(kesl_parse_app_info("Version: 1.2; rm -rf /\n", 23, &ai) == -EBADMSG);
        CHECK(kesl_parse_app_info("Version: 12.1\nLast release date of databases: tomorrow\n", 54, &ai) == -EBADMSG);
        CHECK(kesl_parse_app_info("Version: 1.2\0Name: x", 20, &ai) == -EBADMSG); /* embedded NUL */
        {
                /* oversized */
                char *big = malloc(KESL_OUTPUT_MAX + 100);
                memset(big, 'a', KESL_OUTPUT_MAX + 99);
                memcpy(big, "Version: 1.2\n", 13);
                big[KESL_OUTPUT_MAX + 99] = '\0';
                CHECK(kesl_parse_app_info(big, KESL_OUTPUT_MAX + 99, &ai) == -EBADMSG);
                /* overlong line */
                big[4000] = '\0';
                CHECK(kesl_parse_app_info(big, 4000, &ai) == -EBADMSG);
                free(big);
        }
        {
                char garbage[2048];
                for (size_t i = 0; i < sizeof garbage - 1; i++)
                        garbage[i] = (char) (1 + (i * 7919) % 255);
                garbage[sizeof garbage - 1] = '\0';
                CHECK(kesl_parse_app_info(garbage, strlen(garbage), &ai) < 0);
                CHECK(kesl_parse_task_state(garbage, strlen(garbage), &ts) < 0);
                CHECK(kesl_parse_events(garbage, strlen(garbage), "/x", &scan, NULL) < 0);
        }

        /* --get-task-state */
        CHECK(task_file("task-state-stopped.txt", &ts) == 0 && ts == KESL_TASK_STOPPED);
        CHECK(task_file("task-state-stopped.json", &ts) == 0 && ts == KESL_TASK_STOPPED);
        CHECK(task_file("task-state-ru.txt", &ts) == 0 && ts == KESL_TASK_STARTED);
        CHECK(task_file("task-state-bogus.txt", &ts) == -EBADMSG);
        CHECK(kesl_parse_task_state("{\"State\": \"Started\"}", 20, &ts) == 0 && ts == KESL_TASK_STARTED);
        CHECK(kesl_parse_task_state("Name: File_Threat_Protection\n", 29, &ts) == -EBADMSG);
        CHECK(kesl_parse_task_state("{\"State\": \"Sta", 14, &ts) == -EBADMSG);

        /* the event log after --scan-file --action Skip (layout inferred from real scripts) */
        b = load_sample(TEST_DATA_DIR, "events-threat-detected-INFERRED.txt", KESL_OUTPUT_MAX, &n);
        CHECK(kesl_parse_events(b, n, "/tmp/eicar.com", &scan, NULL) == 0 && scan.detected == 1 &&
              strcmp(scan.threat, "EICAR-Test-File") == 0);
        CHECK(kesl_parse_events(b, n, "/tmp/other.com", &scan, NULL) == 0 && scan.detected == 0 && scan.threat[0] == '\0');
        free(b);
        CHECK(kesl_parse_events("", 0, "/x", &scan, NULL) == 0 && scan.detected == 0);
        CHECK(kesl_parse_events("EventType=TaskStateChanged\nFileName=/x\nDetectName=Y\n", 52, "/x", &scan, NULL) == 0 &&
              scan.detected == 0);
        CHECK(kesl_parse_events("EventType=ThreatDetected\nFileName=/x\nDetectName=\n", 49, "/x", &scan, NULL) == -EBADMSG);

        /* exit codes: every documented one has its own message */
        for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
                CHECK(strcmp(kesl_exit_message(documented[i]), "undocumented exit code") != 0);
        CHECK(strcmp(kesl_exit_message(99), "undocumented exit code") == 0);
        CHECK(kesl_exit_errno(0) == 0 && kesl_exit_errno(70) == 0);
        CHECK(kesl_exit_errno(68) == -EPERM);
        CHECK(kesl_exit_errno(66) == -ENODATA);
        CHECK(kesl_exit_errno(64) == -ESRCH);
        CHECK(kesl_exit_errno(1) == -EINVAL);
        CHECK(kesl_exit_errno(128) == -EIO && kesl_exit_errno(65) == -EIO);
        for (size_t i = 1; i < sizeof documented / sizeof documented[0]; i++)
                if (documented[i] != 70)
                        CHECK(kesl_exit_errno(documented[i]) < 0);

        return avm_test_finish();
}
