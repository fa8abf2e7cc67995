/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-roundtrip: cost of reading the daemon's state over D-Bus, relative
 * to the cheapest possible round trip to the same daemon.
 *
 * Measures Properties.GetAll("org.avmigrate.Migrate1.Manager") against
 * Peer.Ping, both sent to org.avmigrate.Migrate1 on the system bus
 * ($DBUS_SYSTEM_BUS_ADDRESS), interleaved in batches in one process so that
 * both see the same machine load. Prints median, mean and p99 of each in µs
 * and the ratio GetAll/Ping. A benchmark, not a pass/fail test.
 *
 * Usage: bench-roundtrip [-n CALLS] [-b BATCH] [-w WARMUP]
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-bus.h>

#define BUS_NAME "org.avmigrate.Migrate1"
#define OBJECT_PATH "/org/avmigrate/Migrate1"
#define MANAGER_INTERFACE "org.avmigrate.Migrate1.Manager"

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p) {
        free(*(void **) p);
}

typedef enum Kind {
        KIND_GETALL,
        KIND_PING,
} Kind;

static uint64_t now_nsec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static int one_call(sd_bus *bus, Kind kind, uint64_t *ret_nsec) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint64_t t0, t1;
        int r;

        t0 = now_nsec();
        if (kind == KIND_GETALL)
                r = sd_bus_call_method(bus, BUS_NAME, OBJECT_PATH, "org.freedesktop.DBus.Properties", "GetAll", &error, &reply,
                                       "s", MANAGER_INTERFACE);
        else
                r = sd_bus_call_method(bus, BUS_NAME, OBJECT_PATH, "org.freedesktop.DBus.Peer", "Ping", &error, &reply, NULL);
        t1 = now_nsec();
        if (r < 0) {
                fprintf(stderr, "%s failed: %s\n", kind == KIND_GETALL ? "GetAll" : "Ping", error.message ?: strerror(-r));
                return r;
        }
        *ret_nsec = t1 - t0;
        return 0;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

typedef struct Stats {
        double median_us, mean_us, p99_us, min_us;
} Stats;

static Stats stats(uint64_t *v, size_t n) {
        Stats s = {};
        double sum = 0;

        if (n == 0)
                return s;
        qsort(v, n, sizeof(uint64_t), cmp_u64);
        for (size_t i = 0; i < n; i++)
                sum += (double) v[i];
        s.min_us = (double) v[0] / 1000.0;
        s.median_us = (n % 2 ? (double) v[n / 2] : ((double) v[n / 2 - 1] + (double) v[n / 2]) / 2.0) / 1000.0;
        s.mean_us = sum / (double) n / 1000.0;
        s.p99_us = (double) v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1000.0;
        return s;
}

static int parse_size(const char *s, size_t *ret) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end || end == s || v == 0 || v > 10000000ULL)
                return -EINVAL;
        *ret = (size_t) v;
        return 0;
}

static void usage(FILE *f) {
        fprintf(f,
                "Usage: bench-roundtrip [-n CALLS] [-b BATCH] [-w WARMUP]\n"
                "  -n CALLS   calls of each kind (default 2000)\n"
                "  -b BATCH   calls of one kind before switching (default 50)\n"
                "  -w WARMUP  untimed calls of each kind first (default 100)\n");
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(freep) uint64_t *getall = NULL, *ping = NULL;
        size_t n = 2000, batch = 50, warmup = 100, n_getall = 0, n_ping = 0;
        Stats sg, sp;
        uint64_t t0, t1;
        int c, r;

        while ((c = getopt(argc, argv, "hn:b:w:")) >= 0) {
                switch (c) {
                case 'n':
                        if (parse_size(optarg, &n) < 0) {
                                usage(stderr);
                                return 1;
                        }
                        break;
                case 'b':
                        if (parse_size(optarg, &batch) < 0) {
                                usage(stderr);
                                return 1;
                        }
                        break;
                case 'w':
                        if (parse_size(optarg, &warmup) < 0) {
                                usage(stderr);
                                return 1;
                        }
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 1;
                }
        }
        if (optind < argc) {
                usage(stderr);
                return 1;
        }

        getall = calloc(n, sizeof(uint64_t));
        ping = calloc(n, sizeof(uint64_t));
        if (!getall || !ping) {
                fprintf(stderr, "Out of memory\n");
                return 1;
        }

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "Failed to connect to the system bus: %s\n", strerror(-r));
                return 1;
        }

        for (size_t i = 0; i < warmup; i++) {
                uint64_t d;

                if (one_call(bus, KIND_GETALL, &d) < 0 || one_call(bus, KIND_PING, &d) < 0)
                        return 1;
        }

        t0 = now_nsec();
        /* Alternate batches, starting with a different kind every round so
         * that neither always runs right after the other. */
        for (size_t round = 0; n_getall < n || n_ping < n; round++) {
                for (int k = 0; k < 2; k++) {
                        Kind kind = (Kind) ((round + (size_t) k) % 2);
                        uint64_t *v = kind == KIND_GETALL ? getall : ping;
                        size_t *done = kind == KIND_GETALL ? &n_getall : &n_ping;

                        for (size_t i = 0; i < batch && *done < n; i++) {
                                r = one_call(bus, kind, &v[*done]);
                                if (r < 0)
                                        return 1;
                                (*done)++;
                        }
                }
        }
        t1 = now_nsec();

        sg = stats(getall, n);
        sp = stats(ping, n);

        printf("bench-roundtrip: %zu calls of each kind, batches of %zu, %zu warm-up, %.2f s\n", n, batch, warmup,
               (double) (t1 - t0) / 1e9);
        printf("%-8s %12s %12s %12s %12s\n", "call", "median/us", "mean/us", "p99/us", "min/us");
        printf("%-8s %12.1f %12.1f %12.1f %12.1f\n", "GetAll", sg.median_us, sg.mean_us, sg.p99_us, sg.min_us);
        printf("%-8s %12.1f %12.1f %12.1f %12.1f\n", "Ping", sp.median_us, sp.mean_us, sp.p99_us, sp.min_us);
        printf("RATIO GetAll/Ping: median %.2f, mean %.2f\n", sp.median_us > 0 ? sg.median_us / sp.median_us : 0.0,
               sp.mean_us > 0 ? sg.mean_us / sp.mean_us : 0.0);
        return 0;
}
