/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * avm-load-client: many concurrent clients of avmigrated during a migration
 * (tests/bus/test-load.sh).
 *
 * Opens CLIENTS connections to the system bus ($DBUS_SYSTEM_BUS_ADDRESS) in
 * one sd-event loop. Each subscribes to every signal the daemon sends
 * (PropertiesChanged of the Manager and the job, StepStarted, StepFinished,
 * JobRemoved) and, every PERIOD ms with jitter, calls GetAll on the Manager
 * or GetPlan (alternately, one call outstanding per client), timing each
 * reply. One more connection is the stuck client: it subscribes to the same
 * signals, sends STUCK_CALLS GetAll/GetPlan calls (default 100) and then
 * never reads its socket, so the bus daemon's queue towards it fills up.
 *
 * Prints "READY" once every client is subscribed (the test starts the
 * migration then), and ends when every client has seen JobRemoved and a
 * short drain. Checks: every client received the same sequence of signals,
 * with each StepStarted followed by its StepFinished and exactly one
 * JobRemoved; every call got a reply without error; the stuck client really
 * holds unread data. Prints "signal ..." lines (the first client's step
 * signals, for the test to compare with the job's report), call count and
 * latency median/p99/max, and "stuck-unread-bytes N".
 *
 * Usage: avm-load-client [-n CLIENTS] [-p PERIOD_MS] [-s STUCK_CALLS] [-t TIMEOUT_SEC]
 * Exit 0 all checks passed, 1 a check failed (reason printed), 2 usage.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#define DEST "org.avmigrate.Migrate1"
#define MANAGER_PATH "/org/avmigrate/Migrate1"
#define MANAGER_IFACE "org.avmigrate.Migrate1.Manager"
#define MAX_SIGNALS 4096
#define SIGNAL_TEXT_MAX 512
#define DRAIN_USEC (1000ULL * 1000ULL)

#define _cleanup_(f) __attribute__((cleanup(f)))

typedef struct Load Load;

typedef struct Client {
        Load *load;
        unsigned index;
        sd_bus *bus;
        sd_event_source *timer;
        sd_bus_slot *call;
        uint64_t call_started;
        unsigned n_calls;
        char **signals; /* what this client received, in order */
        size_t n_signals;
        bool saw_job_removed;
        bool overflow;
} Client;

struct Load {
        sd_event *event;
        Client *clients;
        unsigned n_clients;
        unsigned period_ms;
        unsigned n_done; /* clients that saw JobRemoved */
        uint64_t *latencies;
        size_t n_latencies, max_latencies;
        uint64_t ready_usec, slowest_usec, slowest_sent_usec;
        unsigned call_errors;
        char first_error[256];
        bool draining;
        uint64_t max_lag_usec; /* how late this process's own loop ran */
        uint64_t call_timeout_usec;
};

#define LAG_PERIOD_USEC (50ULL * 1000ULL)

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* A readable, comparable line for one signal: member, path and arguments
 * (PropertiesChanged: the interface and the names of what changed). */
static int describe_signal(sd_bus_message *m, char *buf, size_t size) {
        const char *member = sd_bus_message_get_member(m), *path = sd_bus_message_get_path(m);
        int r;

        if (!member || !path)
                return -EBADMSG;
        if (strcmp(member, "StepStarted") == 0) {
                const char *step;
                uint64_t id;
                uint32_t index, count;

                r = sd_bus_message_read(m, "tsuu", &id, &step, &index, &count);
                if (r < 0)
                        return r;
                snprintf(buf, size, "StepStarted %" PRIu64 " %s %" PRIu32 "/%" PRIu32, id, step, index, count);
        } else if (strcmp(member, "StepFinished") == 0) {
                const char *step, *result;
                uint64_t id;

                r = sd_bus_message_read(m, "tss", &id, &step, &result);
                if (r < 0)
                        return r;
                snprintf(buf, size, "StepFinished %" PRIu64 " %s %s", id, step, result);
        } else if (strcmp(member, "JobRemoved") == 0) {
                const char *job_path, *result;
                uint64_t id;

                r = sd_bus_message_read(m, "tos", &id, &job_path, &result);
                if (r < 0)
                        return r;
                snprintf(buf, size, "JobRemoved %" PRIu64 " %s %s", id, job_path, result);
        } else if (strcmp(member, "PropertiesChanged") == 0) {
                const char *iface;
                size_t n;

                r = sd_bus_message_read(m, "s", &iface);
                if (r < 0)
                        return r;
                n = (size_t) snprintf(buf, size, "PropertiesChanged %s %s:", path, iface);
                r = sd_bus_message_enter_container(m, 'a', "{sv}");
                if (r < 0)
                        return r;
                while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                        const char *name;

                        r = sd_bus_message_read(m, "s", &name);
                        if (r < 0)
                                return r;
                        if (n < size)
                                n += (size_t) snprintf(buf + n, size - n, " %s", name);
                        r = sd_bus_message_skip(m, "v");
                        if (r < 0)
                                return r;
                        r = sd_bus_message_exit_container(m);
                        if (r < 0)
                                return r;
                }
                if (r < 0)
                        return r;
        } else
                snprintf(buf, size, "%s %s", member, path);
        return 0;
}

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Client *c = userdata;
        char text[SIGNAL_TEXT_MAX];
        char *copy;

        if (describe_signal(m, text, sizeof text) < 0)
                snprintf(text, sizeof text, "unreadable %s", sd_bus_message_get_member(m) ?: "?");
        if (c->n_signals >= MAX_SIGNALS) {
                c->overflow = true;
                return 0;
        }
        copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        c->signals[c->n_signals++] = copy;
        if (strncmp(text, "JobRemoved ", 11) == 0 && !c->saw_job_removed) {
                c->saw_job_removed = true;
                c->load->n_done++;
        }
        return 0;
}

static int schedule_call(Client *c);

static void record_latency(Load *l, uint64_t usec) {
        if (l->n_latencies == l->max_latencies) {
                size_t n = l->max_latencies ? l->max_latencies * 2 : 4096;
                uint64_t *p = realloc(l->latencies, n * sizeof(uint64_t));

                if (!p)
                        return;
                l->latencies = p;
                l->max_latencies = n;
        }
        l->latencies[l->n_latencies++] = usec;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Client *c = userdata;
        Load *l = c->load;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        uint64_t took = now_usec() - c->call_started;

        c->call = sd_bus_slot_unref(c->call);
        record_latency(l, took);
        if (took > l->slowest_usec) {
                l->slowest_usec = took;
                l->slowest_sent_usec = c->call_started - l->ready_usec;
        }
        if (e) {
                if (l->call_errors++ == 0)
                        snprintf(l->first_error, sizeof l->first_error, "client %u: %s: %s", c->index, e->name, e->message ?: "");
        }
        return schedule_call(c);
}

static int send_call(Client *c) {
        int r;

        c->call_started = now_usec();
        if (c->n_calls++ % 2 == 0)
                r = sd_bus_call_method_async(c->bus, &c->call, DEST, MANAGER_PATH, "org.freedesktop.DBus.Properties", "GetAll",
                                             on_reply, c, "s", MANAGER_IFACE);
        else
                r = sd_bus_call_method_async(c->bus, &c->call, DEST, MANAGER_PATH, MANAGER_IFACE, "GetPlan", on_reply, c, NULL);
        return r;
}

/* The loop's own lateness: a call's latency includes any time this process
 * was not run, which says nothing about the daemon. */
static int on_lag_probe(sd_event_source *s, uint64_t usec, void *userdata) {
        Load *l = userdata;
        uint64_t now = now_usec();

        if (now > usec && now - usec > l->max_lag_usec)
                l->max_lag_usec = now - usec;
        (void) sd_event_source_set_time(s, now + LAG_PERIOD_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Client *c = userdata;

        return send_call(c);
}

static int schedule_call(Client *c) {
        uint64_t period = (uint64_t) c->load->period_ms * 1000ULL;
        /* Jitter (up to half a period) keeps the clients from calling in lockstep. */
        uint64_t delay = period / 2 + (uint64_t) rand() % (period + 1);

        if (c->load->draining)
                return 0;
        if (!c->timer)
                return sd_event_add_time_relative(c->load->event, &c->timer, CLOCK_MONOTONIC, delay, 1000, on_timer, c);
        (void) sd_event_source_set_time_relative(c->timer, delay);
        return sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static int subscribe(sd_bus *bus, sd_bus_message_handler_t cb, void *userdata) {
        /* Everything the daemon broadcasts: the Manager's and the jobs'. */
        return sd_bus_add_match(bus, NULL, "type='signal',sender='" DEST "'", cb, userdata);
}

static int open_client(Load *l, Client *c, unsigned index) {
        int r;

        c->load = l;
        c->index = index;
        c->signals = calloc(MAX_SIGNALS, sizeof(char *));
        if (!c->signals)
                return -ENOMEM;
        r = sd_bus_open_system(&c->bus);
        if (r < 0)
                return r;
        r = subscribe(c->bus, on_signal, c);
        if (r < 0)
                return r;
        /* Not sd-bus's 25 s: on a starved machine this one loop serves 200
         * connections late, and a reply read late must count as a slow reply
         * (with the loop's lag printed), not a missing one. A daemon that
         * never answers still fails: on_timeout ends the run. */
        r = sd_bus_set_method_call_timeout(c->bus, l->call_timeout_usec);
        if (r < 0)
                return r;
        return sd_bus_attach_event(c->bus, l->event, SD_EVENT_PRIORITY_NORMAL);
}

/* The stuck client: subscribed, with calls sent and their replies and all
 * signals left unread on its socket. Its bus is never processed again. */
static int open_stuck(unsigned burst, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        r = subscribe(bus, NULL, NULL);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < burst; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                uint64_t cookie;

                r = sd_bus_message_new_method_call(bus, &m, DEST, MANAGER_PATH,
                                                   i % 2 ? MANAGER_IFACE : "org.freedesktop.DBus.Properties",
                                                   i % 2 ? "GetPlan" : "GetAll");
                if (r >= 0 && i % 2 == 0)
                        r = sd_bus_message_append(m, "s", MANAGER_IFACE);
                if (r >= 0)
                        r = sd_bus_send(bus, m, &cookie); /* a cookie: a reply is expected */
                if (r < 0)
                        return r;
        }
        r = sd_bus_flush(bus);
        if (r < 0)
                return r;
        *ret = bus;
        bus = NULL;
        return 0;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

/* After the drain, the calls still out must be answered too (their
 * latency is what a stall would show): wait for them, up to the run's
 * timeout (on_timeout fails the run). */
static int on_drained(sd_event_source *s, uint64_t usec, void *userdata) {
        Load *l = userdata;

        for (unsigned i = 0; i < l->n_clients; i++)
                if (l->clients[i].call) {
                        (void) sd_event_source_set_time_relative(s, 50000);
                        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
                }
        return sd_event_exit(l->event, 0);
}

static int on_check_done(sd_event_source *s, uint64_t usec, void *userdata) {
        Load *l = userdata;

        if (l->n_done < l->n_clients) {
                (void) sd_event_source_set_time_relative(s, 50000);
                return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        /* Every client saw the end: stop calling, let late signals arrive. */
        l->draining = true;
        for (unsigned i = 0; i < l->n_clients; i++)
                (void) sd_event_source_set_enabled(l->clients[i].timer, SD_EVENT_OFF);
        return sd_event_add_time_relative(l->event, NULL, CLOCK_MONOTONIC, DRAIN_USEC, 1000, on_drained, l);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Load *l = userdata;

        fprintf(stderr, "avm-load-client: timeout: %u of %u clients saw JobRemoved%s\n", l->n_done, l->n_clients,
                l->draining ? "; calls still unanswered" : "");
        return sd_event_exit(l->event, 1);
}

/* Every client's sequence equals the first's, and the first is complete. */
static int check_sequences(Load *l) {
        const Client *ref = &l->clients[0];
        unsigned started = 0, finished = 0, removed = 0;
        int failures = 0;

        for (unsigned i = 0; i < l->n_clients; i++) {
                const Client *c = &l->clients[i];

                if (c->overflow) {
                        fprintf(stderr, "client %u: more than %d signals\n", i, MAX_SIGNALS);
                        failures++;
                        continue;
                }
                if (c->n_signals != ref->n_signals) {
                        fprintf(stderr, "client %u received %zu signals, client 0 %zu\n", i, c->n_signals, ref->n_signals);
                        failures++;
                        continue;
                }
                for (size_t k = 0; k < c->n_signals; k++)
                        if (strcmp(c->signals[k], ref->signals[k]) != 0) {
                                fprintf(stderr, "client %u signal %zu: '%s', client 0: '%s'\n", i, k, c->signals[k],
                                        ref->signals[k]);
                                failures++;
                                break;
                        }
        }
        for (size_t k = 0; k < ref->n_signals; k++) {
                const char *s = ref->signals[k];

                if (strncmp(s, "StepStarted ", 12) == 0) {
                        if (started != finished) {
                                fprintf(stderr, "'%s' before the previous step finished\n", s);
                                failures++;
                        }
                        started++;
                } else if (strncmp(s, "StepFinished ", 13) == 0) {
                        finished++;
                        if (finished != started) {
                                fprintf(stderr, "'%s' without its StepStarted\n", s);
                                failures++;
                        }
                } else if (strncmp(s, "JobRemoved ", 11) == 0)
                        removed++;
                else
                        continue;
                printf("signal %s\n", s);
        }
        if (started == 0 || started != finished || removed != 1) {
                fprintf(stderr, "incomplete: %u StepStarted, %u StepFinished, %u JobRemoved\n", started, finished, removed);
                failures++;
        }
        printf("signals per client: %zu (%u steps), identical in all %u clients: %s\n", ref->n_signals, started, l->n_clients,
               failures ? "no" : "yes");
        return failures ? -EBADMSG : 0;
}

static void load_done(Load *l) {
        for (unsigned i = 0; l->clients && i < l->n_clients; i++) {
                Client *c = &l->clients[i];

                sd_bus_slot_unref(c->call);
                sd_event_source_disable_unref(c->timer);
                sd_bus_flush_close_unref(c->bus);
                for (size_t k = 0; k < c->n_signals; k++)
                        free(c->signals[k]);
                free(c->signals);
        }
        free(l->clients);
        free(l->latencies);
        sd_event_unref(l->event);
}

static void usage(FILE *f) {
        fprintf(f, "Usage: avm-load-client [-n CLIENTS] [-p PERIOD_MS] [-s STUCK_CALLS] [-t TIMEOUT_SEC]\n");
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *stuck = NULL;
        _cleanup_(load_done) Load l = { .n_clients = 200, .period_ms = 100 };
        unsigned timeout_sec = 120, stuck_burst = 100;
        int c, r, fd, unread = 0;

        while ((c = getopt(argc, argv, "hn:p:s:t:")) >= 0) {
                char *end;
                unsigned long v;

                if (c == 'h') {
                        usage(stdout);
                        return 0;
                }
                if (!strchr("npst", c)) {
                        usage(stderr);
                        return 2;
                }
                errno = 0;
                v = strtoul(optarg, &end, 10);
                if (errno != 0 || *end || end == optarg || (v == 0 && c != 's') || v > 100000) {
                        usage(stderr);
                        return 2;
                }
                if (c == 'n')
                        l.n_clients = (unsigned) v;
                else if (c == 's')
                        stuck_burst = (unsigned) v;
                else if (c == 'p')
                        l.period_ms = (unsigned) v;
                else
                        timeout_sec = (unsigned) v;
        }
        if (optind < argc) {
                usage(stderr);
                return 2;
        }

        srand((unsigned) now_usec());
        l.call_timeout_usec = (uint64_t) timeout_sec * 1000000ULL;
        r = sd_event_new(&l.event);
        if (r >= 0)
                r = sd_event_add_time_relative(l.event, NULL, CLOCK_MONOTONIC, LAG_PERIOD_USEC, 1, on_lag_probe, &l);
        if (r < 0)
                goto fail;
        l.clients = calloc(l.n_clients, sizeof(Client));
        if (!l.clients) {
                r = -ENOMEM;
                goto fail;
        }
        for (unsigned i = 0; i < l.n_clients; i++) {
                r = open_client(&l, &l.clients[i], i);
                if (r < 0)
                        goto fail;
        }
        r = open_stuck(stuck_burst, &stuck);
        if (r < 0)
                goto fail;
        for (unsigned i = 0; i < l.n_clients; i++) {
                r = schedule_call(&l.clients[i]);
                if (r < 0)
                        goto fail;
        }
        r = sd_event_add_time_relative(l.event, NULL, CLOCK_MONOTONIC, 50000, 1000, on_check_done, &l);
        if (r >= 0)
                r = sd_event_add_time_relative(l.event, NULL, CLOCK_MONOTONIC, (uint64_t) timeout_sec * 1000000ULL, 1000,
                                               on_timeout, &l);
        if (r < 0)
                goto fail;

        l.ready_usec = now_usec();
        printf("READY\n");
        fflush(stdout);
        r = sd_event_loop(l.event);
        if (r < 0)
                goto fail;
        if (r > 0)
                return 1;

        /* What the stuck client left unread proves it was stuck. */
        fd = sd_bus_get_fd(stuck);
        if (fd < 0 || ioctl(fd, FIONREAD, &unread) < 0)
                unread = -1;
        printf("stuck-unread-bytes %d\n", unread);

        if (l.n_latencies > 0) {
                qsort(l.latencies, l.n_latencies, sizeof(uint64_t), cmp_u64);
                printf("calls %zu: latency median %.1f ms, p99 %.1f ms, max %.1f ms\n", l.n_latencies,
                       (double) l.latencies[l.n_latencies / 2] / 1000.0, (double) l.latencies[(l.n_latencies * 99) / 100] / 1000.0,
                       (double) l.latencies[l.n_latencies - 1] / 1000.0);
                printf("latency-max-usec %" PRIu64 " (that call sent %.1f ms after READY)\n", l.latencies[l.n_latencies - 1],
                       (double) l.slowest_sent_usec / 1000.0);
                printf("latency-p99-usec %" PRIu64 "\n", l.latencies[(l.n_latencies * 99) / 100]);
                printf("loop-lag-max-usec %" PRIu64 "\n", l.max_lag_usec);
        } else
                printf("calls 0\n");

        r = check_sequences(&l);
        if (l.call_errors > 0) {
                fprintf(stderr, "%u calls failed, the first: %s\n", l.call_errors, l.first_error);
                r = -EIO;
        }
        if (l.n_latencies == 0) {
                fprintf(stderr, "no call was answered\n");
                r = -EIO;
        }
        return r < 0 ? 1 : 0;

fail:
        fprintf(stderr, "avm-load-client: %s\n", strerror(-r));
        return 1;
}
