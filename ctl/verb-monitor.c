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
#include "watch.h"

int verb_monitor(sd_bus *bus, int argc, char **argv) {
        Watch w = {
                .bus = bus,
                .monitor = true,
                .bar.out = stdout,
        };
        int r;

        r = watch_add_matches(&w);
        if (r < 0) {
                r = report_error("AddMatch", NULL, r);
                goto finish;
        }
        r = watch_setup_loop(&w);
        if (r < 0) {
                r = report_error("event loop setup", NULL, r);
                goto finish;
        }
        if (!arg_json)
                fprintf(stderr, _("Monitoring %s, press Ctrl-C to stop.\n"), BUS_NAME);

        r = watch_run(&w);
        if (r == -EINTR)
                r = EXIT_OK;
        else if (r < 0)
                r = report_error("event loop", NULL, r);
finish:
        sd_bus_detach_event(bus);
        watch_done(&w);
        return r;
}
