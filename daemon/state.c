/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <limits.h>

#include "log.h"
#include "manager.h"
#include "paths.h"
#include "state.h"
#include "util.h"

#define JOB_FILE "job.json"
#define JOB_FILE_MAX (8u * 1024u * 1024u)
#define STATE_VERSION 1

static const char *const job_states[] = {
        [JOB_RUNNING] = "running",
        [JOB_PAUSED] = "paused",
        [JOB_ROLLING_BACK] = "rolling-back",
        [JOB_FINISHED] = "finished",
};
static const char *const phases[] = {
        [PHASE_PENDING] = "pending",
        [PHASE_RUNNING] = "running",
        [PHASE_DONE] = "done",
};

static void add_str(json_object *o, const char *k, const char *v) {
        json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}
static void add_u64(json_object *o, const char *k, uint64_t v) {
        json_object_object_add(o, k, json_object_new_int64((int64_t) v));
}
static void add_bool(json_object *o, const char *k, bool v) {
        json_object_object_add(o, k, json_object_new_boolean(v));
}

json_object *job_to_json(const Job *j) {
        json_object *o = json_object_new_object(), *steps = json_object_new_array();

        add_u64(o, "version", STATE_VERSION);
        add_u64(o, "id", j->id);
        add_str(o, "from", j->from);
        add_str(o, "to", j->to);
        add_str(o, "state", job_states[j->state]);
        add_str(o, "result", j->result);
        add_str(o, "step", step_to_string(j->step < _STEP_MAX ? j->step : STEP_REPORT));
        add_u64(o, "step_index", (uint64_t) j->step);
        add_str(o, "phase", phases[j->phase]);
        add_u64(o, "attempts", j->attempts);
        add_bool(o, "dry_run", j->dry_run);
        add_bool(o, "force", j->force);
        add_bool(o, "installed_by_us", j->installed_by_us);
        add_bool(o, "handover_started", j->handover_started);
        add_bool(o, "overlap", j->overlap);
        add_bool(o, "pause_requested", j->pause_requested);
        add_bool(o, "cancel_requested", j->cancel_requested);
        add_bool(o, "old_product_remains", j->old_product_remains);
        add_u64(o, "progress", j->progress);
        add_str(o, "status_text", j->status_text);
        add_str(o, "last_error", j->last_error);
        add_u64(o, "created_usec", j->created_usec);
        add_u64(o, "finished_usec", j->finished_usec);
        add_u64(o, "gap_usec", j->gap_usec);
        for (int i = 0; i < _STEP_MAX; i++) {
                json_object *s = json_object_new_object();
                add_str(s, "id", step_to_string(i));
                add_str(s, "result", j->steps[i].result);
                add_u64(s, "started_usec", j->steps[i].started_usec);
                add_u64(s, "finished_usec", j->steps[i].finished_usec);
                add_u64(s, "op_usec", j->steps[i].op_usec);
                add_str(s, "error", j->steps[i].error);
                json_object_array_add(steps, s);
        }
        json_object_object_add(o, "steps", steps);
        json_object_object_add(o, "timeline", json_object_get(j->timeline));
        json_object_object_add(o, "samples", json_object_get(j->samples));
        json_object_object_add(o, "gaps", json_object_get(j->gaps));
        json_object_object_add(o, "probes", json_object_get(j->probes));
        json_object_object_add(o, "scope", scope_list_to_json(&j->scope));
        if (j->scope_report)
                json_object_object_add(o, "scope_report", json_object_get(j->scope_report));
        if (j->artifact[0]) {
                add_str(o, "artifact", j->artifact);
                add_str(o, "artifact_sha256", j->artifact_sha256);
        }
        return o;
}

/* Strict readers: a state file is external input like any other. */
static int get_str(json_object *o, const char *k, char *buf, size_t size, bool id) {
        json_object *v;
        const char *s;

        if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
                return -EBADMSG;
        s = json_object_get_string(v);
        if (strlen(s) >= size || (id && !string_is_safe_id(s)))
                return -EBADMSG;
        snprintf(buf, size, "%s", s);
        return 0;
}

static int get_u64(json_object *o, const char *k, uint64_t max, uint64_t *ret) {
        json_object *v;
        int64_t i;

        if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
                return -EBADMSG;
        i = json_object_get_int64(v);
        if (i < 0 || (uint64_t) i > max)
                return -EBADMSG;
        *ret = (uint64_t) i;
        return 0;
}

static int get_bool(json_object *o, const char *k, bool *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_boolean))
                return -EBADMSG;
        *ret = json_object_get_boolean(v);
        return 0;
}

static int get_array(json_object *o, const char *k, json_object **ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_array))
                return -EBADMSG;
        json_object_put(*ret);
        *ret = json_object_get(v);
        return 0;
}

static int lookup(const char *const *names, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(names[i], s))
                        return (int) i;
        return -EBADMSG;
}

#define FAIL(...)                                     \
        do {                                          \
                snprintf(why, why_size, __VA_ARGS__); \
                return -EBADMSG;                      \
        } while (0)

int job_from_json(Job *j, json_object *o, char *why, size_t why_size) {
        char buf[64];
        uint64_t u;
        json_object *steps, *v;
        int k;

        if (!json_object_is_type(o, json_type_object))
                FAIL("not a JSON object");
        if (get_u64(o, "version", 100, &u) < 0 || u != STATE_VERSION)
                FAIL("unsupported or missing version");
        if (get_u64(o, "id", UINT64_MAX / 2, &j->id) < 0 || j->id == 0)
                FAIL("invalid id");
        snprintf(j->path, sizeof(j->path), "/org/avmigrate/Migrate1/job/%" PRIu64, j->id);
        if (get_str(o, "from", j->from, sizeof(j->from), true) < 0 || get_str(o, "to", j->to, sizeof(j->to), true) < 0)
                FAIL("invalid from/to product");
        if (get_str(o, "state", buf, sizeof(buf), false) < 0 || (k = lookup(job_states, ELEMENTSOF(job_states), buf)) < 0)
                FAIL("invalid state");
        j->state = (JobState) k;
        if (get_str(o, "result", j->result, sizeof(j->result), false) < 0)
                FAIL("invalid result");
        if (get_u64(o, "step_index", _STEP_MAX, &u) < 0)
                FAIL("invalid step_index");
        j->step = (StepId) u;
        if (get_str(o, "phase", buf, sizeof(buf), false) < 0 || (k = lookup(phases, ELEMENTSOF(phases), buf)) < 0)
                FAIL("invalid phase");
        j->phase = (StepPhase) k;
        if (get_u64(o, "attempts", 1000, &u) < 0)
                FAIL("invalid attempts");
        j->attempts = (unsigned) u;
        if (get_bool(o, "dry_run", &j->dry_run) < 0 || get_bool(o, "force", &j->force) < 0 ||
            get_bool(o, "installed_by_us", &j->installed_by_us) < 0 ||
            get_bool(o, "handover_started", &j->handover_started) < 0 || get_bool(o, "overlap", &j->overlap) < 0 ||
            get_bool(o, "pause_requested", &j->pause_requested) < 0 || get_bool(o, "cancel_requested", &j->cancel_requested) < 0 ||
            get_bool(o, "old_product_remains", &j->old_product_remains) < 0)
                FAIL("invalid flag");
        if (get_u64(o, "progress", 100, &u) < 0)
                FAIL("invalid progress");
        j->progress = (unsigned) u;
        if (get_str(o, "status_text", j->status_text, sizeof(j->status_text), false) < 0 ||
            get_str(o, "last_error", j->last_error, sizeof(j->last_error), false) < 0)
                FAIL("invalid text");
        if (get_u64(o, "created_usec", UINT64_MAX / 2, &j->created_usec) < 0 ||
            get_u64(o, "finished_usec", UINT64_MAX / 2, &j->finished_usec) < 0 ||
            get_u64(o, "gap_usec", UINT64_MAX / 2, &j->gap_usec) < 0)
                FAIL("invalid time");
        if (!json_object_object_get_ex(o, "steps", &steps) || !json_object_is_type(steps, json_type_array) ||
            json_object_array_length(steps) != _STEP_MAX)
                FAIL("invalid steps");
        for (int i = 0; i < _STEP_MAX; i++) {
                json_object *s = json_object_array_get_idx(steps, (size_t) i);
                StepRecord *r = &j->steps[i];

                if (!json_object_is_type(s, json_type_object) || get_str(s, "result", r->result, sizeof(r->result), false) < 0 ||
                    get_u64(s, "started_usec", UINT64_MAX / 2, &r->started_usec) < 0 ||
                    get_u64(s, "finished_usec", UINT64_MAX / 2, &r->finished_usec) < 0 ||
                    get_str(s, "error", r->error, sizeof(r->error), false) < 0)
                        FAIL("invalid step record %d", i);
                /* Optional: state files written before the worker measured itself have none. */
                if (json_object_object_get_ex(s, "op_usec", &v) && get_u64(s, "op_usec", UINT64_MAX / 2, &r->op_usec) < 0)
                        FAIL("invalid step record %d", i);
                if (r->result[0] && !streq(r->result, "done") && !streq(r->result, "skipped") && !streq(r->result, "failed"))
                        FAIL("invalid step result '%s'", r->result);
        }
        if (get_array(o, "timeline", &j->timeline) < 0 || get_array(o, "samples", &j->samples) < 0 ||
            get_array(o, "gaps", &j->gaps) < 0 || get_array(o, "probes", &j->probes) < 0)
                FAIL("invalid timeline, samples, gaps or probes");
        if (j->state == JOB_FINISHED && !j->result[0])
                FAIL("finished job without result");
        /* Optional (state files of version 1 jobs have none): resolved again when missing. */
        if (json_object_object_get_ex(o, "scope", &v) && scope_list_from_json(v, &j->scope) < 0)
                FAIL("invalid scope");
        if (json_object_object_get_ex(o, "scope_report", &v)) {
                if (!json_object_is_type(v, json_type_object))
                        FAIL("invalid scope_report");
                j->scope_report = json_object_get(v);
        }
        /* Optional: only a job whose fetch step verified an artifact has one. */
        if (json_object_object_get_ex(o, "artifact", &v) &&
            (get_str(o, "artifact", j->artifact, sizeof(j->artifact), false) < 0 || j->artifact[0] != '/' ||
             get_str(o, "artifact_sha256", j->artifact_sha256, sizeof(j->artifact_sha256), false) < 0 ||
             strlen(j->artifact_sha256) != 64 || strspn(j->artifact_sha256, "0123456789abcdef") != 64))
                FAIL("invalid artifact");
        return 0;
}

int state_save_job(const Job *j) {
        char path[PATH_MAX];
        json_object *o = job_to_json(j);
        const char *s;
        int r;

        if (!o)
                return -ENOMEM;
        r = state_path(path, sizeof(path), JOB_FILE);
        if (r >= 0) {
                s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
                r = write_file_atomic(path, s, strlen(s), 0600);
        }
        json_object_put(o);
        if (r < 0)
                log_error_errno(r, "Failed to save job state to %s: %m", path);
        return r;
}

int state_remove_job(void) {
        char path[PATH_MAX];

        if (state_path(path, sizeof(path), JOB_FILE) < 0)
                return -ENAMETOOLONG;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int move_aside(const char *path, char *ret, size_t size) {
        snprintf(ret, size, "%s.corrupt-%" PRIu64, path, now_usec(CLOCK_REALTIME) / USEC_PER_SEC);
        if (rename(path, ret) < 0)
                return -errno;
        return 0;
}

/* Reads and parses path into a new Job: 1 and *ret, 0 if there is no file,
 * -EBADMSG with why set if it is corrupt, other -errno if unreadable. */
static int read_job(const char *path, Manager *m, Job **ret, char *why, size_t why_size) {
        _cleanup_free_ char *data = NULL;
        json_object *o = NULL;
        struct json_tokener *tok;
        Job *j;
        size_t size;
        int r;

        *ret = NULL;
        why[0] = 0;
        r = read_file_bounded(path, JOB_FILE_MAX, &data, &size);
        if (r == -ENOENT)
                return 0;
        if (r == -EFBIG) {
                snprintf(why, why_size, "larger than %u bytes", JOB_FILE_MAX);
                return -EBADMSG;
        }
        if (r < 0)
                return r;
        tok = json_tokener_new_ex(64);
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, data, (int) size);
        if (!o || json_tokener_get_error(tok) != json_tokener_success || (size_t) json_tokener_get_parse_end(tok) != size)
                snprintf(why, why_size, "not valid JSON (%s)", json_tokener_error_desc(json_tokener_get_error(tok)));
        json_tokener_free(tok);
        if (why[0]) {
                json_object_put(o);
                return -EBADMSG;
        }
        j = job_new(m, 1);
        if (!j) {
                json_object_put(o);
                return -ENOMEM;
        }
        r = job_from_json(j, o, why, why_size);
        json_object_put(o);
        if (r < 0 || why[0]) {
                if (!why[0])
                        snprintf(why, why_size, "%s", strerror(-r));
                job_free(j);
                return -EBADMSG;
        }
        *ret = j;
        return 1;
}

int state_read_job(const char *path, Job **ret, char *why, size_t why_size) {
        char def[PATH_MAX];
        int r;

        if (!path) {
                r = state_path(def, sizeof(def), JOB_FILE);
                if (r < 0)
                        return r;
                path = def;
        }
        r = read_job(path, NULL, ret, why, why_size);
        return r == 0 ? -ENOENT : r < 0 ? r : 0;
}

int state_load_job(Manager *m, Job **ret, char *corrupt_path, size_t corrupt_size) {
        char path[PATH_MAX], why[256] = "";
        int r;

        *ret = NULL;
        corrupt_path[0] = 0;
        r = state_path(path, sizeof(path), JOB_FILE);
        if (r < 0)
                return r;
        r = read_job(path, m, ret, why, sizeof(why));
        if (r == -EBADMSG) {
                r = move_aside(path, corrupt_path, corrupt_size);
                log_event(AVM_MID_STATE_CORRUPT, LOG_ERR, 0, "State file %s is corrupt (%s); moved aside to %s.", path, why,
                          r < 0 ? "(failed)" : corrupt_path);
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", path);
        return 0;
}
