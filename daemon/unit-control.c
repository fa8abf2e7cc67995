/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd units over D-Bus: avm_host_unit_control() and avm_host_unit_is_active().
 *
 * Runs inside a worker process, so every call opens its own system bus
 * connection. start/stop/restart queue a job with mode "replace" and wait for
 * its JobRemoved signal (timeout [Manager] UnitTimeoutSec=, default 90 s).
 * enable/disable change unit files and reload the manager; "daemon-reload"
 * reloads the manager (needed after writing a drop-in).
 *
 * A unit that does not exist is not active, and stopping it succeeds. When
 * there is no systemd on the bus at all (bus tests on a private dbus-daemon),
 * is_active answers 0 and stop succeeds, with a debug message; start fails.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <systemd/sd-bus.h>

#include "host.h"

#ifndef _public_
#        define _public_ __attribute__((visibility("default")))
#endif

#define UNIT_DEFAULT_TIMEOUT_USEC (90ULL * 1000000ULL)
#define UNIT_NAME_MAX 256

static void bus_unrefp(sd_bus **b) {
        if (*b)
                sd_bus_flush_close_unref(*b);
}
static void msg_unrefp(sd_bus_message **m) {
        if (*m)
                sd_bus_message_unref(*m);
}
static void slot_unrefp(sd_bus_slot **s) {
        if (*s)
                sd_bus_slot_unref(*s);
}
static void freep_uc(void *p) {
        free(*(void **) p);
}

typedef struct JobWait {
        const char *job;
        char result[32];
        bool done;
} JobWait;

static uint64_t now_usec_mono(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* UnitTimeoutSec= comes parsed and validated from AvmConfig (configuration.c). */
static uint64_t unit_timeout(AvmHost *host) {
        return host->config ? host->config->unit_timeout_usec : UNIT_DEFAULT_TIMEOUT_USEC;
}

static bool unit_name_valid(const char *unit) {
        size_t n;

        if (!unit || !*unit)
                return false;
        n = strlen(unit);
        if (n > UNIT_NAME_MAX || !strchr(unit, '.'))
                return false;
        for (const char *p = unit; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr(":-_.\\@", *p)))
                        return false;
        return true;
}

/* "kesl" → "kesl.service" */
static int unit_name_normalize(AvmHost *host, const char *unit, char *buf, size_t size) {
        int n;

        if (!unit || !*unit) {
                avm_host_error(host, "Empty unit name");
                return -EINVAL;
        }
        if (strchr(unit, '.'))
                n = snprintf(buf, size, "%s", unit);
        else
                n = snprintf(buf, size, "%s.service", unit);
        if (n < 0 || (size_t) n >= size || !unit_name_valid(buf)) {
                avm_host_error(host, "Invalid unit name '%.64s'", unit);
                return -EINVAL;
        }
        return 0;
}

static bool error_is_no_systemd(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER, SD_BUS_ERROR_UNKNOWN_OBJECT);
}

static bool error_is_no_unit(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, "org.freedesktop.systemd1.NoSuchUnit", "org.freedesktop.systemd1.LoadFailed");
}

static int open_bus(AvmHost *host, sd_bus **ret) {
        int r = sd_bus_open_system(ret);
        if (r < 0)
                avm_host_error(host, "Cannot connect to the system bus: %s", strerror(-r));
        return r;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobWait *w = userdata;
        const char *path = NULL, *unit = NULL, *result = NULL;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (w->job && path && strcmp(path, w->job) == 0) {
                snprintf(w->result, sizeof w->result, "%s", result ? result : "");
                w->done = true;
        }
        return 0;
}

static int unit_job(AvmHost *host, const char *unit, const char *method, const char *verb) {
        __attribute__((cleanup(bus_unrefp))) sd_bus *bus = NULL;
        __attribute__((cleanup(msg_unrefp))) sd_bus_message *reply = NULL;
        __attribute__((cleanup(slot_unrefp))) sd_bus_slot *slot = NULL;
        __attribute__((cleanup(freep_uc))) char *job = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        JobWait w = { 0 };
        const char *path;
        uint64_t deadline;
        bool stopping = strcmp(verb, "stop") == 0;
        int r;

        r = open_bus(host, &bus);
        if (r < 0)
                return stopping ? 0 : r;

        r = sd_bus_match_signal(bus, &slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, &w);
        if (r < 0) {
                avm_host_error(host, "Cannot watch systemd jobs: %s", strerror(-r));
                return r;
        }
        /* Make sure systemd emits JobRemoved to us; failure is not fatal. */
        (void) sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "Subscribe", NULL, NULL, "");

        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                               method, &error, &reply, "ss", unit, "replace");
        if (r < 0) {
                if (stopping && (error_is_no_unit(&error) || error_is_no_systemd(&error))) {
                        avm_host_log(host, LOG_DEBUG, "Unit %s not loaded (%s), nothing to stop", unit, error.name);
                        sd_bus_error_free(&error);
                        return 0;
                }
                avm_host_error(host, "Cannot %s %s: %s", verb, unit, error.message ? error.message : strerror(-r));
                r = error_is_no_unit(&error) ? -ENOENT : r;
                sd_bus_error_free(&error);
                return r;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0) {
                avm_host_error(host, "Malformed reply from systemd to %s", method);
                return r;
        }
        job = strdup(path);
        if (!job)
                return -ENOMEM;
        w.job = job;

        deadline = now_usec_mono() + unit_timeout(host);
        while (!w.done) {
                uint64_t now = now_usec_mono();

                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        avm_host_error(host, "Lost the system bus while waiting for %s of %s: %s", verb, unit, strerror(-r));
                        return r;
                }
                if (r > 0)
                        continue;
                if (now >= deadline) {
                        avm_host_error(host, "Timed out waiting for systemd to %s %s", verb, unit);
                        return -ETIME;
                }
                r = sd_bus_wait(bus, deadline - now);
                if (r < 0 && r != -EINTR) {
                        avm_host_error(host, "Waiting for systemd failed: %s", strerror(-r));
                        return r;
                }
        }
        if (strcmp(w.result, "done") != 0 && !(stopping && strcmp(w.result, "skipped") == 0)) {
                avm_host_error(host, "systemd could not %s %s: job result '%s'", verb, unit, w.result);
                return -EIO;
        }
        avm_host_log(host, LOG_INFO, "%s %s: %s", verb, unit, w.result);
        return 0;
}

static int manager_reload(AvmHost *host, sd_bus *bus) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                               "Reload", &error, NULL, "");
        if (r < 0)
                avm_host_error(host, "systemd daemon-reload failed: %s", error.message ? error.message : strerror(-r));
        sd_bus_error_free(&error);
        return r;
}

static int unit_files(AvmHost *host, const char *unit, bool enable) {
        __attribute__((cleanup(bus_unrefp))) sd_bus *bus = NULL;
        __attribute__((cleanup(msg_unrefp))) sd_bus_message *m = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = open_bus(host, &bus);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", enable ? "EnableUnitFiles" : "DisableUnitFiles");
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(m, (char *[]){ (char *) unit, NULL });
        if (r < 0)
                return r;
        r = enable ? sd_bus_message_append(m, "bb", false, true) : sd_bus_message_append(m, "b", false);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, 0, &error, NULL);
        if (r < 0) {
                if (!enable && (error_is_no_unit(&error) || sd_bus_error_has_name(&error, SD_BUS_ERROR_FILE_NOT_FOUND))) {
                        sd_bus_error_free(&error);
                        return 0;
                }
                avm_host_error(host, "Cannot %s %s: %s", enable ? "enable" : "disable", unit,
                               error.message ? error.message : strerror(-r));
                sd_bus_error_free(&error);
                return r;
        }
        return manager_reload(host, bus);
}

_public_ int avm_host_unit_control(AvmHost *host, const char *unit, const char *verb) {
        char name[UNIT_NAME_MAX + 16];
        int r;

        if (!verb) {
                avm_host_error(host, "No unit verb given");
                return -EINVAL;
        }
        if (strcmp(verb, "daemon-reload") == 0) {
                __attribute__((cleanup(bus_unrefp))) sd_bus *bus = NULL;
                r = open_bus(host, &bus);
                if (r < 0)
                        return r;
                return manager_reload(host, bus);
        }
        r = unit_name_normalize(host, unit, name, sizeof name);
        if (r < 0)
                return r;
        if (strcmp(verb, "start") == 0)
                return unit_job(host, name, "StartUnit", verb);
        if (strcmp(verb, "stop") == 0)
                return unit_job(host, name, "StopUnit", verb);
        if (strcmp(verb, "restart") == 0)
                return unit_job(host, name, "RestartUnit", verb);
        if (strcmp(verb, "enable") == 0)
                return unit_files(host, name, true);
        if (strcmp(verb, "disable") == 0)
                return unit_files(host, name, false);
        avm_host_error(host, "Unknown unit verb '%.32s'", verb);
        return -EINVAL;
}

_public_ int avm_host_unit_is_active(AvmHost *host, const char *unit) {
        __attribute__((cleanup(bus_unrefp))) sd_bus *bus = NULL;
        __attribute__((cleanup(msg_unrefp))) sd_bus_message *reply = NULL;
        __attribute__((cleanup(freep_uc))) char *state = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        char name[UNIT_NAME_MAX + 16];
        const char *path;
        int r;

        r = unit_name_normalize(host, unit, name, sizeof name);
        if (r < 0)
                return r;
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                avm_host_log(host, LOG_DEBUG, "No system bus (%s): unit %s counts as inactive", strerror(-r), name);
                return 0;
        }
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                               "GetUnit", &error, &reply, "s", name);
        if (r < 0) {
                if (error_is_no_unit(&error) || error_is_no_systemd(&error)) {
                        sd_bus_error_free(&error);
                        return 0;
                }
                avm_host_error(host, "Cannot look up unit %s: %s", name, error.message ? error.message : strerror(-r));
                sd_bus_error_free(&error);
                return r;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Unit", "ActiveState",
                                       &error, &state);
        if (r < 0) {
                avm_host_error(host, "Cannot read ActiveState of %s: %s", name, error.message ? error.message : strerror(-r));
                sd_bus_error_free(&error);
                return r;
        }
        return strcmp(state, "active") == 0 || strcmp(state, "reloading") == 0;
}
