/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bus-json.h"
#include "ctl.h"
#include "i18n.h"
#include "macro.h"
#include "manager.h"
#include "output.h"
#include "parse-util.h"
#include "time-util.h"
#include "verbs.h"

static bool key_is_usec(const char *key) {
        size_t l = strlen(key);

        return l >= 4 && strcasecmp(key + l - 4, "usec") == 0;
}

/* Render a JSON value for humans, YAML-like. */
static void render_json(json_object *o, const char *key, int indent, bool list_item) {
        const char *lead = list_item ? "- " : "";

        if (json_object_is_type(o, json_type_object)) {
                bool first = true;

                if (key)
                        printf("%*s%s%s:\n", indent, "", lead, key);
                else if (list_item && json_object_object_length(o) == 0)
                        printf("%*s- {}\n", indent, "");
                json_object_object_foreach(o, k, v) {
                        /* The first field of an object in a list goes on the dash line. */
                        if (list_item && !key && first)
                                render_json(v, k, indent, true);
                        else
                                render_json(v, k, indent + (key || list_item ? 2 : 0), false);
                        first = false;
                }
                return;
        }
        if (json_object_is_type(o, json_type_array)) {
                size_t n = json_object_array_length(o);

                if (key)
                        printf("%*s%s%s:%s\n", indent, "", lead, key, n == 0 ? " []" : "");
                for (size_t i = 0; i < n; i++)
                        render_json(json_object_array_get_idx(o, i), NULL, indent + (key ? 2 : 0), true);
                return;
        }

        printf("%*s%s", indent, "", lead);
        if (key)
                printf("%s:%s", key, json_object_is_type(o, json_type_string) && !*json_object_get_string(o) ? "" : " ");
        if (!o)
                fputs("null", stdout);
        else
                fputs(json_object_get_string(o), stdout);
        if (key && key_is_usec(key) && json_object_is_type(o, json_type_int)) {
                uint64_t u = json_object_get_uint64(o);
                char buf[128];

                /* Realtime timestamps are > 2001-09-09 in µs. */
                if (u >= 1000000000ULL * USEC_PER_SEC)
                        format_timestamp(buf, sizeof(buf), u);
                else
                        format_timespan(buf, sizeof(buf), u);
                printf(" (%s)", buf);
        }
        putchar('\n');
}

int verb_report(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_json_ json_object *report = NULL;
        uint64_t id = 0; /* 0: the most recent job */
        int r;

        if (argc > 1 && parse_uint64(argv[1], &id) < 0)
                return local_error("org.freedesktop.DBus.Error.InvalidArgs", "Invalid job id '%s'.", argv[1]);

        r = get_report(bus, id, &error, &report);
        if (r < 0)
                return report_error("GetReport", &error, r);

        if (arg_json)
                print_json(report);
        else
                render_json(report, NULL, 0, false);
        return EXIT_OK;
}
