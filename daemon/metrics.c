/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>

#include "manifest.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

/* At most one write a second: a state change that comes with several
 * property changes (a step ending) becomes one file. */
#define METRICS_MIN_INTERVAL_USEC USEC_PER_SEC

/* Every value a label can take is written, 0 or 1: a query for "failed"
 * then finds 0 instead of no series at all. */
static const char *const states[] = { "detecting", "idle",      "pending",     "scheduled", "running",
                                      "paused",    "completed", "rolled-back", "failed" };
static const char *const results[] = { "completed", "failed", "rolled-back", "cancelled", "not-started" };

typedef struct Buffer {
        char *p;
        size_t size, n;
        bool overflow;
} Buffer;

static void __attribute__((format(printf, 2, 3))) put(Buffer *b, const char *format, ...) {
        va_list ap;
        int k;

        if (b->overflow)
                return;
        va_start(ap, format);
        k = vsnprintf(b->p + b->n, b->size - b->n, format, ap);
        va_end(ap);
        if (k < 0 || (size_t) k >= b->size - b->n) {
                b->overflow = true;
                return;
        }
        b->n += (size_t) k;
}

static void family(Buffer *b, const char *name, const char *help) {
        put(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void labelled(Buffer *b, const char *name, const char *label, const char *const *values, size_t n, const char *current) {
        for (size_t i = 0; i < n; i++)
                put(b, "%s{%s=\"%s\"} %d\n", name, label, values[i], streq_ptr(values[i], current));
}

int metrics_format(const MetricsInput *in, char *buf, size_t size) {
        Buffer b = { .p = buf, .size = size };

        if (size == 0)
                return -ENOBUFS;
        family(&b, "avmigrate_state", "State of the antivirus migration on this machine (1 for the current one).");
        labelled(&b, "avmigrate_state", "state", states, ELEMENTSOF(states), in->state);
        family(&b, "avmigrate_protected", "Whether a product is verified protecting this machine.");
        put(&b, "avmigrate_protected %d\n", in->protected_);
        family(&b, "avmigrate_last_gap_seconds", "Time without verified protection during the last migration.");
        put(&b, "avmigrate_last_gap_seconds %" PRIu64 ".%06" PRIu64 "\n", in->last_gap_usec / USEC_PER_SEC,
            in->last_gap_usec % USEC_PER_SEC);
        family(&b, "avmigrate_deferrals_used", "Times the user postponed the migration.");
        put(&b, "avmigrate_deferrals_used %u\n", in->deferrals_used);
        family(&b, "avmigrate_deferrals_left", "Postponements the user still has (MaxDeferrals=).");
        put(&b, "avmigrate_deferrals_left %u\n", in->deferrals_left);
        if (in->have_manifest) {
                family(&b, "avmigrate_manifest_serial", "Serial of the fleet manifest this machine last accepted.");
                put(&b, "avmigrate_manifest_serial %" PRIu64 "\n", in->manifest_serial);
        }
        if (!isempty(in->last_result)) {
                family(&b, "avmigrate_job_result", "Result of the last migration job (1 for its result).");
                labelled(&b, "avmigrate_job_result", "result", results, ELEMENTSOF(results), in->last_result);
                family(&b, "avmigrate_last_job_id", "Id of the last migration job.");
                put(&b, "avmigrate_last_job_id %" PRIu64 "\n", in->last_job_id);
        }
        if (in->last_finished_usec > 0) {
                family(&b, "avmigrate_last_job_finished_timestamp_seconds", "When the last migration job finished (Unix time).");
                put(&b, "avmigrate_last_job_finished_timestamp_seconds %" PRIu64 "\n", in->last_finished_usec / USEC_PER_SEC);
        }
        if (b.overflow)
                return -ENOBUFS;
        return (int) b.n;
}

/* ---- the file ---- */

static struct {
        Manager *manager;
        sd_event_source *timer;
        uint64_t last_write; /* CLOCK_MONOTONIC */
        bool written;        /* the file holds text */
        char text[METRICS_TEXT_MAX];
        char path[PATH_MAX];
        int last_error; /* logged once until it changes */
        uint64_t last_finished_usec;
} metrics;

static bool metrics_enabled(Manager *m) {
        const FleetManifest *f = manager_manifest(m);

        return m->config->prometheus_textfile || (f && f->report.prometheus);
}

static void collect(Manager *m, MetricsInput *in, PropertySnapshot *s) {
        const FleetManifest *f = manager_manifest(m);

        manager_snapshot(m, s);
        *in = (MetricsInput){
                .state = s->state,
                .protected_ = s->protected_,
                .last_gap_usec = s->gap_usec,
                .deferrals_used = m->deferrals_used,
                .deferrals_left = s->deferrals_left,
                .have_manifest = f != NULL,
                .manifest_serial = f ? f->serial : 0,
                .last_result = m->last_result,
                .last_job_id = m->last_job_id,
                .last_finished_usec = metrics.last_finished_usec,
        };
}

static void report_error(int r, const char *path) {
        if (r == metrics.last_error)
                return;
        metrics.last_error = r;
        if (r < 0)
                log_warning_errno(r, "Cannot write the Prometheus metrics %s: %m", path);
}

static void remove_file(void) {
        if (!metrics.written)
                return;
        if (unlink(metrics.path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Cannot remove %s: %m", metrics.path);
        metrics.written = false;
}

static void write_now(Manager *m) {
        char text[METRICS_TEXT_MAX], path[PATH_MAX];
        PropertySnapshot s;
        MetricsInput in;
        int n, r;

        if (!metrics_enabled(m)) {
                remove_file();
                return;
        }
        collect(m, &in, &s);
        n = metrics_format(&in, text, sizeof(text));
        if (n < 0)
                return report_error(n, "(text too long)");
        r = snprintf(path, sizeof(path), "%s/" METRICS_FILE, m->config->prometheus_textfile_directory);
        if (r < 0 || (size_t) r >= sizeof(path))
                return report_error(-ENAMETOOLONG, m->config->prometheus_textfile_directory);
        if (metrics.written && streq(path, metrics.path) && streq(text, metrics.text))
                return; /* nothing changed */
        metrics.last_write = now_usec(CLOCK_MONOTONIC);
        /* 0644: node_exporter runs as its own user. */
        r = write_file_atomic(path, text, (size_t) n, 0644);
        report_error(r, path);
        if (r < 0)
                return;
        memcpy(metrics.text, text, (size_t) n + 1);
        memcpy(metrics.path, path, sizeof(path));
        metrics.written = true;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        write_now(metrics.manager);
        return 0;
}

/* Arms the timer unless it is armed: at once, or a second after the last write. */
static void schedule(Manager *m) {
        uint64_t when = metrics.last_write ? metrics.last_write + METRICS_MIN_INTERVAL_USEC : 0;
        int enabled = SD_EVENT_OFF, r;

        if (m->exiting)
                return;
        if (metrics.timer && sd_event_source_get_enabled(metrics.timer, &enabled) >= 0 && enabled != SD_EVENT_OFF)
                return;
        if (!metrics.timer) {
                r = sd_event_add_time(m->event, &metrics.timer, CLOCK_MONOTONIC, when, 0, on_timer, NULL);
                if (r < 0) {
                        log_warning_errno(r, "Cannot schedule the Prometheus metrics: %m");
                        return;
                }
                (void) sd_event_source_set_description(metrics.timer, "metrics");
                return;
        }
        if (sd_event_source_set_time(metrics.timer, when) >= 0)
                (void) sd_event_source_set_enabled(metrics.timer, SD_EVENT_ONESHOT);
}

static void on_properties_changed(Manager *m) {
        schedule(m);
}

static void on_job_finished(Job *j) {
        metrics.last_finished_usec = j->finished_usec ?: now_usec(CLOCK_REALTIME);
        schedule(j->manager);
}

static const ManagerObserver metrics_observer = {
        .properties_changed = on_properties_changed,
        .job_finished = on_job_finished,
        .manifest_changed = on_properties_changed,
};

int metrics_setup(Manager *m) {
        int r;

        metrics.manager = m;
        /* A file from an earlier run may be there: switched off now, it must
         * go, or node_exporter would serve that old state for ever. */
        r = snprintf(metrics.path, sizeof(metrics.path), "%s/" METRICS_FILE, m->config->prometheus_textfile_directory);
        metrics.written = r > 0 && (size_t) r < sizeof(metrics.path);
        r = manager_add_observer(m, &metrics_observer);
        if (r >= 0)
                schedule(m); /* the state at start-up, before anything changes */
        return r;
}

void metrics_done(void) {
        metrics.timer = sd_event_source_disable_unref(metrics.timer);
}
