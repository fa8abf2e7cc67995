/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>

#include "inhibit.h"
#include "log.h"
#include "util.h"

int inhibit_take(sd_bus *bus, const char *why) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int fd, r;

        if (!bus)
                return -ENOTCONN;
        r = sd_bus_call_method(bus, "org.freedesktop.login1", "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                               "Inhibit", &error, &reply, "ssss", "shutdown:sleep", "avmigrate", why, "block");
        if (r < 0) {
                log_debug("No logind block lock (%s); continuing without.", error.message ? error.message : strerror(-r));
                sd_bus_error_free(&error);
                return r;
        }
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0)
                return r;
        fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        return fd < 0 ? -errno : fd;
}
