/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-roundtrip: cost of reading the daemon's state over D-Bus, relative
 * to the cheapest possible round trip to the same daemon.
 *
 * Measures Properties.GetAll("org.avmigrate.Migrate1.Manager") against
 * Peer.Ping, both sent to org.avmigrate.Migrate1 on the system bus
 * ($DBUS_SYSTEM_BUS_ADDRESS), and the bus's own GetId (the bus daemon
 * alone, no service involved), interleaved in batches in one process so
 * that all see the same machine load. Prints median, mean and p99 of each
 * in µs and the ratios GetAll/Ping and Ping/GetId. -d, -o and -i point it at
 * another service (bench/run measures the peers with it). A benchmark, not a
 * pass/fail test.
 *
 * Usage: bench-roundtrip [-n CALLS] [-b BATCH] [-w WARMUP] [-d NAME -o PATH -i INTERFACE]
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

static const char *arg_dest = "org.avmigrate.Migrate1";
static const char *arg_path = "/org/avmigrate/Migrate1";
static const char *arg_interface = "org.avmigrate.Migrate1.Manager";

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p) {
        free(*(void **) p);
}

typedef enum Kind {
        KIND_GETALL,
        KIND_PING,
        KIND_GETID,
        _KIND_MAX,
} Kind;

static const char *const kind_name[_KIND_MAX] = { "GetAll", "Ping", "GetId" };

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
                r = sd_bus_call_method(bus, arg_dest, arg_path, "org.freedesktop.DBus.Properties", "GetAll", &error, &reply, "s",
                                       arg_interface);
        else if (kind == KIND_PING)
                r = sd_bus_call_method(bus, arg_dest, arg_path, "org.freedesktop.DBus.Peer", "Ping", &error, &reply, NULL);
        else
                r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId",
                                       &error, &reply, NULL);
        t1 = now_nsec();
        if (r < 0) {
                fprintf(stderr, "%s failed: %s\n", kind_name[kind], error.message ?: strerror(-r));
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
                "Usage: bench-roundtrip [-n CALLS] [-b BATCH] [-w WARMUP] [-d NAME] [-o PATH] [-i INTERFACE]\n"
                "  -n CALLS      calls of each kind (default 2000)\n"
                "  -b BATCH      calls of one kind before switching (default 50)\n"
                "  -w WARMUP     untimed calls of each kind first (default 100)\n"
                "  -d NAME       service (default org.avmigrate.Migrate1)\n"
                "  -o PATH       its object (default /org/avmigrate/Migrate1)\n"
                "  -i INTERFACE  whose properties GetAll reads (default org.avmigrate.Migrate1.Manager)\n");
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(freep) uint64_t *samples = NULL;
        size_t n = 2000, batch = 50, warmup = 100, done[_KIND_MAX] = {};
        Stats st[_KIND_MAX];
        uint64_t t0, t1;
        int c, r;

        while ((c = getopt(argc, argv, "hn:b:w:d:o:i:")) >= 0) {
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
                case 'd':
                        if (!sd_bus_service_name_is_valid(optarg)) {
                                fprintf(stderr, "Invalid bus name: %s\n", optarg);
                                return 1;
                        }
                        arg_dest = optarg;
                        break;
                case 'o':
                        if (!sd_bus_object_path_is_valid(optarg)) {
                                fprintf(stderr, "Invalid object path: %s\n", optarg);
                                return 1;
                        }
                        arg_path = optarg;
                        break;
                case 'i':
                        if (!sd_bus_interface_name_is_valid(optarg)) {
                                fprintf(stderr, "Invalid interface name: %s\n", optarg);
                                return 1;
                        }
                        arg_interface = optarg;
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

        samples = calloc(n * _KIND_MAX, sizeof(uint64_t));
        if (!samples) {
                fprintf(stderr, "Out of memory\n");
                return 1;
        }

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "Failed to connect to the system bus: %s\n", strerror(-r));
                return 1;
        }

        for (size_t i = 0; i < warmup; i++)
                for (Kind k = 0; k < _KIND_MAX; k++) {
                        uint64_t d;

                        if (one_call(bus, k, &d) < 0)
                                return 1;
                }

        t0 = now_nsec();
        /* Alternate batches, starting with a different kind every round so
         * that none always runs right after another. */
        for (size_t round = 0; done[KIND_GETALL] < n || done[KIND_PING] < n || done[KIND_GETID] < n; round++) {
                for (size_t k = 0; k < _KIND_MAX; k++) {
                        Kind kind = (Kind) ((round + k) % _KIND_MAX);

                        for (size_t i = 0; i < batch && done[kind] < n; i++) {
                                r = one_call(bus, kind, &samples[kind * n + done[kind]]);
                                if (r < 0)
                                        return 1;
                                done[kind]++;
                        }
                }
        }
        t1 = now_nsec();

        for (Kind k = 0; k < _KIND_MAX; k++)
                st[k] = stats(samples + k * n, n);

        printf("bench-roundtrip: %s, %zu calls of each kind, batches of %zu, %zu warm-up, %.2f s\n", arg_dest, n, batch, warmup,
               (double) (t1 - t0) / 1e9);
        printf("%-8s %12s %12s %12s %12s\n", "call", "median/us", "mean/us", "p99/us", "min/us");
        for (Kind k = 0; k < _KIND_MAX; k++)
                printf("%-8s %12.1f %12.1f %12.1f %12.1f\n", kind_name[k], st[k].median_us, st[k].mean_us, st[k].p99_us,
                       st[k].min_us);
        printf("RATIO GetAll/Ping: median %.2f, mean %.2f\n",
               st[KIND_PING].median_us > 0 ? st[KIND_GETALL].median_us / st[KIND_PING].median_us : 0.0,
               st[KIND_PING].mean_us > 0 ? st[KIND_GETALL].mean_us / st[KIND_PING].mean_us : 0.0);
        printf("RATIO Ping/GetId: median %.2f, mean %.2f\n",
               st[KIND_GETID].median_us > 0 ? st[KIND_PING].median_us / st[KIND_GETID].median_us : 0.0,
               st[KIND_GETID].mean_us > 0 ? st[KIND_PING].mean_us / st[KIND_GETID].mean_us : 0.0);
        return 0;
}
