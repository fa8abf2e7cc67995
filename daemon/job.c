/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>

#include <unistd.h>

#include "job.h"
#include "util.h"

static const char *const step_names[_STEP_MAX] = {
        [STEP_PREFLIGHT] = "preflight",       [STEP_FETCH] = "fetch",
        [STEP_INSTALL] = "install",           [STEP_VERIFY_REPLACEMENT] = "verify-replacement",
        [STEP_HANDOVER] = "handover",         [STEP_REMOVE] = "remove",
        [STEP_VERIFY_FINAL] = "verify-final", [STEP_REPORT] = "report",
};

static const char *const step_descriptions[_STEP_MAX] = {
        [STEP_PREFLIGHT] = "Detect products, check policy, disk space and power",
        [STEP_FETCH] = "Obtain and verify the replacement",
        [STEP_INSTALL] = "Install the replacement with real-time protection off",
        [STEP_VERIFY_REPLACEMENT] = "Check the replacement is healthy and detects the EICAR test file",
        [STEP_HANDOVER] = "Hand real-time protection over to the replacement",
        [STEP_REMOVE] = "Uninstall the discouraged product",
        [STEP_VERIFY_FINAL] = "Verify the old product is gone and the new one protects",
        [STEP_REPORT] = "Record the result",
};

const char *step_to_string(StepId s) {
        return s >= 0 && s < _STEP_MAX ? step_names[s] : "";
}

const char *step_description(StepId s) {
        return s >= 0 && s < _STEP_MAX ? step_descriptions[s] : "";
}

int step_from_string(const char *s) {
        for (int i = 0; i < _STEP_MAX; i++)
                if (streq_ptr(s, step_names[i]))
                        return i;
        return -EINVAL;
}

Job *job_new(Manager *m, uint64_t id) {
        Job *j = calloc(1, sizeof(Job));

        if (!j)
                return NULL;
        j->manager = m;
        j->id = id;
        j->inhibit_fd = -EBADF;
        snprintf(j->path, sizeof(j->path), "/org/avmigrate/Migrate1/job/%" PRIu64, id);
        j->timeline = json_object_new_array();
        j->samples = json_object_new_array();
        j->gaps = json_object_new_array();
        j->probes = json_object_new_array();
        if (!j->timeline || !j->samples || !j->gaps || !j->probes)
                return job_free(j);
        return j;
}

Job *job_free(Job *j) {
        if (!j)
                return NULL;
        /* j->worker belongs to the engine, which frees it first. */
        if (j->inhibit_fd >= 0)
                close(j->inhibit_fd);
        sd_bus_slot_unref(j->slot);
        sd_event_source_disable_unref(j->expire);
        json_object_put(j->timeline);
        json_object_put(j->samples);
        json_object_put(j->gaps);
        json_object_put(j->probes);
        json_object_put(j->scope_report);
        free(j);
        return NULL;
}

bool job_active(const Job *j) {
        return j && j->state != JOB_FINISHED;
}

void job_timeline(Job *j, const char *event, const char *step, const char *detail) {
        json_object *o = json_object_new_object();

        if (!o)
                return;
        json_object_object_add(o, "t", json_object_new_int64((int64_t) now_usec(CLOCK_REALTIME)));
        json_object_object_add(o, "mono", json_object_new_int64((int64_t) now_usec(CLOCK_MONOTONIC)));
        json_object_object_add(o, "event", json_object_new_string(event));
        if (step)
                json_object_object_add(o, "step", json_object_new_string(step));
        if (detail)
                json_object_object_add(o, "detail", json_object_new_string(detail));
        json_object_array_add(j->timeline, o);
}
