/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus-json.h"
#include "ctl.h"
#include "i18n.h"
#include "macro.h"
#include "manager.h"
#include "output.h"
#include "verbs.h"
#include "watch.h"

static bool result_is_success(const Watch *w) {
        const char *result = w->result;

        if (!result)
                return false;
        if (strcmp(result, "completed") == 0 || strcmp(result, "done") == 0)
                return true;
        /* A dry run ends "not-started" by design; it succeeded if no check failed. */
        return arg_dry_run && strcmp(result, "not-started") == 0 && !w->step_failed;
}

static int wait_for_job(Watch *w, uint64_t id, const char *path) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_json_ json_object *report = NULL;
        int r, code;

        w->job_id = id;
        if (!arg_json)
                printf(_("Started migration job %" PRIu64 " (%s), waiting for it to finish.\n"), id, path);
        fflush(stdout);

        r = watch_setup_loop(w);
        if (r < 0)
                return report_error("event loop setup", NULL, r);

        r = watch_run(w);
        progress_bar_clear(&w->bar);
        if (r == -EINTR) {
                return local_error("org.freedesktop.DBus.Error.Failed",
                                   "Interrupted; job %" PRIu64 " continues in the background.", id);
        }
        if (r < 0)
                return report_error("event loop", NULL, r);
        if (w->lost_daemon)
                return local_error("org.freedesktop.DBus.Error.NoReply",
                                   "avmigrated exited while job %" PRIu64 " was running; it resumes the job when it starts again.",
                                   id);

        code = result_is_success(w) ? EXIT_OK : EXIT_FAIL;

        if (arg_json) {
                r = get_report(w->bus, id, &error, &report);
                if (r < 0 || !json_object_is_type(report, json_type_object)) {
                        json_object_put(report);
                        report = json_object_new_object();
                        if (!report)
                                return report_error("GetReport", NULL, -ENOMEM);
                        json_object_object_add(report, "id", json_object_new_uint64(id));
                        json_object_object_add(report, "path", json_object_new_string(path));
                }
                /* Make sure a script finds the outcome in one place. */
                if (!json_object_object_get_ex(report, "result", NULL))
                        json_object_object_add(report, "result", json_object_new_string(w->result ?: ""));
                print_json(report);
                return code;
        }

        printf(_("Job %" PRIu64 " finished: %s.\n"), id, w->result ?: _("unknown"));
        if (code != EXIT_OK) {
                _cleanup_json_ json_object *props = NULL;

                if (get_all_properties(w->bus, &error, &props) >= 0 && *prop_str(props, "LastError"))
                        fprintf(stderr, _("Last error: %s\n"), prop_str(props, "LastError"));
                fprintf(stderr, _("See 'avmigratectl report %" PRIu64 "' for details.\n"), id);
        }
        return code;
}

int verb_start(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_free_ char *path = NULL;
        const char *p;
        uint64_t id;
        char type;
        Watch w = {
                .bus = bus,
                .bar.out = stdout,
        };
        int r;

        r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, "Start");
        if (r < 0)
                goto fail;
        r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
        if (r < 0)
                goto fail;
        if (arg_force) {
                r = sd_bus_message_append(m, "{sv}", "force", "b", 1);
                if (r < 0)
                        goto fail;
        }
        if (arg_dry_run) {
                r = sd_bus_message_append(m, "{sv}", "dry-run", "b", 1);
                if (r < 0)
                        goto fail;
        }
        if (arg_replacement) {
                r = sd_bus_message_append(m, "{sv}", "replacement", "s", arg_replacement);
                if (r < 0)
                        goto fail;
        }
        r = sd_bus_message_close_container(m);
        if (r < 0)
                goto fail;

        if (arg_wait) {
                /* Subscribe before Start so that no signal of the new job is
                 * missed; signals that arrive before the reply are queued
                 * and dispatched once we know the job id. */
                if (arg_json) {
                        w.bar.out = stderr;
                        w.quiet = true;
                        w.bar.enabled = isatty(STDERR_FILENO);
                } else
                        w.bar.enabled = isatty(STDOUT_FILENO);
                r = watch_add_matches(&w);
                if (r < 0)
                        goto fail;
        }

        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0) {
                r = report_error("Start", &error, r);
                goto finish;
        }
        /* The API reference declares two out arguments ("to"); accept a struct too. */
        r = sd_bus_message_peek_type(reply, &type, NULL);
        if (r > 0 && type == SD_BUS_TYPE_STRUCT)
                r = sd_bus_message_read(reply, "(to)", &id, &p);
        else if (r >= 0)
                r = sd_bus_message_read(reply, "to", &id, &p);
        if (r < 0)
                goto fail;
        path = strdup(p);
        if (!path) {
                r = -ENOMEM;
                goto fail;
        }

        if (arg_wait) {
                r = wait_for_job(&w, id, path);
                goto finish;
        }

        if (arg_json) {
                _cleanup_json_ json_object *o = json_object_new_object();
                if (!o) {
                        r = -ENOMEM;
                        goto fail;
                }
                json_object_object_add(o, "id", json_object_new_uint64(id));
                json_object_object_add(o, "path", json_object_new_string(path));
                print_json(o);
        } else
                printf(_("Started migration job %" PRIu64 " (%s).\n"
                         "Follow it with 'avmigratectl monitor' or 'avmigratectl status'.\n"),
                       id, path);
        r = EXIT_OK;
        goto finish;

fail:
        r = report_error("Start", NULL, r);
finish:
        if (w.event)
                sd_bus_detach_event(bus);
        watch_done(&w);
        return r;
}
