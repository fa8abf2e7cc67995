/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bus-json.h"
#include "ctl.h"
#include "i18n.h"
#include "macro.h"
#include "manager.h"
#include "output.h"
#include "time-util.h"
#include "verbs.h"

int verb_status(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_json_ json_object *props = NULL;
        json_object *products = NULL;
        char buf[256], ts[128];
        const char *state, *s;
        uint64_t u;
        int r;

        r = get_all_properties(bus, &error, &props);
        if (r < 0)
                return report_error("GetAll", &error, r);

        if (arg_json) {
                print_json(props);
                return EXIT_OK;
        }

        state = prop_str(props, "State");
        print_field(_("State"), *state ? state : _("unknown"));

        s = prop_str(props, "Step");
        if (*s || strcmp(state, "running") == 0 || strcmp(state, "paused") == 0) {
                print_field(_("Step"), *s ? s : "-");
                snprintf(buf, sizeof(buf), "%" PRIu64 "%%", prop_u64(props, "Progress"));
                print_field(_("Progress"), buf);
        }
        s = prop_str(props, "StatusText");
        if (*s)
                print_field(_("Status"), s);
        print_field(_("Protected"), prop_bool(props, "Protected") ? _("yes") : _("NO"));
        s = prop_str(props, "Discouraged");
        print_field(_("Discouraged"), *s ? s : "-");
        s = prop_str(props, "Replacement");
        print_field(_("Replacement"), *s ? s : "-");
        s = prop_str(props, "Job");
        print_field(_("Job"), *s && strcmp(s, "/") != 0 ? s : _("none"));

        u = prop_u64(props, "ScheduledAt");
        if (u > 0) {
                uint64_t now = now_usec(CLOCK_REALTIME);
                char span[64];

                format_timestamp(ts, sizeof(ts), u);
                if (u > now) {
                        format_timespan(span, sizeof(span), u - now);
                        snprintf(buf, sizeof(buf), _("%s (in %s)"), ts, span);
                } else
                        snprintf(buf, sizeof(buf), "%s", ts);
                print_field(_("Scheduled"), buf);
        }
        snprintf(buf, sizeof(buf), "%" PRIu64, prop_u64(props, "DeferralsLeft"));
        print_field(_("Deferrals left"), buf);

        u = prop_u64(props, "ProtectionGapUSec");
        format_timespan(ts, sizeof(ts), u);
        print_field(_("Last gap"), ts);

        s = prop_str(props, "LastError");
        if (*s)
                print_field(_("Last error"), s);

        if (json_object_object_get_ex(props, "Products", &products) && json_object_array_length(products) > 0) {
                for (size_t i = 0; i < json_object_array_length(products); i++) {
                        json_object *p = json_object_array_get_idx(products, i);
                        const char *id = prop_str(p, "id"), *role = product_role(props, id);

                        const char *version = prop_str(p, "version");

                        /* TRANSLATORS: id: product version, installed or not, real-time on or off, (role) */
                        snprintf(buf, sizeof(buf), _("%s: %s%s%s, %s, real-time %s%s%s%s"), id, prop_str(p, "product"),
                                 *version ? " " : "", version, prop_bool(p, "installed") ? _("installed") : _("not installed"),
                                 prop_bool(p, "realtime") ? _("on") : _("off"), *role ? " (" : "", role, *role ? ")" : "");
                        print_field(i == 0 ? _("Products") : "", buf);
                }
        } else
                print_field(_("Products"), _("none detected"));

        return EXIT_OK;
}
