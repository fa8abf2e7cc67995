/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-refd: the floor for bench/run. The least a system service on
 * sd-bus can be: it owns a bus name and serves one object with one
 * read-only property and one method from an sd-event loop, with no timers
 * and no state. Whatever avmigrated costs beyond this (start time, memory,
 * wake-ups, round trips) is its own.
 *
 * Usage: bench-refd [BUS_NAME]   (default org.avmigrate.BenchRef1)
 * Serves /org/avmigrate/BenchRef1, interface org.avmigrate.BenchRef1:
 * property Value (s), method Echo(s) -> s. Exits on SIGTERM or SIGINT.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#define OBJECT_PATH "/org/avmigrate/BenchRef1"
#define INTERFACE "org.avmigrate.BenchRef1"

#define _cleanup_(f) __attribute__((cleanup(f)))

static int method_echo(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *s;
        int r;

        r = sd_bus_message_read(m, "s", &s);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, "s", s);
}

static int property_value(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                          void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", "idle");
}

static const sd_bus_vtable vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Value", "s", property_value, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD("Echo", "s", "s", method_echo, 0),
        SD_BUS_VTABLE_END,
};

int main(int argc, char *argv[]) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *name = argc > 1 ? argv[1] : "org.avmigrate.BenchRef1";
        sigset_t mask;
        int r;

        if (argc > 2) {
                fprintf(stderr, "Usage: bench-refd [BUS_NAME]\n");
                return 2;
        }
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
                fprintf(stderr, "bench-refd: sigprocmask: %m\n");
                return 1;
        }

        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, OBJECT_PATH, INTERFACE, vtable, NULL);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        /* Like avmigrated: the name last, when everything is ready to serve. */
        if (r >= 0)
                r = sd_bus_request_name(bus, name, 0);
        if (r < 0) {
                fprintf(stderr, "bench-refd: %s\n", strerror(-r));
                return 1;
        }
        r = sd_event_loop(event);
        if (r < 0) {
                fprintf(stderr, "bench-refd: event loop: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
