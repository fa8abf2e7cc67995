/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "ctl.h"
#include "macro.h"
#include "monitor.h"
#include "time-util.h"

static void monitor_prefix(char *buf, size_t n) {
        struct timespec ts;
        struct tm tm;
        char hms[32] = "";

        clock_gettime(CLOCK_REALTIME, &ts);
        if (localtime_r(&ts.tv_sec, &tm))
                strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
        snprintf(buf, n, "%s.%03ld", hms, ts.tv_nsec / 1000000L);
}

/* {"signal": signal}, the start of a --json monitor line; NULL without memory. */
static json_object *signal_new(const char *signal) {
        json_object *o = json_object_new_object();

        if (o)
                json_object_object_add(o, "signal", json_object_new_string(signal));
        return o;
}

/* --json monitor: one compact JSON object per line. Takes o, which may be
 * NULL when signal_new() failed. */
static int signal_emit(json_object *o) {
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "timestamp", json_object_new_uint64(now_usec(CLOCK_REALTIME)));
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        fflush(stdout);
        json_object_put(o);
        return 0;
}

/* A monitor JSON line for a job signal with two string arguments. */
static int monitor_job_signal_json(const char *signal, uint64_t id, const char *k1, const char *v1, const char *k2, const char *v2) {
        json_object *o = signal_new(signal);

        if (o) {
                json_object_object_add(o, "job", json_object_new_uint64(id));
                json_object_object_add(o, k1, json_object_new_string(v1));
                json_object_object_add(o, k2, json_object_new_string(v2));
        }
        return signal_emit(o);
}

_printf_(1, 2) static void monitor_line(const char *fmt, ...) {
        char prefix[64];
        va_list ap;

        monitor_prefix(prefix, sizeof(prefix));
        printf("%s ", prefix);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        fflush(stdout);
}

static void monitor_print_value(json_object *v, char *buf, size_t n) {
        if (json_object_is_type(v, json_type_string))
                snprintf(buf, n, "\"%s\"", json_object_get_string(v));
        else
                snprintf(buf, n, "%s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

int monitor_step_started(uint64_t id, const char *step, uint32_t idx, uint32_t count) {
        json_object *o;

        if (!arg_json) {
                monitor_line("job %" PRIu64 ": step %s started (%" PRIu32 "/%" PRIu32 ")", id, step, idx, count);
                return 0;
        }
        o = signal_new("StepStarted");
        if (o) {
                json_object_object_add(o, "job", json_object_new_uint64(id));
                json_object_object_add(o, "step", json_object_new_string(step));
                json_object_object_add(o, "index", json_object_new_int64(idx));
                json_object_object_add(o, "count", json_object_new_int64(count));
        }
        return signal_emit(o);
}

int monitor_step_finished(uint64_t id, const char *step, const char *result) {
        if (arg_json)
                return monitor_job_signal_json("StepFinished", id, "step", step, "result", result);
        monitor_line("job %" PRIu64 ": step %s %s", id, step, result);
        return 0;
}

int monitor_job_removed(uint64_t id, const char *path, const char *result) {
        if (arg_json)
                return monitor_job_signal_json("JobRemoved", id, "path", path, "result", result);
        monitor_line("job %" PRIu64 " finished: %s (%s)", id, result, path);
        return 0;
}

/* "Key=value ... Other (invalidated)" on one line, cut at a whole item. */
static void monitor_properties_line(json_object *changed, json_object *invalidated) {
        char line[4096] = "", val[2048];
        size_t l = 0;
        int r;

        json_object_object_foreach(changed, key, value) {
                monitor_print_value(value, val, sizeof(val));
                r = snprintf(line + l, sizeof(line) - l, "%s%s=%s", l > 0 ? " " : "", key, val);
                if (r < 0 || (size_t) r >= sizeof(line) - l)
                        break;
                l += (size_t) r;
        }
        for (size_t i = 0; i < json_object_array_length(invalidated); i++) {
                r = snprintf(line + l, sizeof(line) - l, "%s%s (invalidated)", l > 0 ? " " : "",
                             json_object_get_string(json_object_array_get_idx(invalidated, i)));
                if (r < 0 || (size_t) r >= sizeof(line) - l)
                        break;
                l += (size_t) r;
        }
        if (l > 0)
                monitor_line("%s", line);
}

int monitor_properties_changed(json_object *changed, json_object *invalidated) {
        json_object *o;

        if (!arg_json) {
                monitor_properties_line(changed, invalidated);
                return 0;
        }
        o = signal_new("PropertiesChanged");
        if (o) {
                json_object_object_add(o, "changed", json_object_get(changed));
                json_object_object_add(o, "invalidated", json_object_get(invalidated));
        }
        return signal_emit(o);
}

int monitor_name_owner_changed(const char *old_owner, const char *new_owner) {
        json_object *o;

        if (!arg_json) {
                if (*new_owner)
                        monitor_line("avmigrated connected (%s)", new_owner);
                else
                        monitor_line("avmigrated disconnected");
                return 0;
        }
        o = signal_new("NameOwnerChanged");
        if (o) {
                json_object_object_add(o, "old_owner", json_object_new_string(old_owner));
                json_object_object_add(o, "new_owner", json_object_new_string(new_owner));
        }
        return signal_emit(o);
}
