/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-start: start → bus name, timed by the bus's own signal. Subscribes
 * to NameOwnerChanged for NAME on the system bus ($DBUS_SYSTEM_BUS_ADDRESS),
 * then forks and executes COMMAND, and prints the microseconds from just
 * before the fork to the signal that gives NAME an owner. Then stops the
 * command (SIGTERM; SIGKILL after 10 s) and reaps it, so that the next
 * round starts from the same state. No polling: the figure is not rounded
 * to a poll interval.
 *
 * Usage: bench-start NAME TIMEOUT_SEC COMMAND [ARG...]
 * $BENCH_START_LOG: append COMMAND's stdout and stderr to this file
 * (default: inherited).
 * Output: "USEC\n". Exit 0; 1 if COMMAND exited or the name did not appear
 * within TIMEOUT_SEC; 2 usage.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

typedef struct Watch {
        const char *name;
        uint64_t owned_nsec; /* 0 until the signal came */
} Watch;

static uint64_t now_nsec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Watch *w = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (strcmp(name, w->name) == 0 && new_owner[0] && w->owned_nsec == 0)
                w->owned_nsec = now_nsec();
        return 0;
}

static void stop_child(pid_t pid) {
        (void) kill(pid, SIGTERM);
        for (int i = 0; i < 1000; i++) {
                if (waitpid(pid, NULL, WNOHANG) == pid)
                        return;
                usleep(10000);
        }
        (void) kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        Watch w = {};
        char *end;
        unsigned long timeout_sec;
        uint64_t t0, deadline;
        pid_t pid;
        int r;

        if (argc < 4) {
                fprintf(stderr, "Usage: bench-start NAME TIMEOUT_SEC COMMAND [ARG...]\n");
                return 2;
        }
        w.name = argv[1];
        errno = 0;
        timeout_sec = strtoul(argv[2], &end, 10);
        if (errno != 0 || *end || end == argv[2] || timeout_sec == 0 || timeout_sec > 3600) {
                fprintf(stderr, "bench-start: bad TIMEOUT_SEC '%s'\n", argv[2]);
                return 2;
        }

        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                        "NameOwnerChanged", on_owner_changed, &w);
        if (r < 0) {
                fprintf(stderr, "bench-start: cannot watch the bus: %s\n", strerror(-r));
                return 1;
        }
        /* A name that already has an owner would never change: refuse. */
        r = sd_bus_get_name_creds(bus, w.name, 0, NULL);
        if (r >= 0) {
                fprintf(stderr, "bench-start: %s already has an owner\n", w.name);
                return 1;
        }

        t0 = now_nsec();
        pid = fork();
        if (pid < 0) {
                fprintf(stderr, "bench-start: fork: %m\n");
                return 1;
        }
        if (pid == 0) {
                const char *log = getenv("BENCH_START_LOG");

                if (log) {
                        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

                        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) {
                                fprintf(stderr, "bench-start: cannot open %s: %m\n", log);
                                _exit(127);
                        }
                }
                execvp(argv[3], argv + 3);
                fprintf(stderr, "bench-start: cannot execute %s: %m\n", argv[3]);
                _exit(127);
        }

        deadline = t0 + (uint64_t) timeout_sec * 1000000000ULL;
        while (w.owned_nsec == 0) {
                int status;

                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        fprintf(stderr, "bench-start: bus: %s\n", strerror(-r));
                        break;
                }
                if (r > 0)
                        continue;
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        fprintf(stderr, "bench-start: %s exited (status 0x%x) before owning %s\n", argv[3], status, w.name);
                        return 1;
                }
                if (now_nsec() > deadline)
                        break;
                (void) sd_bus_wait(bus, 100000);
        }
        stop_child(pid);
        if (w.owned_nsec == 0) {
                fprintf(stderr, "bench-start: %s did not own %s within %lu s\n", argv[3], w.name, timeout_sec);
                return 1;
        }
        printf("%" PRIu64 "\n", (w.owned_nsec - t0) / 1000);
        return 0;
}
