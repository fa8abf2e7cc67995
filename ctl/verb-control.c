/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>

#include "bus-json.h"
#include "ctl.h"
#include "i18n.h"
#include "macro.h"
#include "manager.h"
#include "output.h"
#include "verbs.h"

static int simple_call(sd_bus *bus, const char *method) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = call_manager(bus, method, &error, NULL, NULL);
        if (r < 0)
                return report_error(method, &error, r);
        if (arg_json) {
                _cleanup_json_ json_object *o = json_object_new_object();
                if (!o)
                        return report_error(method, NULL, -ENOMEM);
                print_json(o);
        }
        return EXIT_OK;
}

int verb_pause(sd_bus *bus, int argc, char **argv) {
        return simple_call(bus, "Pause");
}

int verb_resume(sd_bus *bus, int argc, char **argv) {
        return simple_call(bus, "Resume");
}

int verb_cancel(sd_bus *bus, int argc, char **argv) {
        return simple_call(bus, "Cancel");
}

int verb_refresh(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = call_manager(bus, "Refresh", &error, NULL, NULL);
        if (r < 0 && error_is(&error, "NotSupported")) {
                /* No ManifestURL=: nothing to fetch (avmigrate-refresh.service
                 * counts this as success on desktops without a fleet). */
                if (arg_json)
                        print_json_error(error.name, error.message);
                fprintf(stderr, "%s\n", error.message ? error.message : _("not supported yet"));
                return EXIT_NOTHING_TO_DO;
        }
        if (r < 0)
                return report_error("Refresh", &error, r);
        if (arg_json) {
                _cleanup_json_ json_object *o = json_object_new_object();
                if (!o)
                        return report_error("Refresh", NULL, -ENOMEM);
                print_json(o);
        }
        return EXIT_OK;
}
