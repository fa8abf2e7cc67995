/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the fleet reports' pure parts: the Prometheus text
 * (metrics_format), the upload backoff, the report spool (names, order,
 * bound, left-over temporary files) and the report keys of avmigrate.conf.
 * The real readers (node_exporter, nginx) are in tests/bus. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "configuration.h"
#include "fake-worker.h"
#include "manager.h"
#include "metrics.h"
#include "report-spool.h"
#include "report-upload.h"
#include "util.h"

#include "avm-test.h"

#define MID "0123456789abcdef0123456789abcdef"

static char tmpdir[PATH_MAX];

static void test_metrics_format(void) {
        char buf[METRICS_TEXT_MAX];
        MetricsInput in = {
                .state = "completed",
                .protected_ = true,
                .last_gap_usec = 1500042,
                .deferrals_used = 1,
                .deferrals_left = 2,
                .have_manifest = true,
                .manifest_serial = 42,
                .last_result = "completed",
                .last_job_id = 7,
                .last_finished_usec = 1700000000123456,
        };
        int n = metrics_format(&in, buf, sizeof(buf));

        CHECK(n > 0 && (size_t) n == strlen(buf));
        CHECK(strstr(buf, "# HELP avmigrate_state ") && strstr(buf, "# TYPE avmigrate_state gauge\n"));
        CHECK(strstr(buf, "\navmigrate_state{state=\"completed\"} 1\n"));
        CHECK(strstr(buf, "\navmigrate_state{state=\"running\"} 0\n"));
        CHECK(strstr(buf, "\navmigrate_protected 1\n"));
        CHECK(strstr(buf, "\navmigrate_last_gap_seconds 1.500042\n"));
        CHECK(strstr(buf, "\navmigrate_deferrals_used 1\n") && strstr(buf, "\navmigrate_deferrals_left 2\n"));
        CHECK(strstr(buf, "\navmigrate_manifest_serial 42\n"));
        CHECK(strstr(buf, "\navmigrate_job_result{result=\"completed\"} 1\n"));
        CHECK(strstr(buf, "\navmigrate_job_result{result=\"failed\"} 0\n"));
        CHECK(strstr(buf, "\navmigrate_last_job_id 7\n"));
        CHECK(strstr(buf, "\navmigrate_last_job_finished_timestamp_seconds 1700000000\n"));
        /* Every sample line belongs to a family announced with TYPE before it. */
        for (const char *l = buf; *l; l = strchr(l, '\n') + 1) {
                char name[128], type[160];

                if (*l == '#')
                        continue;
                CHECK(sscanf(l, "%127[a-z_]", name) == 1);
                snprintf(type, sizeof(type), "# TYPE %s gauge\n", name);
                CHECK(strstr(buf, type) && strstr(buf, type) < l);
        }
        CHECK(buf[n - 1] == '\n');

        /* No manifest, no job yet: those families are left out, not faked. */
        in.have_manifest = false;
        in.last_result = "";
        in.last_finished_usec = 0;
        CHECK(metrics_format(&in, buf, sizeof(buf)) > 0);
        CHECK(!strstr(buf, "manifest_serial") && !strstr(buf, "job_result") && !strstr(buf, "finished_timestamp"));
        CHECK(metrics_format(&in, buf, 100) == -ENOBUFS);
}

static void test_backoff(void) {
        uint64_t base = 60 * USEC_PER_SEC, max = 3600 * USEC_PER_SEC;

        CHECK(report_upload_backoff(1, base, max, 0) == base / 2);
        CHECK(report_upload_backoff(1, base, max, base / 2) == base);
        CHECK(report_upload_backoff(1, base, max, UINT64_MAX) <= base);
        CHECK(report_upload_backoff(2, base, max, 0) == base);
        CHECK(report_upload_backoff(3, base, max, 0) == 2 * base);
        CHECK(report_upload_backoff(20, base, max, 0) == max / 2);
        CHECK(report_upload_backoff(1000, base, max, UINT64_MAX) <= max);
        CHECK(report_upload_backoff(1000, base, max, max / 2) == max);
}

static void spool_file(const char *dir, const char *name, size_t size, time_t age) {
        char path[PATH_MAX + 80], *data = calloc(1, size + 1);
        struct timeval tv[2];

        memset(data, 'x', size);
        CHECK(report_spool_add(dir, name, data, size) == 0);
        free(data);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        gettimeofday(&tv[0], NULL);
        tv[0].tv_sec -= age;
        tv[1] = tv[0];
        CHECK(utimes(path, tv) == 0);
}

static bool exists(const char *dir, const char *name) {
        char path[PATH_MAX + 80];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        return access(path, F_OK) == 0;
}

static void test_spool(void) {
        char dir[PATH_MAX + 16], name[REPORT_SPOOL_NAME_MAX], path[PATH_MAX + 80];
        SpoolEntry *l = NULL;
        size_t n = 0;
        struct stat st;

        CHECK(report_spool_name(MID, 12, name, sizeof(name)) == 0 && streq(name, MID "-12.json"));
        CHECK(report_spool_name("0123", 12, name, sizeof(name)) == -EINVAL);
        CHECK(report_spool_name("0123456789ABCDEF0123456789ABCDEF", 1, name, sizeof(name)) == -EINVAL);
        CHECK(report_spool_name_valid(MID "-18446744073709551615.json"));
        CHECK(!report_spool_name_valid(MID "-184467440737095516150.json"));
        CHECK(!report_spool_name_valid(MID "-.json") && !report_spool_name_valid(MID "-1.json.tmp.5"));
        CHECK(!report_spool_name_valid(MID "-1.jsonx") && !report_spool_name_valid("../" MID "-1.json"));
        CHECK(!report_spool_name_valid("notes.txt") && !report_spool_name_valid(""));

        snprintf(dir, sizeof(dir), "%s/spool", tmpdir);
        CHECK(report_spool_list(dir, &l, &n) == 0 && n == 0); /* none yet: empty */
        free(l);
        CHECK(report_spool_add(dir, "../escape.json", "x", 1) == -EINVAL);
        spool_file(dir, MID "-3.json", 100, 10);
        spool_file(dir, MID "-1.json", 100, 30);
        spool_file(dir, MID "-2.json", 100, 20);
        CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
        snprintf(path, sizeof(path), "%s/%s", dir, MID "-1.json");
        CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
        /* What a crash in write_file_atomic() leaves, and a stranger. */
        spool_file(dir, MID "-4.json", 1, 0);
        snprintf(path, sizeof(path), "%s/%s", dir, MID "-4.json");
        {
                char tmp[PATH_MAX + 100];
                snprintf(tmp, sizeof(tmp), "%s.tmp.123", path);
                CHECK(rename(path, tmp) == 0);
        }
        snprintf(path, sizeof(path), "%s/notes.txt", dir);
        fclose(fopen(path, "we"));

        CHECK(report_spool_list(dir, &l, &n) == 0 && n == 3);
        if (n == 3)
                CHECK(streq(l[0].name, MID "-1.json") && streq(l[1].name, MID "-2.json") && streq(l[2].name, MID "-3.json") &&
                      l[0].size == 100);
        free(l);
        CHECK(!exists(dir, MID "-4.json.tmp.123")); /* left over: removed */
        CHECK(exists(dir, "notes.txt"));            /* not ours: untouched */

        /* Bounds: the oldest go first. */
        CHECK(report_spool_enforce(dir, 3, 300) == 0);
        CHECK(report_spool_enforce(dir, 2, 1000) == 1);
        CHECK(!exists(dir, MID "-1.json") && exists(dir, MID "-2.json") && exists(dir, MID "-3.json"));
        CHECK(report_spool_enforce(dir, 10, 150) == 1);
        CHECK(!exists(dir, MID "-2.json") && exists(dir, MID "-3.json"));
        CHECK(report_spool_remove(dir, MID "-3.json") == 0 && !exists(dir, MID "-3.json"));
        CHECK(report_spool_remove(dir, "notes.txt") == -EINVAL && exists(dir, "notes.txt"));
        CHECK(report_spool_list(dir, &l, &n) == 0 && n == 0); /* empty now, the stranger aside */
        free(l);
}

/* Runs m's loop for about usec. */
static void run_for(Manager *m, uint64_t usec) {
        uint64_t end = now_usec(CLOCK_MONOTONIC) + usec;

        for (uint64_t t; (t = now_usec(CLOCK_MONOTONIC)) < end;)
                (void) sd_event_run(m->event, end - t);
}

static bool prom_has(const char *path, const char *line) {
        char *text = NULL;
        size_t n;
        bool found;

        if (read_file_bounded(path, METRICS_TEXT_MAX, &text, &n) < 0)
                return false;
        found = strstr(text, line) != NULL;
        free(text);
        return found;
}

static ino_t inode_of(const char *path) {
        struct stat st;

        return stat(path, &st) < 0 ? 0 : st.st_ino;
}

/* The file follows the manager, but not at every property change: only when
 * a metric changed, and at most once a second. */
static void test_metrics_rate(void) {
        char path[PATH_MAX + 64], conf[PATH_MAX + 64], text[PATH_MAX + 16];
        Manager *m = NULL;
        Worker *w;
        FILE *f;
        ino_t ino;

        snprintf(text, sizeof(text), "%s/text", tmpdir);
        CHECK(mkdir(text, 0755) == 0);
        snprintf(conf, sizeof(conf), "%s/conf/avmigrate.conf", tmpdir);
        f = fopen(conf, "we");
        if (!f)
                abort();
        fprintf(f, "[Manager]\nDiscouraged=test-old\nApproved=test-new\nPrometheusTextfile=yes\nPrometheusTextfileDirectory=%s\n",
                text);
        fclose(f);
        if (manager_new(&m) < 0 || manager_startup(m) < 0)
                abort();
        manager_detect(m);
        CHECK(metrics_setup(m) == 0);
        w = fake_worker_find("detect");
        if (w)
                fake_worker_finish(w, 0, NULL, "{\"products\":[]}");
        snprintf(path, sizeof(path), "%s/" METRICS_FILE, text);
        run_for(m, 100 * USEC_PER_MSEC);
        CHECK(prom_has(path, "avmigrate_deferrals_used 0\n"));
        run_for(m, 1100 * USEC_PER_MSEC); /* the start-up write is more than a second ago */
        ino = inode_of(path);
        CHECK(ino != 0);

        /* Property changes that change no metric (progress ticks): no write. */
        for (int i = 0; i < 50; i++) {
                manager_changed(m);
                run_for(m, 30 * USEC_PER_MSEC);
        }
        CHECK(inode_of(path) == ino);

        /* A change is written at once ... */
        m->deferrals_used = 1;
        manager_changed(m);
        run_for(m, 100 * USEC_PER_MSEC);
        CHECK(prom_has(path, "avmigrate_deferrals_used 1\n"));
        /* ... the next one not before a second has passed ... */
        m->deferrals_used = 2;
        manager_changed(m);
        run_for(m, 500 * USEC_PER_MSEC);
        CHECK(prom_has(path, "avmigrate_deferrals_used 1\n"));
        /* ... but then, without another change to wake it. */
        run_for(m, 700 * USEC_PER_MSEC);
        CHECK(prom_has(path, "avmigrate_deferrals_used 2\n"));

        metrics_done();
        manager_free(m);
        (void) unlink(path);
        (void) rmdir(text);
        (void) unlink(conf);
}

static int parse_text(const char *text, AvmConfig **ret, char *error, size_t size) {
        char path[PATH_MAX + 64];
        AvmConfig *c = config_new();
        FILE *f;
        int r;

        snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
        f = fopen(path, "we");
        if (!f)
                abort();
        fputs(text, f);
        fclose(f);
        r = config_parse_file(c, path, error, size);
        if (r < 0 || !ret)
                config_free(c);
        else
                *ret = c;
        return r;
}

static void test_config(void) {
        static const struct {
                const char *text, *error;
        } bad[] = {
                { "PrometheusTextfile=maybe", "PrometheusTextfile=: invalid boolean" },
                { "PrometheusTextfileDirectory=", "must not be empty" },
                { "PrometheusTextfileDirectory=relative/dir", "expected an absolute path" },
                { "ReportUploadURL=http://reports.example/", "expected an https:// URL" },
                { "ReportUploadURL=https://reports.example/?a=b", "expected an https:// URL" },
                { "ReportUploadURL=https://reports.example/a b", "expected an https:// URL" },
                { "ReportUploadURL=https://", "expected an https:// URL" },
                { "ReportUploadCA=ca.pem", "ReportUploadCA=: expected an absolute path" },
                { "ReportUploadClientKey=key.pem", "ReportUploadClientKey=: expected an absolute path" },
                { "ReportSpoolMaxFiles=0", "expected 1..10000" },
                { "ReportSpoolMaxFiles=10001", "expected 1..10000" },
                { "ReportSpoolMaxBytes=100", "expected 4096.." },
                { "ReportUploadRetrySec=0", "ReportUploadRetrySec=: invalid time" },
                { "ReportUploadRetryMaxSec=soon", "ReportUploadRetryMaxSec=: invalid time" },
        };
        char error[512], text[256];
        AvmConfig *c = NULL;

        c = config_new();
        CHECK(c && !c->prometheus_textfile && streq(c->prometheus_textfile_directory, "/var/lib/prometheus/node-exporter"));
        CHECK(c && !c->report_upload_url && c->report_spool_max_files == 100 && c->report_upload_retry_usec == 60 * USEC_PER_SEC);
        config_free(c);
        c = NULL;
        CHECK(parse_text("[Manager]\nPrometheusTextfile=yes\nPrometheusTextfileDirectory=/srv/textfile\n"
                         "ReportUploadURL=https://reports.example/fleet/\nReportUploadCA=/etc/ssl/reports.pem\n"
                         "ReportUploadClientCertificate=/etc/avmigrate/client.pem\nReportUploadClientKey=/etc/avmigrate/client.key\n"
                         "ReportSpoolMaxFiles=5\nReportSpoolMaxBytes=65536\nReportUploadRetrySec=0.5\nReportUploadRetryMaxSec=30\n",
                         &c, error, sizeof(error)) == 0);
        if (c) {
                CHECK(c->prometheus_textfile && streq(c->prometheus_textfile_directory, "/srv/textfile"));
                CHECK(streq(c->report_upload_url, "https://reports.example/fleet/"));
                CHECK(streq(c->report_upload_ca, "/etc/ssl/reports.pem"));
                CHECK(streq(c->report_upload_client_certificate, "/etc/avmigrate/client.pem"));
                CHECK(streq(c->report_upload_client_key, "/etc/avmigrate/client.key"));
                CHECK(c->report_spool_max_files == 5 && c->report_spool_max_bytes == 65536);
                CHECK(c->report_upload_retry_usec == USEC_PER_SEC / 2 && c->report_upload_retry_max_usec == 30 * USEC_PER_SEC);
                config_free(c);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                snprintf(text, sizeof(text), "[Manager]\n%s\n", bad[i].text);
                error[0] = 0;
                CHECK(parse_text(text, NULL, error, sizeof(error)) < 0);
                if (!strstr(error, bad[i].error))
                        fprintf(stderr, "'%s': unexpected error '%s'\n", bad[i].text, error);
                CHECK(strstr(error, bad[i].error) != NULL);
        }
}

/* Removes what the tests left: the spool's stranger, the spool, the config file. */
static void cleanup(void) {
        char path[PATH_MAX + 32];

        snprintf(path, sizeof(path), "%s/spool/notes.txt", tmpdir);
        (void) unlink(path);
        snprintf(path, sizeof(path), "%s/spool", tmpdir);
        (void) rmdir(path);
        snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
        (void) unlink(path);
        /* The manager's directories, with what it wrote into them (no subdirectories). */
        for (const char *const *d = (const char *const[]){ "state", "conf", "data", NULL }; *d; d++) {
                DIR *dir;
                struct dirent *de;

                snprintf(path, sizeof(path), "%s/%s", tmpdir, *d);
                dir = opendir(path);
                while (dir && (de = readdir(dir)))
                        (void) unlinkat(dirfd(dir), de->d_name, 0);
                if (dir)
                        closedir(dir);
                (void) rmdir(path);
        }
        (void) rmdir(tmpdir);
}

int main(void) {
        char dir[PATH_MAX + 16];

        snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-reports.XXXXXX");
        if (!mkdtemp(tmpdir))
                return 2;
        /* For the manager of test_metrics_rate(). */
        for (const char *const *d = (const char *const[]){ "STATE_DIRECTORY:state", "CONFIGURATION_DIRECTORY:conf",
                                                           "AVMIGRATE_DATA_DIR:data", NULL };
             *d; d++) {
                const char *colon = strchr(*d, ':');
                char var[64];

                snprintf(var, sizeof(var), "%.*s", (int) (colon - *d), *d);
                snprintf(dir, sizeof(dir), "%s/%s", tmpdir, colon + 1);
                (void) mkdir(dir, 0700);
                setenv(var, dir, 1);
        }
        test_metrics_format();
        test_backoff();
        test_spool();
        test_config();
        test_metrics_rate();
        cleanup();
        return avm_test_finish();
}
