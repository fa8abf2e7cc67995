/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.avmigrate.Migrate1.Job on /org/avmigrate/Migrate1/job/<id>. */
#include "bus.h"
#include "utf8.h"
#include "util.h"

#define JOB_IFACE "org.avmigrate.Migrate1.Job"
#define JOB_EMIT_INTERVAL_USEC (250 * USEC_PER_MSEC)

static const char *job_state_string(const Job *j) {
        switch (j->state) {
        case JOB_RUNNING:
                return "running";
        case JOB_PAUSED:
                return "paused";
        case JOB_ROLLING_BACK:
                return "rolling-back";
        default:
                return j->result;
        }
}

static const char *job_step_string(const Job *j) {
        return j->state == JOB_FINISHED || j->step >= _STEP_MAX ? "" : step_to_string(j->step);
}

static int prop_get(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                    void *userdata, sd_bus_error *error) {
        Job *j = userdata;

        if (streq(property, "Id"))
                return sd_bus_message_append(reply, "t", j->id);
        if (streq(property, "Progress"))
                return sd_bus_message_append(reply, "u", j->progress);
        if (streq(property, "State"))
                return sd_bus_message_append(reply, "s", job_state_string(j));
        if (streq(property, "Step"))
                return sd_bus_message_append(reply, "s", job_step_string(j));
        /* Plugin ids, as the plugins state them: not necessarily UTF-8. */
        return bus_append_utf8(reply, streq(property, "From") ? j->from : j->to);
}

static int method_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Job *j = userdata;
        return bus_job_cancel(msg, j->manager, j->id);
}

static const sd_bus_vtable job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "t", prop_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", prop_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Step", "s", prop_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Progress", "u", prop_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("From", "s", prop_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("To", "s", prop_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD("Cancel", "", "", method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_job_add(Job *j) {
        if (!j->manager->bus || j->slot)
                return 0;
        return sd_bus_add_object_vtable(j->manager->bus, &j->slot, j->path, JOB_IFACE, job_vtable, j);
}

void bus_job_remove(Job *j) {
        j->slot = sd_bus_slot_unref(j->slot);
}

void bus_job_changed(Job *j) {
        const char *names[4];
        size_t n = 0;
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        if (!j->slot)
                return;
        if (!streq(j->emitted_state, job_state_string(j))) {
                names[n++] = "State";
                snprintf(j->emitted_state, sizeof(j->emitted_state), "%s", job_state_string(j));
        }
        if (!streq(j->emitted_step, job_step_string(j))) {
                names[n++] = "Step";
                snprintf(j->emitted_step, sizeof(j->emitted_step), "%s", job_step_string(j));
        }
        if (j->emitted_progress != j->progress && (n > 0 || j->progress == 100 || now - j->emitted_at >= JOB_EMIT_INTERVAL_USEC)) {
                names[n++] = "Progress";
                j->emitted_progress = j->progress;
                j->emitted_at = now;
        }
        names[n] = NULL;
        if (n > 0)
                (void) sd_bus_emit_properties_changed_strv(j->manager->bus, j->path, JOB_IFACE, (char **) names);
}
