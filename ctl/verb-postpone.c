/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "bus-json.h"
#include "ctl.h"
#include "i18n.h"
#include "macro.h"
#include "manager.h"
#include "output.h"
#include "time-util.h"
#include "verbs.h"

int verb_postpone(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_json_ json_object *props = NULL;
        char span[64];
        uint64_t usec;
        int r;

        r = parse_timespan(argv[1], &usec);
        if (r < 0 || usec == 0)
                return local_error("org.freedesktop.DBus.Error.InvalidArgs",
                                   "Invalid duration '%s' (examples: 90s, 30min, 2h, 1d; plain numbers are seconds).", argv[1]);

        r = call_manager(bus, "Postpone", &error, NULL, "t", usec);
        if (r < 0)
                return report_error("Postpone", &error, r);

        /* Show what the daemon made of it; failing to read it is not fatal. */
        (void) get_all_properties(bus, &error, &props);

        if (arg_json) {
                _cleanup_json_ json_object *o = json_object_new_object();
                if (!o)
                        return report_error("Postpone", NULL, -ENOMEM);
                json_object_object_add(o, "postponed_usec", json_object_new_uint64(usec));
                if (props) {
                        json_object_object_add(o, "ScheduledAt", json_object_new_uint64(prop_u64(props, "ScheduledAt")));
                        json_object_object_add(o, "DeferralsLeft", json_object_new_uint64(prop_u64(props, "DeferralsLeft")));
                }
                print_json(o);
                return EXIT_OK;
        }

        format_timespan(span, sizeof(span), usec);
        printf(_("Migration postponed by %s.\n"), span);
        if (props) {
                uint64_t at = prop_u64(props, "ScheduledAt");
                char ts[128];

                if (at > 0) {
                        format_timestamp(ts, sizeof(ts), at);
                        printf(_("Next attempt: %s.\n"), ts);
                }
                printf(_("Deferrals left: %" PRIu64 ".\n"), prop_u64(props, "DeferralsLeft"));
        }
        return EXIT_OK;
}
