/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/epoll.h>
#include <systemd/sd-event.h>

#include "inhibit.h"
#include "log.h"
#include "util.h"

/* One requested lock: logind's answer may come after the caller gave the
 * lock up, so the request lives until both are settled. */
typedef struct Inhibitor {
        sd_bus_slot *call;         /* Inhibit() not answered yet */
        sd_event_source *released; /* our end of the caller's handle, until it floats */
        int lock_fd;               /* logind's lock, once it answered */
} Inhibitor;

/* The destroy callback of the handle's event source, which owns the
 * request: freed with it, also when the event loop goes away first. */
static void inhibitor_free(void *userdata) {
        Inhibitor *i = userdata;

        sd_bus_slot_unref(i->call);
        safe_close_fd(i->lock_fd);
        free(i);
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Inhibitor *i = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int fd, r;

        i->call = sd_bus_slot_unref(i->call);
        if (e) {
                log_debug("No logind block lock (%s); continuing without.", e->message ? e->message : e->name);
                return 0;
        }
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0) {
                log_debug_errno(r, "Malformed reply to logind's Inhibit(), continuing without a block lock: %m");
                return 0;
        }
        i->lock_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (i->lock_fd < 0)
                log_debug_errno(errno, "Cannot keep logind's block lock: %m");
        return 0;
}

/* The caller closed its handle: give the lock up, or stop waiting for it. */
static int on_released(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        char buf[64];

        if (!(revents & (EPOLLHUP | EPOLLERR))) {
                /* Nobody should write to the handle; do not spin on it. */
                while (read(fd, buf, sizeof(buf)) > 0)
                        ;
                return 0;
        }
        /* Dropping the event loop's reference (the only one) frees the
         * source once this callback returns, and the request with it. */
        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        (void) sd_event_source_set_floating(s, false);
        return 0;
}

int inhibit_take(sd_bus *bus, const char *why) {
        sd_event *event = bus ? sd_bus_get_event(bus) : NULL;
        int handle[2], r;
        Inhibitor *i;

        if (!event)
                return -ENOTCONN;
        i = calloc(1, sizeof(Inhibitor));
        if (!i)
                return -ENOMEM;
        i->lock_fd = -EBADF;
        if (pipe2(handle, O_CLOEXEC | O_NONBLOCK) < 0) {
                free(i);
                return -errno;
        }
        r = sd_event_add_io(event, &i->released, handle[0], EPOLLIN, on_released, i);
        if (r < 0) {
                safe_close_fd(handle[0]);
                safe_close_fd(handle[1]);
                free(i);
                return r;
        }
        (void) sd_event_source_set_io_fd_own(i->released, true);
        (void) sd_event_source_set_destroy_callback(i->released, inhibitor_free);
        (void) sd_event_source_set_description(i->released, "inhibit-handle");
        /* Asynchronously: the event loop (and every D-Bus caller) never waits
         * for logind. */
        r = sd_bus_call_method_async(bus, &i->call, "org.freedesktop.login1", "/org/freedesktop/login1",
                                     "org.freedesktop.login1.Manager", "Inhibit", on_reply, i, "ssss", "shutdown:sleep",
                                     "avmigrate", why, "block");
        if (r < 0) {
                log_debug_errno(r, "Cannot ask logind for a block lock, continuing without: %m");
                sd_event_source_disable_unref(i->released);
                safe_close_fd(handle[1]);
                return r;
        }
        /* Owned by the event loop from here on: until the handle is closed,
         * or the loop is freed at exit. */
        r = sd_event_source_set_floating(i->released, true);
        if (r < 0) {
                sd_event_source_disable_unref(i->released);
                safe_close_fd(handle[1]);
                return r;
        }
        i->released = sd_event_source_unref(i->released);
        return handle[1];
}
