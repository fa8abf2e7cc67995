/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-json.h"
#include "macro.h"
#include "manager.h"
#include "monitor.h"
#include "watch.h"

/* Not sd_event_exit(): that would run sd-bus' exit handler, which closes the
 * connection, and --wait still needs it for GetReport. */
static void watch_finish(Watch *w, int code) {
        if (!w->done) {
                w->done = true;
                w->done_code = code;
        }
}

int watch_run(Watch *w) {
        while (!w->done) {
                int r = sd_event_run(w->event, UINT64_MAX);
                if (r < 0)
                        return r;
        }
        return w->done_code;
}

void watch_done(Watch *w) {
        free(w->step);
        free(w->status_text);
        free(w->result);
        sd_event_unref(w->event);
}

static int set_string(char **p, const char *s) {
        char *c = strdup(s ?: "");

        if (!c)
                return -ENOMEM;
        free(*p);
        *p = c;
        return 0;
}

static void watch_draw(Watch *w) {
        progress_bar_draw(&w->bar, w->progress, w->step, w->status_text);
}

static int on_step_started(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const char *step;
        uint64_t id;
        uint32_t idx, count;
        int r;

        r = sd_bus_message_read(m, "tsuu", &id, &step, &idx, &count);
        if (r < 0) {
                fprintf(stderr, "Failed to parse StepStarted signal: %s\n", strerror(-r));
                return 0;
        }
        if (w->monitor)
                return monitor_step_started(id, step, idx, count);

        if (id != w->job_id)
                return 0;
        w->step_index = idx;
        w->step_count = count;
        set_string(&w->step, step);
        watch_draw(w);
        return 0;
}

static int on_step_finished(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const char *step, *result;
        uint64_t id;
        int r;

        r = sd_bus_message_read(m, "tss", &id, &step, &result);
        if (r < 0) {
                fprintf(stderr, "Failed to parse StepFinished signal: %s\n", strerror(-r));
                return 0;
        }
        if (w->monitor)
                return monitor_step_finished(id, step, result);

        if (id != w->job_id)
                return 0;
        if (strcmp(result, "failed") == 0)
                w->step_failed = true;
        if (!w->quiet) {
                progress_bar_clear(&w->bar);
                if (w->step && strcmp(w->step, step) == 0 && w->step_count > 0)
                        fprintf(w->bar.out, "[%" PRIu32 "/%" PRIu32 "] %s: %s\n", w->step_index, w->step_count, step, result);
                else
                        fprintf(w->bar.out, "%s: %s\n", step, result);
                fflush(w->bar.out);
                watch_draw(w);
        }
        return 0;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const char *path, *result;
        uint64_t id;
        int r;

        r = sd_bus_message_read(m, "tos", &id, &path, &result);
        if (r < 0) {
                fprintf(stderr, "Failed to parse JobRemoved signal: %s\n", strerror(-r));
                return 0;
        }
        if (w->monitor)
                return monitor_job_removed(id, path, result);

        if (id != w->job_id)
                return 0;
        r = set_string(&w->result, result);
        watch_finish(w, r < 0 ? r : 0);
        return 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_json_ json_object *changed = NULL, *invalidated = NULL;
        Watch *w = userdata;
        const char *iface;
        json_object *v;
        int r;

        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0 || strcmp(iface, MANAGER_INTERFACE) != 0)
                return 0;
        r = json_from_bus(m, &changed);
        if (r >= 0)
                r = json_from_bus(m, &invalidated);
        if (r < 0) {
                fprintf(stderr, "Failed to parse PropertiesChanged signal: %s\n", strerror(-r));
                return 0;
        }
        if (json_object_object_get_ex(changed, "Products", &v)) {
                json_object *p = products_to_objects(v);
                if (p)
                        json_object_object_add(changed, "Products", p);
        }
        if (w->monitor)
                return monitor_properties_changed(changed, invalidated);

        if (json_object_object_get_ex(changed, "Progress", &v))
                w->progress = (uint32_t) json_object_get_int64(v);
        if (json_object_object_get_ex(changed, "Step", &v) && *json_object_get_string(v))
                set_string(&w->step, json_object_get_string(v));
        if (json_object_object_get_ex(changed, "StatusText", &v))
                set_string(&w->status_text, json_object_get_string(v));
        watch_draw(w);
        return 0;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const char *name, *old_owner, *new_owner;
        int r;

        r = sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner);
        if (r < 0 || strcmp(name, BUS_NAME) != 0)
                return 0;
        if (w->monitor)
                return monitor_name_owner_changed(old_owner, new_owner);

        if (!*new_owner) {
                /* The daemon exited. A restarted daemon resumes the job and
                 * emits JobRemoved later, but we cannot be sure we see it. */
                w->lost_daemon = true;
                watch_finish(w, 0);
        }
        return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Watch *w = userdata;

        progress_bar_clear(&w->bar);
        watch_finish(w, -EINTR);
        return 0;
}

int watch_add_matches(Watch *w) {
        static const struct {
                const char *member;
                sd_bus_message_handler_t handler;
        } signals[] = {
                { "StepStarted", on_step_started },
                { "StepFinished", on_step_finished },
                { "JobRemoved", on_job_removed },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(signals); i++) {
                r = sd_bus_match_signal(w->bus, NULL, BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, signals[i].member,
                                        signals[i].handler, w);
                if (r < 0)
                        return r;
        }
        r = sd_bus_match_signal(w->bus, NULL, BUS_NAME, OBJECT_PATH, PROPERTIES_INTERFACE, "PropertiesChanged",
                                on_properties_changed, w);
        if (r < 0)
                return r;
        return sd_bus_add_match(w->bus, NULL,
                                "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                                "arg0='" BUS_NAME "'",
                                on_name_owner_changed, w);
}

int watch_setup_loop(Watch *w) {
        sigset_t ss;
        int r;

        sigemptyset(&ss);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return -errno;

        r = sd_event_new(&w->event);
        if (r < 0)
                return r;
        r = sd_event_add_signal(w->event, NULL, SIGINT, on_exit_signal, w);
        if (r < 0)
                return r;
        r = sd_event_add_signal(w->event, NULL, SIGTERM, on_exit_signal, w);
        if (r < 0)
                return r;
        return sd_bus_attach_event(w->bus, w->event, SD_EVENT_PRIORITY_NORMAL);
}
