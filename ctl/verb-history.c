/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>

#include "bus-json.h"
#include "ctl.h"
#include "i18n.h"
#include "macro.h"
#include "manager.h"
#include "output.h"
#include "table.h"
#include "time-util.h"
#include "verbs.h"

static const char *first_key(json_object *o, const char *const *keys, size_t n) {
        json_object *v;

        for (size_t i = 0; i < n; i++)
                if (json_object_object_get_ex(o, keys[i], &v) && v)
                        return keys[i];
        return NULL;
}

int verb_history(sd_bus *bus, int argc, char **argv) {
        static const char *const id_keys[] = { "id", "job" };
        static const char *const time_keys[] = { "end_usec",   "finished_usec", "end",          "ended", "finished",
                                                 "end_time",   "start_usec",    "started_usec", "start", "started",
                                                 "start_time", "timestamp",     "time" };
        static const char *const from_keys[] = { "from", "discouraged" };
        static const char *const to_keys[] = { "to", "replacement" };
        static const char *const result_keys[] = { "result", "state" };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_json_ json_object *history = NULL;
        const char *text;
        size_t n;
        int r;

        r = call_manager(bus, "GetHistory", &error, &reply, NULL);
        if (r < 0)
                return report_error("GetHistory", &error, r);
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                return report_error("GetHistory", NULL, r);
        history = json_tokener_parse(text);
        if (!json_object_is_type(history, json_type_array))
                return local_error("org.freedesktop.DBus.Error.InvalidSignature",
                                   "avmigrated returned a history that is not a JSON array.");

        if (arg_json) {
                print_json(history);
                return EXIT_OK;
        }

        n = json_object_array_length(history);
        if (n == 0) {
                puts(_("No migrations recorded."));
                return EXIT_OK;
        }
        printf("%-6s  %-31s  %-28s  %-10s  %s\n", "JOB", "FINISHED", "FROM -> TO", "GAP", "RESULT");
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(history, i), *v;
                const char *k_id, *k_time, *k_from, *k_to, *k_result;
                char when[128] = "-", fromto[256], gap[64] = "-", result[128];

                if (!json_object_is_type(e, json_type_object)) {
                        puts(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
                        continue;
                }
                k_id = first_key(e, id_keys, ELEMENTSOF(id_keys));
                k_time = first_key(e, time_keys, ELEMENTSOF(time_keys));
                k_from = first_key(e, from_keys, ELEMENTSOF(from_keys));
                k_to = first_key(e, to_keys, ELEMENTSOF(to_keys));
                k_result = first_key(e, result_keys, ELEMENTSOF(result_keys));
                if (!k_id && !k_time && !k_result) {
                        puts(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
                        continue;
                }
                if (k_time && json_object_object_get_ex(e, k_time, &v)) {
                        if (json_object_is_type(v, json_type_int))
                                format_timestamp(when, sizeof(when), json_object_get_uint64(v));
                        else
                                snprintf(when, sizeof(when), "%s", json_object_get_string(v));
                }
                if (json_object_object_get_ex(e, "gap_usec", &v) && json_object_is_type(v, json_type_int))
                        format_timespan(gap, sizeof(gap), json_object_get_uint64(v));
                snprintf(fromto, sizeof(fromto), "%s -> %s", k_from ? prop_str(e, k_from) : "?", k_to ? prop_str(e, k_to) : "?");
                snprintf(result, sizeof(result), "%s%s", k_result ? prop_str(e, k_result) : "-",
                         prop_bool(e, "dry_run") ? " (dry run)" : "");
                printf("%-6s  %-31s  %-28s  %-10s  %s\n", k_id ? prop_str(e, k_id) : "-", when, fromto, gap, result);
        }
        return EXIT_OK;
}
