/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test helper for the polkit bounds (tests/bus/test-polkit.sh), on the
 * bus in $DBUS_SYSTEM_BUS_ADDRESS.
 *
 *   avm-polkit-stub serve UID...
 *       Stands in for polkitd: owns org.freedesktop.PolicyKit1 and answers
 *       CheckAuthorization "not authorized" at once, except for subjects
 *       with one of the UIDs, which it never answers (a polkit that hangs,
 *       or a password prompt nobody answers). Prints one line a check.
 *
 *   avm-polkit-stub flood N HOLD_SEC
 *       Sends N Start calls to the daemon on one connection without
 *       waiting, collects the answers for 2 s, prints
 *       "limits=L denied=D other=O pending=P", keeps the connection
 *       HOLD_SEC seconds more, then leaves.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

typedef struct Tally {
        unsigned limits, denied, other, answered;
} Tally;

/* Checks held, until cancelled. */
#define HELD_MAX 1024
static sd_bus_message *held_calls[HELD_MAX];
static char held_ids[HELD_MAX][64];

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static int on_check(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        char **held = userdata;
        uid_t uid = (uid_t) -1;
        bool hold = false;
        sd_bus_creds *creds = NULL;
        const char *kind, *key, *name = NULL, *action = "", *id = "";
        uint32_t flags;
        int r;

        r = sd_bus_message_enter_container(m, 'r', "sa{sv}");
        if (r >= 0)
                r = sd_bus_message_read(m, "s", &kind);
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0 && strcmp(key, "name") == 0)
                        r = sd_bus_message_read(m, "v", "s", &name);
                else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r >= 0)
                r = sd_bus_message_read(m, "s", &action);
        if (r >= 0)
                r = sd_bus_message_skip(m, "a{ss}");
        if (r >= 0)
                r = sd_bus_message_read(m, "us", &flags, &id);
        if (r < 0 || !name)
                return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "Bad subject.");
        if (sd_bus_get_name_creds(sd_bus_message_get_bus(m), name, SD_BUS_CREDS_EUID, &creds) >= 0)
                (void) sd_bus_creds_get_euid(creds, &uid);
        sd_bus_creds_unref(creds);
        for (char **h = held; uid != (uid_t) -1 && *h; h++)
                hold = hold || strtoul(*h, NULL, 10) == uid;
        printf("check %s uid=%u %s %s\n", name, (unsigned) uid, action, hold ? "held" : "denied");
        fflush(stdout);
        for (unsigned i = 0; hold && i < HELD_MAX; i++)
                if (!held_calls[i]) {
                        held_calls[i] = sd_bus_message_ref(m);
                        snprintf(held_ids[i], sizeof(held_ids[i]), "%s", id);
                        return 1; /* not answered until cancelled */
                }
        return sd_bus_reply_method_return(m, "(bba{ss})", 0, 0, 0);
}

static int on_cancel(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *id;
        unsigned n = 0;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < HELD_MAX; i++)
                if (held_calls[i] && *id && strcmp(held_ids[i], id) == 0) {
                        (void) sd_bus_reply_method_errorf(held_calls[i], "org.freedesktop.PolicyKit1.Error.Cancelled",
                                                          "Cancelled.");
                        held_calls[i] = sd_bus_message_unref(held_calls[i]);
                        n++;
                }
        printf("cancel %s: %u\n", id, n);
        fflush(stdout);
        if (n == 0)
                return sd_bus_reply_method_errorf(m, "org.freedesktop.PolicyKit1.Error.Failed", "No such check.");
        return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable authority_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("CancelCheckAuthorization", "s", "", on_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("CheckAuthorization", "(sa{sv})sa{ss}us", "(bba{ss})", on_check, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static int serve(char **held) {
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/PolicyKit1/Authority",
                                             "org.freedesktop.PolicyKit1.Authority", authority_vtable, held);
        if (r >= 0)
                r = sd_bus_request_name(bus, "org.freedesktop.PolicyKit1", 0);
        if (r < 0) {
                fprintf(stderr, "serve: %s\n", strerror(-r));
                return 1;
        }
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return 1;
                if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
                        return 1;
        }
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Tally *t = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        t->answered++;
        if (e && strcmp(e->name, SD_BUS_ERROR_LIMITS_EXCEEDED) == 0)
                t->limits++;
        else if (e && strcmp(e->name, "org.avmigrate.Migrate1.Error.PermissionDenied") == 0)
                t->denied++;
        else
                t->other++;
        return 0;
}

static int run_until(sd_bus *bus, uint64_t until) {
        int r;

        for (uint64_t now = now_usec(); now < until; now = now_usec()) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return r;
                if (r == 0)
                        (void) sd_bus_wait(bus, until - now);
        }
        return 0;
}

static int flood(unsigned n, unsigned hold_sec) {
        sd_bus *bus = NULL;
        Tally t = {};
        int r;

        r = sd_bus_open_system(&bus);
        for (unsigned i = 0; r >= 0 && i < n; i++)
                r = sd_bus_call_method_async(bus, NULL, "org.avmigrate.Migrate1", "/org/avmigrate/Migrate1",
                                             "org.avmigrate.Migrate1.Manager", "Start", on_reply, &t, "a{sv}", 0);
        if (r >= 0)
                r = run_until(bus, now_usec() + 2000000u);
        if (r < 0) {
                fprintf(stderr, "flood: %s\n", strerror(-r));
                return 1;
        }
        printf("limits=%u denied=%u other=%u pending=%u\n", t.limits, t.denied, t.other, n - t.answered);
        fflush(stdout);
        (void) run_until(bus, now_usec() + (uint64_t) hold_sec * 1000000u);
        sd_bus_flush_close_unref(bus);
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc >= 2 && strcmp(argv[1], "serve") == 0)
                return serve(argv + 2);
        if (argc == 4 && strcmp(argv[1], "flood") == 0)
                return flood((unsigned) strtoul(argv[2], NULL, 10), (unsigned) strtoul(argv[3], NULL, 10));
        fprintf(stderr, "usage: avm-polkit-stub serve UID... | flood N HOLD_SEC\n");
        return 2;
}
