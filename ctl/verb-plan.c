/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bus-json.h"
#include "ctl.h"
#include "i18n.h"
#include "macro.h"
#include "manager.h"
#include "output.h"
#include "table.h"
#include "verbs.h"

static const char *const plan_fields[] = { "step", "description", "product" };

int verb_plan(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_json_ json_object *tuples = NULL, *plan = NULL;
        size_t n, w_step = strlen("STEP"), w_desc = strlen("DESCRIPTION");
        int r;

        r = call_manager(bus, "GetPlan", &error, &reply, NULL);
        if (r < 0)
                return report_error("GetPlan", &error, r);
        r = json_from_bus(reply, &tuples);
        if (r < 0)
                return report_error("GetPlan", NULL, r);
        plan = tuples_to_objects(tuples, plan_fields, ELEMENTSOF(plan_fields));
        if (!plan)
                return report_error("GetPlan", NULL, -ENOMEM);
        n = json_object_array_length(plan);

        if (arg_json) {
                print_json(plan);
                return n > 0 ? EXIT_OK : EXIT_NOTHING_TO_DO;
        }
        if (n == 0) {
                puts(_("Nothing to do."));
                return EXIT_NOTHING_TO_DO;
        }

        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_array_get_idx(plan, i);
                w_step = max_size(w_step, utf8_width(prop_str(p, "step")));
                w_desc = max_size(w_desc, utf8_width(prop_str(p, "description")));
        }
        printf("%3s  %-*s  %-*s  %s\n", "#", (int) w_step, "STEP", (int) w_desc, "DESCRIPTION", "PRODUCT");
        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_array_get_idx(plan, i);
                const char *product = prop_str(p, "product");

                printf("%3zu  ", i + 1);
                print_padded(prop_str(p, "step"), w_step);
                fputs("  ", stdout);
                print_padded(prop_str(p, "description"), w_desc);
                printf("  %s\n", *product ? product : "-");
        }
        printf(ngettext("\n%zu step.\n", "\n%zu steps.\n", n), n);
        return EXIT_OK;
}
