/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the mdatp output parsers, on the real samples in this
 * directory (each headed by its provenance) and variations of them. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avm-test.h"
#include "plugin-sample.h"

#include "../mdatp-parse.h"

#define S(x) x, strlen(x)

static char *sample(const char *name, size_t *n) {
        return load_sample(TEST_DATA_DIR, name, MDATP_OUTPUT_MAX, n);
}

/* Replaces the first occurrence of from in s (a malloc'ed string) by to. */
static char *replace(char *s, const char *from, const char *to) {
        char *p = strstr(s, from), *r;
        if (!p)
                return s;
        r = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
        sprintf(r, "%.*s%s%s", (int) (p - s), s, to, p + strlen(from));
        free(s);
        return r;
}

int main(void) {
        static MdatpThreats before, after;
        PluginParseError e;
        MdatpHealth h;
        unsigned files, threats;
        bool managed;
        char v[128];
        size_t n;
        char *b;

        /* health --output json 101.23062.0010 (GLPI): passive, licensed, values as {displayValue,isManaged,value} */
        b = sample("health-json-101.23062.0010.json", &n);
        CHECK(mdatp_parse_health_json(b, n, &h, NULL) == 0 && h.healthy == 1 && h.licensed == 1 && h.passive == 1 &&
              h.realtime == 0 && h.realtime_managed == 0 && strcmp(h.app_version, "101.23062.0010") == 0 &&
              h.definitions_minutes_ago == 20 && h.definitions_updated == 1691587153 && h.n_conflicting == 0 &&
              strcmp(h.org_id, "***ANONYMIZED***") == 0);
        /* managed and enabled; an unknown extra field; an ATTENTION line before the JSON */
        b = replace(
                b, "\"realTimeProtectionEnabled\":{\"displayValue\":true,\"isManaged\":false,\"value\":false}",
                "\"realTimeProtectionEnabled\":{\"displayValue\":true,\"isManaged\":true,\"value\":true},\"newField\":{\"x\":1}");
        b = replace(b, "{\"$type\":\"getHealthAllResult\"",
                    "ATTENTION: No license found. Contact your administrator.\n{\"$type\":\"x\"");
        CHECK(mdatp_parse_health_json(b, strlen(b), &h, NULL) == 0 && h.realtime == 1 && h.realtime_managed == 1);
        b = replace(b, "\"licensed\":true", "\"licensed\":\"maybe\"");
        CHECK(mdatp_parse_health_json(b, strlen(b), &h, &e) == -EBADMSG && strstr(e.text, "licensed"));
        free(b);
        CHECK(mdatp_parse_health_json(S("{\"licensed\":true}"), &h, &e) == -EBADMSG && strstr(e.text, "healthy"));
        CHECK(mdatp_parse_health_json(S("{\"healthy\":true"), &h, &e) == -EBADMSG && e.line == 1);
        CHECK(mdatp_parse_health_json(S("{\"healthy\":true} trailing"), &h, NULL) == -EBADMSG);
        CHECK(mdatp_parse_health_json(S("[]"), &h, NULL) == -EBADMSG);

        /* health table 101.02.55, unlicensed (alexverboon/MDATP#3) */
        b = sample("health-text-101.02.55-unlicensed.txt", &n);
        CHECK(mdatp_parse_health_text(b, n, &h, NULL) == 0 && h.healthy == 0 && h.licensed == 0 && h.realtime == 0 &&
              h.org_id[0] == '\0' && strcmp(h.app_version, "101.02.55") == 0 && h.passive == -1);
        b = replace(b, "real_time_protection_enabled                : false",
                    "real_time_protection_enabled\t: true [managed]\npassive_mode_enabled : false  [managed]");
        CHECK(mdatp_parse_health_text(b, strlen(b), &h, NULL) == 0 && h.realtime == 1 && h.realtime_managed == 1 && h.passive == 0);
        b = replace(b, "licensed                                    : false", "licensed : perhaps");
        CHECK(mdatp_parse_health_text(b, strlen(b), &h, &e) == -EBADMSG && e.line == 3 && strstr(e.text, "perhaps"));
        free(b);
        CHECK(mdatp_parse_health_text(S("no colon here\n"), &h, &e) == -EBADMSG && e.line == 1);
        CHECK(mdatp_parse_health_text(S("log_level : \"info\"\n"), &h, &e) == -EBADMSG && e.line == 0);

        /* --details definitions with [managed] (Microsoft's doc) */
        b = sample("health-details-definitions-managed.txt", &n);
        CHECK(mdatp_parse_health_text(b, n, &h, &e) == -EBADMSG); /* no state line in --details definitions */
        CHECK(strstr(b, "true [managed]") != NULL);
        free(b);

        /* --field: ATTENTION line, quotes, [managed] (mde_installer.sh strips the first two) [INF for --field + [managed]] */
        CHECK(mdatp_parse_field(S("\"101.23062.0010\"\n"), v, sizeof v, &managed, NULL) == 0 &&
              strcmp(v, "101.23062.0010") == 0 && !managed);
        CHECK(mdatp_parse_field(S("ATTENTION: No license found. Contact your administrator for help.\nfalse\n"), v, sizeof v,
                                &managed, NULL) == 0 &&
              strcmp(v, "false") == 0);
        CHECK(mdatp_parse_field(S("true [managed]\n"), v, sizeof v, &managed, NULL) == 0 && strcmp(v, "true") == 0 && managed);
        CHECK(mdatp_parse_bool(v) == 1);
        CHECK(mdatp_parse_field(S("\"passive\" [managed]\r\n"), v, sizeof v, &managed, NULL) == 0 && strcmp(v, "passive") == 0);
        CHECK(mdatp_parse_field(S("ATTENTION: only a warning\n"), v, sizeof v, NULL, &e) == -EBADMSG && e.line == 0);
        CHECK(mdatp_parse_field(S("true\nfalse\n"), v, sizeof v, NULL, &e) == -EBADMSG && e.line == 2);
        CHECK(mdatp_parse_bool("True") == 1 && mdatp_parse_bool("disabled") == 0 && mdatp_parse_bool("yes") == -EBADMSG);

        /* scan custom 101.02.55 (alexverboon/MDATP#3) */
        b = sample("scan-custom-101.02.55-unlicensed.txt", &n);
        CHECK(mdatp_parse_scan(b, n, &files, &threats, NULL) == 0 && files == 1 && threats == 0);
        b = replace(b, "0 threat(s)", "1 threat(s)");
        b = replace(b, "        1 file(s)", "\t1 file(s)");
        CHECK(mdatp_parse_scan(b, strlen(b), &files, &threats, NULL) == 0 && files == 1 && threats == 1);
        free(b);
        CHECK(mdatp_parse_scan(S("Scan has finished\n"), &files, &threats, &e) == -EBADMSG && e.line == 0);

        /* threat list: the shape a consumer script reads [INF] */
        b = sample("threat-list-shape-INFERRED.json", &n);
        CHECK(mdatp_parse_threats(S("{\"threats\":{}}"), &before, NULL) == 0 && before.n == 0);
        CHECK(mdatp_parse_threats(b, n, &after, NULL) == 0 && after.n == 1 &&
              strcmp(after.threats[0].name, "Virus:DOS/EICAR_Test_File") == 0 &&
              strcmp(after.threats[0].status, "quarantined") == 0);
        CHECK(mdatp_threat_new(&before, &after) == &after.threats[0]);
        CHECK(mdatp_threat_new(&after, &after) == NULL);
        b = replace(b, "\"tracking_id\"", "\"trackingId\"");
        CHECK(mdatp_parse_threats(b, strlen(b), &after, &e) == -EBADMSG && strstr(e.text, "tracking_id"));
        free(b);
        CHECK(mdatp_parse_threats(S("[]"), &after, NULL) == -EBADMSG);
        CHECK(mdatp_parse_threats(S("{\"threats\":[]}"), &after, NULL) == -EBADMSG);

        {
                char garbage[1024];
                for (size_t i = 0; i < sizeof garbage - 1; i++)
                        garbage[i] = (char) (1 + (i * 7919) % 255);
                garbage[sizeof garbage - 1] = '\0';
                CHECK(mdatp_parse_health_json(garbage, strlen(garbage), &h, NULL) < 0);
                CHECK(mdatp_parse_health_text(garbage, strlen(garbage), &h, NULL) < 0);
                CHECK(mdatp_parse_threats(garbage, strlen(garbage), &after, NULL) < 0);
                CHECK(mdatp_parse_field(garbage, strlen(garbage), v, sizeof v, NULL, NULL) < 0);
        }
        return avm_test_finish();
}
