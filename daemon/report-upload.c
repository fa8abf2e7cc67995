/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <limits.h>
#include <sys/random.h>
#include <systemd/sd-id128.h>

#include "fetch.h"
#include "log.h"
#include "manifest.h"
#include "paths.h"
#include "phasing.h"
#include "report-spool.h"
#include "report-upload.h"
#include "report.h"
#include "util.h"

#define RESPONSE_MAX (64u * 1024u) /* the server's answer to a PUT is not ours to keep */
/* One report in memory at a time, whatever ReportSpoolMaxBytes= allows in
 * total: a job report is tens of KiB, far below this. */
#define REPORT_READ_MAX (64u * 1024u * 1024u)

typedef struct UploadSettings {
        const char *url; /* NULL: uploads are off */
        const char *ca_file, *client_cert, *client_key;
} UploadSettings;

static struct {
        Manager *manager;
        FleetFetch *transfer;
        sd_event_source *retry;
        unsigned failures;
        char name[REPORT_SPOOL_NAME_MAX]; /* the report in flight */
        char *url;                        /* ... and where it goes */
        char spool[PATH_MAX];
} upload;

static void kick(Manager *m);

uint64_t report_upload_backoff(unsigned failures, uint64_t base_usec, uint64_t max_usec, uint64_t random) {
        uint64_t d = base_usec;

        for (unsigned i = 1; i < failures && d < max_usec; i++)
                d *= 2;
        if (d > max_usec)
                d = max_usec;
        return d / 2 + random % (d / 2 + 1);
}

static const char *nonempty(const char *s) {
        return isempty(s) ? NULL : s;
}

/* The manifest, signed policy, names the server when it says so; the local
 * configuration otherwise. */
static bool settings(Manager *m, UploadSettings *s) {
        const FleetManifest *f = manager_manifest(m);
        const AvmConfig *c = m->config;

        *s = (UploadSettings){
                .url = f && f->report.upload_url[0] ? f->report.upload_url : nonempty(c->report_upload_url),
                .ca_file = nonempty(c->report_upload_ca) ?: nonempty(c->trusted_ca),
                .client_cert = nonempty(c->report_upload_client_certificate),
                .client_key = nonempty(c->report_upload_client_key),
        };
        return s->url != NULL;
}

static uint64_t random_u64(void) {
        uint64_t r;

        if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t) sizeof(r))
                r = now_usec(CLOCK_MONOTONIC) ^ (uint64_t) getpid();
        return r;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        kick(upload.manager);
        return 0;
}

static void schedule_retry(Manager *m, uint64_t delay) {
        uint64_t when = now_usec(CLOCK_MONOTONIC) + delay;
        int r;

        if (!upload.retry) {
                r = sd_event_add_time(m->event, &upload.retry, CLOCK_MONOTONIC, when, USEC_PER_SEC / 10, on_retry, NULL);
                if (r < 0)
                        log_error_errno(r, "Cannot schedule the next report upload: %m");
                else
                        (void) sd_event_source_set_description(upload.retry, "report-upload-retry");
                return;
        }
        if (sd_event_source_set_time(upload.retry, when) >= 0)
                (void) sd_event_source_set_enabled(upload.retry, SD_EVENT_ONESHOT);
}

static bool retry_pending(void) {
        int enabled = SD_EVENT_OFF;

        return upload.retry && sd_event_source_get_enabled(upload.retry, &enabled) >= 0 && enabled != SD_EVENT_OFF;
}

static void failed(Manager *m, const char *url, const char *why) {
        uint64_t delay;

        upload.failures++;
        delay = report_upload_backoff(upload.failures, m->config->report_upload_retry_usec,
                                      m->config->report_upload_retry_max_usec, random_u64());
        log_error("Cannot deliver the report %s to %s: %s; it stays spooled, next attempt in %" PRIu64 ".%01" PRIu64
                  " s (failure %u).",
                  upload.name, url, why, delay / USEC_PER_SEC, delay % USEC_PER_SEC / (USEC_PER_SEC / 10), upload.failures);
        schedule_retry(m, delay);
}

static void on_done(FleetFetch *f, int error, FleetFetchResult *result, void *userdata) {
        Manager *m = upload.manager;
        char url[FLEET_URL_MAX + REPORT_SPOOL_NAME_MAX + 2], why[FLEET_REASON_MAX + 32];
        long code = result->http_code;
        int r;

        snprintf(url, sizeof(url), "%s", upload.url);
        if (error < 0)
                snprintf(why, sizeof(why), "%s", result->reason[0] ? result->reason : strerror(-error));
        else
                snprintf(why, sizeof(why), "the server answered HTTP %ld", code);
        upload.transfer = fleet_fetch_free(f);
        upload.url = mfree(upload.url);

        if (error < 0 || code < 200 || code > 299)
                return failed(m, url, why);
        upload.failures = 0;
        log_info("Report %s delivered to %s (HTTP %ld).", upload.name, url, code);
        /* Only now: a reply lost before this point means the next attempt
         * sends the same file under the same name again. */
        r = report_spool_remove(upload.spool, upload.name);
        if (r < 0)
                log_error_errno(r, "Cannot remove the delivered report %s from the spool: %m", upload.name);
        upload.name[0] = 0;
        kick(m);
}

static int url_join(const char *base, const char *name, char **ret) {
        size_t n = strlen(base);
        char *u;

        if (asprintf(&u, "%s%s%s", base, n > 0 && base[n - 1] == '/' ? "" : "/", name) < 0)
                return -ENOMEM;
        *ret = u;
        return 0;
}

/* Reads the spooled report; one that cannot be read (or outgrew the spool's
 * bound) is dropped rather than blocking every newer one behind it. */
static int read_spooled(Manager *m, const char *name, char **ret, size_t *ret_size) {
        char path[PATH_MAX];
        uint64_t max = m->config->report_spool_max_bytes < REPORT_READ_MAX ? m->config->report_spool_max_bytes : REPORT_READ_MAX;
        int r;

        snprintf(path, sizeof(path), "%s/%s", upload.spool, name);
        r = read_file_bounded(path, (size_t) max, ret, ret_size);
        if (r == -EFBIG || r == -EISDIR) {
                log_warning_errno(r, "Dropping the spooled report %s: it cannot be sent: %m", name);
                (void) report_spool_remove(upload.spool, name);
        } else if (r < 0)
                log_error_errno(r, "Cannot read the spooled report %s: %m", path);
        return r;
}

static int start(Manager *m, const UploadSettings *s, const char *name) {
        _cleanup_free_ char *data = NULL;
        char *url = NULL;
        size_t size = 0;
        int r;

        snprintf(upload.name, sizeof(upload.name), "%s", name);
        r = read_spooled(m, name, &data, &size);
        if (r == -EFBIG || r == -EISDIR)
                return r; /* dropped: the next one */
        if (r >= 0)
                r = url_join(s->url, name, &url);
        if (r < 0) {
                failed(m, s->url, strerror(-r));
                return r;
        }
        r = fleet_fetch_start(m->event,
                              &(FleetFetchOptions){
                                      .url = url,
                                      .ca_file = s->ca_file,
                                      .client_cert = s->client_cert,
                                      .client_key = s->client_key,
                                      .max_size = RESPONSE_MAX,
                                      .output_fd = -1,
                                      .put_data = data,
                                      .put_size = size,
                              },
                              on_done, NULL, &upload.transfer);
        if (r < 0) {
                failed(m, url, strerror(-r));
                free(url);
                return r;
        }
        upload.url = url;
        return 0;
}

/* Sends the oldest spooled report, unless one is on its way or the next
 * attempt is already scheduled. */
static void kick(Manager *m) {
        _cleanup_free_ SpoolEntry *l = NULL;
        UploadSettings s;
        size_t n = 0;
        int r;

        if (upload.transfer || retry_pending() || m->exiting || !settings(m, &s))
                return;
        r = report_spool_list(upload.spool, &l, &n);
        if (r < 0) {
                log_error_errno(r, "Cannot list the report spool %s: %m", upload.spool);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                r = start(m, &s, l[i].name);
                if (r != -EFBIG && r != -EISDIR)
                        return; /* started, or failed and retried later */
        }
}

/* What a fleet summary needs beyond the job report (avmigrate-fleet summary
 * --reports reads the upload directory): whose report it is, whether the
 * machine is protected now, and with a manifest its serial and wave. */
static int add_fleet_fields(json_object *report, Manager *m, const char *machine_id) {
        const FleetManifest *f = manager_manifest(m);
        int r = 0;

        r |= json_object_object_add(report, "machine_id", json_object_new_string(machine_id));
        r |= json_object_object_add(report, "protected", json_object_new_boolean(m->protected_));
        if (f) {
                int wave = fleet_phase_wave(f->salt, machine_id);

                r |= json_object_object_add(report, "manifest_serial", json_object_new_int64((int64_t) f->serial));
                if (wave > 0)
                        r |= json_object_object_add(report, "wave", json_object_new_int((wave + 99) / 100));
        }
        return r ? -ENOMEM : 0;
}

static void on_job_finished(Job *j) {
        Manager *m = j->manager;
        UploadSettings s;
        char name[REPORT_SPOOL_NAME_MAX], mid[SD_ID128_STRING_MAX];
        sd_id128_t id;
        json_object *report;
        const char *text;
        int r;

        if (!settings(m, &s))
                return;
        r = sd_id128_get_machine(&id);
        if (r < 0) {
                log_error_errno(r, "Cannot spool the report of job %" PRIu64 ": no machine id: %m", j->id);
                return;
        }
        (void) report_spool_name(sd_id128_to_string(id, mid), j->id, name, sizeof(name));
        report = report_build(j);
        if (!report || add_fleet_fields(report, m, mid) < 0) {
                json_object_put(report);
                log_oom();
                return;
        }
        text = json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN);
        r = report_spool_add(upload.spool, name, text, strlen(text));
        json_object_put(report);
        if (r < 0) {
                log_error_errno(r, "Cannot spool the report of job %" PRIu64 " in %s: %m", j->id, upload.spool);
                return;
        }
        log_info("Report of job %" PRIu64 " spooled as %s/%s for %s.", j->id, upload.spool, name, s.url);
        (void) report_spool_enforce(upload.spool, m->config->report_spool_max_files, m->config->report_spool_max_bytes);
        kick(m);
}

static void on_manifest_changed(Manager *m) {
        kick(m); /* it may name a server now */
}

static const ManagerObserver upload_observer = {
        .job_finished = on_job_finished,
        .manifest_changed = on_manifest_changed,
};

int report_upload_setup(Manager *m) {
        int r;

        upload.manager = m;
        r = state_path(upload.spool, sizeof(upload.spool), REPORT_SPOOL_DIR);
        if (r < 0)
                return r;
        r = manager_add_observer(m, &upload_observer);
        if (r < 0)
                return r;
        /* What the last run left: bounded now (the bounds may have shrunk) and sent. */
        (void) report_spool_enforce(upload.spool, m->config->report_spool_max_files, m->config->report_spool_max_bytes);
        kick(m);
        return 0;
}

void report_upload_done(void) {
        upload.transfer = fleet_fetch_free(upload.transfer);
        upload.url = mfree(upload.url);
        upload.retry = sd_event_source_disable_unref(upload.retry);
}
