/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The readiness census: before this desktop's wave (or while the rollout is
 * paused) it runs the preflight step alone — the worker's own, on a job of
 * its own that is never started — and logs what would stand in the way, so
 * that the admin fixes blockers before the wave comes. Nothing is changed.
 * One event (AVM_MID_CENSUS) per manifest serial and day at most, with the
 * fields avmigrate-fleet summary reads (fleet/summary-journal.c):
 * AVMIGRATE_WAVE (1..100), AVMIGRATE_STATE (pending|scheduled),
 * AVMIGRATE_BLOCKERS (comma-separated causes, empty when ready): every
 * blocker preflight finds (avmigrate-worker --all-blockers), not only the
 * first one a real start would refuse with.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>

#include "log.h"
#include "paths.h"
#include "rollout.h"
#include "state.h"
#include "util.h"

#define CENSUS_TIMEOUT_USEC (5 * 60 * USEC_PER_SEC)
#define CENSUS_JOB "fleet/census-job.json"
#define CENSUS_STAMP "fleet/census"
#define BLOCKERS_MAX 256
#define BLOCKERS_LIST_MAX 16 /* of the worker's list; there are fewer checks */

/* The worker's refusal as a cause the admin's view counts (stable words). */
static const char *cause_of(int error, const char *message) {
        switch (error) {
        case -ENOSPC:
                return "disk-space";
        case -ENOTCONN:
                return "ac-power";
        case -EXDEV:
                return "scope";
        case -EOPNOTSUPP:
                return "no-replacement";
        case -EPERM:
        case -EACCES:
                return "policy-locked";
        case -EHOSTDOWN:
                return "unhealthy";
        case -ENOENT:
                return message && strstr(message, "is not installed") ? "not-installed" : "vendor-tool-missing";
        case -ENOEXEC:
                return "vendor-tool-missing";
        default:
                return "preflight-failed";
        }
}

static void add_cause(char *buf, size_t size, const char *cause) {
        if (!strstr(buf, cause))
                snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", buf[0] ? "," : "", cause);
}

static uint64_t today(void) {
        return now_usec(CLOCK_REALTIME) / (24 * 3600 * USEC_PER_SEC);
}

static void report(Manager *m, const char *blockers, const char *detail) {
        Rollout *r = m->rollout;
        char wave[32], state[48], causes[BLOCKERS_MAX + 32], stamp[64], path[PATH_MAX];
        const char *s = manager_state(m);

        snprintf(wave, sizeof(wave), "AVMIGRATE_WAVE=%u", rollout_wave(m));
        snprintf(state, sizeof(state), "AVMIGRATE_STATE=%s", streq(s, "scheduled") ? "scheduled" : "pending");
        snprintf(causes, sizeof(causes), "AVMIGRATE_BLOCKERS=%s", blockers);
        rollout_log(m, AVM_MID_CENSUS, blockers[0] ? LOG_WARNING : LOG_INFO, (const char *const[]){ wave, state, causes, NULL },
                    "Readiness census for fleet wave %u: %s%s%s", rollout_wave(m), blockers[0] ? "blocked by " : "ready",
                    blockers, detail && detail[0] ? detail : "");
        /* Once per serial and day, across restarts too. */
        r->census_serial = m->manifest->serial;
        r->census_day = today();
        snprintf(stamp, sizeof(stamp), "%" PRIu64 " %" PRIu64 "\n", r->census_serial, r->census_day);
        if (state_path(path, sizeof(path), CENSUS_STAMP) >= 0)
                (void) write_file_atomic(path, stamp, strlen(stamp), 0600);
}

static void on_preflight(Worker *w, int error, const char *message, json_object *data, void *userdata) {
        Manager *m = userdata;
        Rollout *r = m->rollout;
        char blockers[BLOCKERS_MAX], detail[900] = "", path[PATH_MAX];
        json_object *list = NULL;
        ProductInfo *from, *to;
        const char *name;
        char why[256];

        r->census_worker = worker_free(r->census_worker);
        if (state_path(path, sizeof(path), CENSUS_JOB) >= 0)
                (void) unlink(path);
        if (!m->manifest)
                return;
        blockers[0] = 0;
        /* What Start() would refuse, besides the window and the wave. */
        if (manager_check_start(m, m->manifest->to, true, &from, &to, &name, why, sizeof(why)) == -ENXIO)
                add_cause(blockers, sizeof(blockers), "no-replacement");
        /* Every blocker preflight found (--all-blockers), else its one refusal. */
        if (error < 0 && json_object_object_get_ex(data, "blockers", &list) && json_object_is_type(list, json_type_array) &&
            json_object_array_length(list) > 0) {
                size_t n = json_object_array_length(list);

                for (size_t i = 0; i < n && i < BLOCKERS_LIST_MAX; i++) {
                        json_object *b = json_object_array_get_idx(list, i), *e = NULL, *msg = NULL;
                        const char *text;

                        if (!json_object_object_get_ex(b, "errno", &e) || !json_object_is_type(e, json_type_int))
                                continue;
                        (void) json_object_object_get_ex(b, "message", &msg);
                        text = json_object_is_type(msg, json_type_string) ? json_object_get_string(msg) : NULL;
                        add_cause(blockers, sizeof(blockers), cause_of(-abs(json_object_get_int(e)), text));
                        snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), "%s%s", detail[0] ? "; " : " (",
                                 text ? text : strerror(abs(json_object_get_int(e))));
                }
                if (detail[0])
                        snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), ")");
        } else if (error < 0) {
                add_cause(blockers, sizeof(blockers), cause_of(error, message));
                snprintf(detail, sizeof(detail), " (%s)", message ? message : strerror(-error));
        }
        report(m, blockers, detail);
}

static bool done_today(Rollout *r, uint64_t serial) {
        _cleanup_free_ char *data = NULL;
        char path[PATH_MAX];
        uint64_t s, d;

        if (r->census_serial == 0 && state_path(path, sizeof(path), CENSUS_STAMP) >= 0 &&
            read_file_bounded(path, 64, &data, NULL) >= 0 && sscanf(data, "%" SCNu64 " %" SCNu64, &s, &d) == 2) {
                r->census_serial = s;
                r->census_day = d;
        }
        return r->census_serial == serial && r->census_day == today();
}

void rollout_census(Manager *m) {
        Rollout *r = m->rollout;
        ProductInfo *from = manager_discouraged(m), *to = products_find(&m->products, m->manifest->to);
        char path[PATH_MAX], opt[PATH_MAX + 8];
        json_object *o;
        Job *j;
        int k;

        if (r->census_worker || job_active(m->job) || !from || done_today(r, m->manifest->serial))
                return;
        if (!to) {
                report(m, "no-replacement", " (no plugin provides the manifest's product)");
                return;
        }
        /* A job that only ever gets its preflight: not m->job, not on the bus,
         * not in the history. */
        j = job_new(m, m->last_job_id + 1);
        if (!j)
                return;
        snprintf(j->from, sizeof(j->from), "%s", from->id);
        snprintf(j->to, sizeof(j->to), "%s", to->id);
        j->dry_run = true;
        j->overlap = manager_overlap_allowed(m, from, to);
        j->state = JOB_RUNNING;
        j->step = STEP_PREFLIGHT;
        o = job_to_json(j);
        job_free(j);
        k = state_path(path, sizeof(path), CENSUS_JOB);
        if (k >= 0 && o) {
                const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
                k = write_file_atomic(path, s, strlen(s), 0600);
        }
        json_object_put(o);
        if (k < 0) {
                log_warning_errno(k, "Cannot prepare the readiness census: %m");
                return;
        }
        snprintf(opt, sizeof(opt), "--job=%s", path);
        k = worker_start(m->event, "census", CENSUS_TIMEOUT_USEC, (const char *const[]){ opt, "--all-blockers", "step", NULL },
                         NULL, on_preflight, m, &r->census_worker);
        if (k < 0)
                log_warning_errno(k, "Cannot start the readiness census: %m");
}
