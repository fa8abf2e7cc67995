/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the mdatp output parsers. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avm-test.h"

#include "../mdatp-parse.h"

static int field_file(const char *name, char *buf, size_t size) {
        size_t n;
        char *b = load_file(TEST_DATA_DIR, name, MDATP_OUTPUT_MAX, &n);
        int r = mdatp_parse_field(b, n, buf, size);
        free(b);
        return r;
}

static int health_file(const char *name, MdatpHealth *h) {
        size_t n;
        char *b = load_file(TEST_DATA_DIR, name, MDATP_OUTPUT_MAX, &n);
        int r = mdatp_parse_health_json(b, n, h);
        free(b);
        return r;
}

static int threats_file(const char *name, const char *path, MdatpThreats *t) {
        size_t n;
        char *b = load_file(TEST_DATA_DIR, name, MDATP_OUTPUT_MAX, &n);
        int r = mdatp_parse_threats(b, n, path, t);
        free(b);
        return r;
}

int main(void) {
        static MdatpThreats before, after;
        MdatpHealth h;
        char v[128];

        /* --field */
        CHECK(field_file("field-rtp.txt", v, sizeof v) == 0 && strcmp(v, "false") == 0 && mdatp_parse_bool(v) == 0);
        CHECK(field_file("field-version.txt", v, sizeof v) == 0 && strcmp(v, "101.24092.0004") == 0);
        CHECK(field_file("field-conflicting.txt", v, sizeof v) == 0 && strcmp(v, "[]") == 0);
        CHECK(field_file("field-attention.txt", v, sizeof v) == 0 && strcmp(v, "false") == 0);
        CHECK(mdatp_parse_field("\"true\"\n", 7, v, sizeof v) == 0 && mdatp_parse_bool(v) == 1);
        CHECK(mdatp_parse_field("ATTENTION: x\nATTENTION: y\n\"enabled\"\n", 36, v, sizeof v) == 0 && mdatp_parse_bool(v) == 1);
        CHECK(mdatp_parse_field("ATTENTION: only a warning\n", 26, v, sizeof v) == -EBADMSG);
        CHECK(mdatp_parse_field("true\nfalse\n", 11, v, sizeof v) == -EBADMSG);
        CHECK(mdatp_parse_field("", 0, v, sizeof v) == -EBADMSG);
        CHECK(mdatp_parse_field("0123456789", 10, v, 5) == -EBADMSG);
        CHECK(mdatp_parse_field("tr\x01ue", 5, v, sizeof v) == -EBADMSG);
        CHECK(mdatp_parse_bool("maybe") == -EBADMSG);

        /* --output json */
        CHECK(health_file("health.json", &h) == 0);
        CHECK(h.healthy == 1 && h.licensed == 1 && h.realtime == 0 && h.passive == 1 && h.definitions_minutes_ago == 60 &&
              h.definitions_updated > 1700000000 && strcmp(h.app_version, "101.24092.0004") == 0 && h.n_conflicting == 0);
        CHECK(health_file("health-glpi-style.json", &h) == 0);
        CHECK(h.healthy == 0 && h.licensed == 0 && h.passive == 1 && h.definitions_updated == 1691587153 &&
              h.n_conflicting == 1 && strstr(h.conflicting, "clamonacc"));
        CHECK(health_file("health-truncated.json", &h) == -EBADMSG);
        CHECK(mdatp_parse_health_json("{}", 2, &h) == -EBADMSG); /* no "healthy" */
        CHECK(mdatp_parse_health_json("[true]", 6, &h) == -EBADMSG);
        CHECK(mdatp_parse_health_json("{\"healthy\":\"perhaps\"}", 21, &h) == -EBADMSG);
        CHECK(mdatp_parse_health_json("{\"healthy\":true,\"passiveModeEnabled\":{\"x\":1}}", 45, &h) == -EBADMSG);
        CHECK(mdatp_parse_health_json("{\"healthy\":true,\"definitionsUpdated\":\"soon\"}", 44, &h) == -EBADMSG);
        CHECK(mdatp_parse_health_json("{\"healthy\":true} {}", 19, &h) == -EBADMSG);
        CHECK(mdatp_parse_health_json("{\"healthy\":true}", 16, &h) == 0 && h.healthy == 1 && h.realtime == -1);
        {
                char *big = malloc(MDATP_OUTPUT_MAX + 10);
                memset(big, ' ', MDATP_OUTPUT_MAX + 9);
                memcpy(big, "{\"healthy\":true}", 16);
                big[MDATP_OUTPUT_MAX + 9] = '\0';
                CHECK(mdatp_parse_health_json(big, MDATP_OUTPUT_MAX + 9, &h) == -EBADMSG);
                free(big);
        }
        {
                char garbage[1024];
                for (size_t i = 0; i < sizeof garbage - 1; i++)
                        garbage[i] = (char) (1 + (i * 7919) % 255);
                garbage[sizeof garbage - 1] = '\0';
                CHECK(mdatp_parse_health_json(garbage, strlen(garbage), &h) < 0);
                CHECK(mdatp_parse_threats(garbage, strlen(garbage), NULL, &after) < 0);
                CHECK(mdatp_parse_field(garbage, strlen(garbage), v, sizeof v) < 0);
        }
        /* deep nesting is refused by the tokenizer depth limit */
        {
                char deep[200];
                memset(deep, '[', 100);
                memset(deep + 100, ']', 99);
                deep[199] = '\0';
                CHECK(mdatp_parse_threats(deep, 199, NULL, &after) < 0);
        }

        /* threat list delta */
        CHECK(threats_file("threats-empty.json", "/tmp/simstate/e.com", &before) == 0 && before.n == 0);
        CHECK(threats_file("threats-one.json", "/tmp/simstate/e.com", &after) == 0 && after.n == 1);
        CHECK(mdatp_threat_new(&before, &after) &&
              strcmp(mdatp_threat_new(&before, &after)->name, "Virus:DOS/EICAR_Test_File") == 0);
        CHECK(mdatp_threat_new(&after, &after) == NULL);
        CHECK(threats_file("threats-one.json", "/some/other/file", &after) == 0 && mdatp_threat_new(&before, &after) == NULL);
        CHECK(mdatp_parse_threats("[{\"id\":\"1\"}]", 12, NULL, &after) == -EBADMSG);
        CHECK(mdatp_parse_threats("{\"threats\":[{\"id\":\"1\",\"threatName\":\"X\"}]}", 41, NULL, &after) == 0 && after.n == 1);
        CHECK(mdatp_parse_threats("[1]", 3, NULL, &after) == -EBADMSG);

        return avm_test_finish();
}
