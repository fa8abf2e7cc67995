/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the daemon's pure parts: configuration, maintenance windows,
 * the job state file reader, report classification, helpers. No bus. */
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "configuration.h"
#include "history.h"
#include "job.h"
#include "report.h"
#include "scope.h"
#include "state.h"
#include "util.h"
#include "window.h"

#include "avm-test.h"

static char tmpdir[PATH_MAX];

static void write_text(const char *name, const char *text) {
        char path[PATH_MAX + 64];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
        f = fopen(path, "we");
        if (!f)
                abort();
        fputs(text, f);
        fclose(f);
}

static int parse_text(const char *text, AvmConfig **ret, char *error, size_t size) {
        char path[PATH_MAX + 64];
        AvmConfig *c = config_new();
        int r;

        write_text("t.conf", text);
        snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
        r = config_parse_file(c, path, error, size);
        if (r < 0 || !ret)
                config_free(c);
        else
                *ret = c;
        return r;
}

static void test_config(void) {
        char error[512];
        AvmConfig *c = NULL;

        CHECK(parse_text("[Manager]\nDiscouraged=kaspersky-kesl\nApproved=clamav microsoft-mdatp\n"
                         "AllowOverlap=no\nMaxDeferrals=5\nMonitorIntervalSec=0.5\nMaintenanceWindow=Mon..Fri 18:00-23:00\n"
                         "[Product clamav]\nClamdSocket=/run/x.sock\n",
                         &c, error, sizeof(error)) == 0);
        if (c) {
                CHECK(streq(c->discouraged, "kaspersky-kesl"));
                CHECK(c->approved && streq(c->approved[0], "clamav") && streq(c->approved[1], "microsoft-mdatp") && !c->approved[2]);
                CHECK(c->allow_overlap == OVERLAP_NO);
                CHECK(c->max_deferrals == 5);
                CHECK(c->monitor_interval_usec == 500000);
                CHECK(streq_ptr(config_get(c, "Product clamav", "ClamdSocket"), "/run/x.sock"));
                CHECK(config_get(c, "Product clamav", "Nope") == NULL);
                config_free(c);
        }

        /* Every rejection names the file and line. */
        CHECK(parse_text("[Manager]\nMaxDeferrals=lots\n", NULL, error, sizeof(error)) < 0);
        CHECK(strstr(error, "t.conf:2: MaxDeferrals=") != NULL);
        CHECK(parse_text("[Manager]\n\nBogus=1\n", NULL, error, sizeof(error)) < 0);
        CHECK(strstr(error, "t.conf:3: unknown key 'Bogus'") != NULL);
        CHECK(parse_text("[Frobnicator]\nA=b\n", NULL, error, sizeof(error)) < 0);
        CHECK(strstr(error, "unknown section") != NULL);
        CHECK(parse_text("[Manager\nA=b\n", NULL, error, sizeof(error)) < 0);
        CHECK(strstr(error, "t.conf:1:") != NULL);
        CHECK(parse_text("[Manager]\nAllowOverlap=sometimes\n", NULL, error, sizeof(error)) < 0);
        CHECK(parse_text("[Manager]\nApproved=clam;rm -rf\n", NULL, error, sizeof(error)) < 0);
        CHECK(parse_text("[Manager]\nMaintenanceWindow=whenever\n", NULL, error, sizeof(error)) < 0);
        CHECK(parse_text("[Manager]\nMonitorIntervalSec=0.001\n", NULL, error, sizeof(error)) < 0);
        CHECK(parse_text("[Product ../../etc]\nA=b\n", NULL, error, sizeof(error)) < 0);
        CHECK(parse_text("Key=outside\n", NULL, error, sizeof(error)) < 0);
        CHECK(strstr(error, "outside of a section") != NULL);
        {
                /* A NUL byte in a file is refused, not silently cut off. */
                char path[PATH_MAX + 64];
                AvmConfig *c2 = config_new();
                FILE *f;

                snprintf(path, sizeof(path), "%s/nul.conf", tmpdir);
                f = fopen(path, "we");
                fwrite("[Manager]\nMaxDeferrals=1\0\nBogus=1\n", 1, 35, f);
                fclose(f);
                CHECK(config_parse_file(c2, path, error, sizeof(error)) < 0 && strstr(error, "NUL") != NULL);
                config_free(c2);
                (void) unlink(path);
        }
}

static time_t local_time(int wday_from_sunday, int hour, int min) {
        /* 2026-11-22 is a Sunday. */
        struct tm tm = {
                .tm_year = 126, .tm_mon = 10, .tm_mday = 22 + wday_from_sunday, .tm_hour = hour, .tm_min = min, .tm_isdst = -1
        };
        return mktime(&tm);
}

static void test_window(void) {
        Window w;

        CHECK(window_parse("", &w) == 0 && w.n == 0 && window_contains(&w, time(NULL)));
        CHECK(window_parse("Mon..Fri 18:00-23:00", &w) == 0);
        CHECK(window_contains(&w, local_time(1, 19, 0))); /* Monday 19:00 */
        CHECK(!window_contains(&w, local_time(1, 17, 59)));
        CHECK(!window_contains(&w, local_time(0, 19, 0))); /* Sunday */
        CHECK(window_parse("Sat,Sun 22:00-06:00", &w) == 0);
        CHECK(window_contains(&w, local_time(6, 23, 0))); /* Saturday night */
        CHECK(window_contains(&w, local_time(1, 5, 0)));  /* Monday early, after Sunday night */
        CHECK(!window_contains(&w, local_time(2, 5, 0))); /* Tuesday early */
        CHECK(window_parse("12:00-13:00; 20:00-21:00", &w) == 0 && w.n == 2);
        CHECK(window_parse("Mon..Xyz 10:00-11:00", &w) < 0);
        CHECK(window_parse("25:00-26:00", &w) < 0);
        CHECK(window_parse("10:00", &w) < 0);
        CHECK(window_parse("10:00-11:00x", &w) < 0);
}

static void test_util(void) {
        uint64_t u;
        char *data = NULL;
        char path[PATH_MAX + 64];

        CHECK(parse_sec("2", &u) == 0 && u == 2000000);
        CHECK(parse_sec("0.25", &u) == 0 && u == 250000);
        CHECK(parse_sec("-1", &u) < 0);
        CHECK(parse_sec("1.", &u) < 0);
        CHECK(parse_sec("abc", &u) < 0);
        CHECK(parse_sec("99999999999999999999", &u) < 0);
        CHECK(parse_boolean("yes") == 1 && parse_boolean("off") == 0 && parse_boolean("maybe") < 0);
        CHECK(string_is_safe_id("clamav") && string_is_safe_id("microsoft-mdatp"));
        CHECK(!string_is_safe_id("../x") && !string_is_safe_id("") && !string_is_safe_id("A"));

        snprintf(path, sizeof(path), "%s/atomic", tmpdir);
        CHECK(write_file_atomic(path, "hello", 5, 0600) == 0);
        CHECK(read_file_bounded(path, 5, &data, NULL) == 0 && streq(data, "hello"));
        free(data);
        data = NULL;
        CHECK(read_file_bounded(path, 4, &data, NULL) == -EFBIG && !data);
}

static Job *valid_job(void) {
        Job *j = job_new(NULL, 7);
        snprintf(j->from, sizeof(j->from), "test-old");
        snprintf(j->to, sizeof(j->to), "test-new");
        j->step = STEP_HANDOVER;
        j->phase = PHASE_RUNNING;
        return j;
}

static int roundtrip(const char *text, char *why, size_t size) {
        json_object *o = json_tokener_parse(text);
        Job *j = job_new(NULL, 1);
        int r = job_from_json(j, o, why, size);

        json_object_put(o);
        job_free(j);
        return r;
}

static void test_state(void) {
        Job *j = valid_job(), *k = job_new(NULL, 1);
        json_object *o = job_to_json(j);
        char why[256] = "";
        const char *s;

        CHECK(job_from_json(k, o, why, sizeof(why)) == 0);
        CHECK(k->id == 7 && streq(k->from, "test-old") && k->step == STEP_HANDOVER && k->phase == PHASE_RUNNING);
        CHECK(streq(k->path, "/org/avmigrate/Migrate1/job/7"));

        /* Each tampered field is refused with a reason. */
        s = json_object_to_json_string(o);
        {
                static const struct {
                        const char *from, *to;
                } edits[] = {
                        { "\"id\": 7", "\"id\": -1" },
                        { "\"id\": 7", "\"id\": \"7\"" },
                        { "\"from\": \"test-old\"", "\"from\": \"..\\/..\\/x\"" },
                        { "\"state\": \"running\"", "\"state\": \"exploding\"" },
                        { "\"phase\": \"running\"", "\"phase\": 3" },
                        { "\"step_index\": 4", "\"step_index\": 99" },
                        { "\"version\": 1", "\"version\": 2" },
                        { "\"progress\": 0", "\"progress\": 101" },
                };
                for (size_t i = 0; i < ELEMENTSOF(edits); i++) {
                        const char *at = strstr(s, edits[i].from);
                        char buf[65536];

                        CHECK(at != NULL);
                        if (!at)
                                continue;
                        snprintf(buf, sizeof(buf), "%.*s%s%s", (int) (at - s), s, edits[i].to, at + strlen(edits[i].from));
                        why[0] = 0;
                        CHECK(roundtrip(buf, why, sizeof(why)) < 0 && why[0]);
                }
        }
        CHECK(roundtrip("[]", why, sizeof(why)) < 0);
        CHECK(roundtrip("{}", why, sizeof(why)) < 0);
        json_object_put(o);
        job_free(j);
        job_free(k);
}

static json_object *sample(int64_t start, int64_t end, bool prot) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "mono_start", json_object_new_int64(start));
        json_object_object_add(o, "mono_end", json_object_new_int64(end));
        json_object_object_add(o, "protected", json_object_new_boolean(prot));
        return o;
}

static void test_report(void) {
        Job *j = valid_job();
        json_object *g = json_object_new_object(), *r, *summary, *v;

        json_object_object_add(g, "start_mono", json_object_new_int64(1000));
        json_object_object_add(g, "end_mono", json_object_new_int64(2000));
        json_object_array_add(j->gaps, g);
        json_object_array_add(j->samples, sample(100, 200, true));
        json_object_array_add(j->samples, sample(1500, 1600, false)); /* inside the gap */
        json_object_array_add(j->samples, sample(1900, 2100, false)); /* overlaps its end */
        json_object_array_add(j->samples, sample(3000, 3100, false)); /* a breach */
        r = report_build(j);
        CHECK(json_object_object_get_ex(r, "summary", &summary));
        CHECK(json_object_object_get_ex(summary, "unprotected_in_gap", &v) && json_object_get_int64(v) == 2);
        CHECK(json_object_object_get_ex(summary, "unprotected_outside_gap", &v) && json_object_get_int64(v) == 1);
        CHECK(json_object_object_get_ex(summary, "protected_samples", &v) && json_object_get_int64(v) == 1);
        json_object_put(r);
        job_free(j);
}

static void test_history(void) {
        json_object *a = json_object_new_object(), *b = json_object_new_object(), *found = NULL, *list = NULL;
        char path[PATH_MAX + 64];
        FILE *f;

        setenv("STATE_DIRECTORY", tmpdir, 1);
        json_object_object_add(a, "id", json_object_new_int64(1));
        json_object_object_add(a, "result", json_object_new_string("completed"));
        json_object_object_add(b, "id", json_object_new_int64(2));
        json_object_object_add(b, "result", json_object_new_string("rolled-back"));
        CHECK(history_append(a) == 0 && history_append(b) == 0);
        /* A torn last line, as after a power loss mid-write, is skipped. */
        snprintf(path, sizeof(path), "%s/history.jsonl", tmpdir);
        f = fopen(path, "ae");
        fputs("{\"id\": 3, \"resu", f);
        fclose(f);
        CHECK(history_last_id() == 2);
        CHECK(history_has(1) && history_has(2) && !history_has(3));
        CHECK(history_find(0, &found) == 0 && json_object_get_int64(json_object_object_get(found, "id")) == 2);
        CHECK(history_list(&list) == 0 && json_object_array_length(list) == 2);
        json_object_put(found);
        json_object_put(list);
        json_object_put(a);
        json_object_put(b);
}

static void test_scope(void) {
        ScopeList l, m, req, unc, abs_;
        AvmScope old = { .known = true, .n_include = 1 };
        char p[SCOPE_PATH_MAX], err[160] = "";
        /* Real /proc/self/mountinfo lines (Debian 12 desktop shapes). */
        const char *mi =
                "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
                "40 22 254:2 / /home rw,relatime shared:2 - ext4 /dev/vda2 rw\n"
                "41 22 0:35 / /tmp rw,nosuid,nodev shared:3 - tmpfs tmpfs rw\n"
                "42 22 8:17 / /media/anna/USB\\040STICK rw,nosuid,nodev,relatime - vfat /dev/sdb1 rw\n"
                "43 22 8:18 / /data rw,relatime - xfs /dev/sdc1 rw\n"
                "44 22 8:19 / /backup ro,relatime - ext4 /dev/sdc2 ro\n"
                "45 22 0:50 / /mnt/share rw,relatime - cifs //srv/share rw\n"
                "46 22 8:1 / /boot/efi rw,relatime - vfat /dev/sda1 rw\n"
                "47 22 0:22 / /proc rw,nosuid - proc proc rw\n"
                "48 22 8:20 / /var/lib/docker rw,relatime - ext4 /dev/sdd1 rw\n"
                "garbage line without separator\n";

        strcpy(p, "//home//anna/./x");
        CHECK(scope_path_normalize(p) == -EINVAL);
        strcpy(p, "//home//anna/");
        CHECK(scope_path_normalize(p) == 0 && streq(p, "/home/anna"));
        strcpy(p, "///");
        CHECK(scope_path_normalize(p) == 0 && streq(p, "/"));
        strcpy(p, "home");
        CHECK(scope_path_normalize(p) == -EINVAL);
        CHECK(scope_path_under("/home/anna", "/home") && scope_path_under("/home", "/home") && scope_path_under("/x", "/"));
        CHECK(!scope_path_under("/homes", "/home") && !scope_path_under("/", "/home"));

        CHECK(scope_list_parse("/home  /tmp\t/home/", &l, err, sizeof(err)) == 0 && l.n == 2);
        CHECK(scope_list_parse("/home ../etc", &l, err, sizeof(err)) == -EINVAL && strstr(err, "../etc"));
        CHECK(l.n == 2); /* unchanged on error */

        CHECK(scope_user_mounts(mi, strlen(mi), &m) == 0);
        CHECK(m.n == 4 && streq(m.path[0], "/home") && streq(m.path[1], "/media/anna/USB STICK") && streq(m.path[2], "/data") &&
              streq(m.path[3], "/mnt/share"));

        /* What the old product covered decides what the replacement must. */
        strcpy(old.include[0], "/home/anna/Downloads");
        CHECK(scope_list_parse("/home /tmp", &l, err, sizeof(err)) == 0);
        scope_required(&l, &old, &req);
        CHECK(req.n == 1 && streq(req.path[0], "/home/anna/Downloads"));
        strcpy(old.include[0], "/");
        old.n_exclude = 1;
        strcpy(old.exclude[0], "/tmp");
        scope_required(&l, &old, &req);
        CHECK(req.n == 1 && streq(req.path[0], "/home"));
        old.known = false;
        scope_required(&l, &old, &req);
        CHECK(req.n == 2);
        old = (AvmScope){ .known = true, .n_include = 1 };
        strcpy(old.include[0], "/home");
        scope_uncovered(&l, &old, &unc);
        CHECK(unc.n == 1 && streq(unc.path[0], "/tmp"));

        /* Resolve: excluded and absent roots drop out. */
        CHECK(scope_list_parse("/tmp /nonexistent-avm /proc", &l, err, sizeof(err)) == 0);
        CHECK(scope_list_parse("/proc", &m, err, sizeof(err)) == 0);
        CHECK(scope_resolve(&l, &m, false, &req, &abs_) == 0);
        CHECK(req.n == 1 && streq(req.path[0], "/tmp") && abs_.n == 1 && streq(abs_.path[0], "/nonexistent-avm"));
}

int main(void) {
        int r;

        snprintf(tmpdir, sizeof(tmpdir), "/tmp/avm-unit.XXXXXX");
        if (!mkdtemp(tmpdir))
                return 1;
        test_config();
        test_window();
        test_util();
        test_state();
        test_report();
        test_history();
        test_scope();
        r = avm_test_finish();
        {
                char cmd[PATH_MAX + 16];
                snprintf(cmd, sizeof(cmd), "%s/history.jsonl", tmpdir);
                (void) unlink(cmd);
                snprintf(cmd, sizeof(cmd), "%s/t.conf", tmpdir);
                (void) unlink(cmd);
                snprintf(cmd, sizeof(cmd), "%s/atomic", tmpdir);
                (void) unlink(cmd);
                (void) rmdir(tmpdir);
        }
        return r;
}
