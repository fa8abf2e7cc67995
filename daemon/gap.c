/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <time.h>

#include "gap.h"
#include "log.h"
#include "paths.h"
#include "util.h"

#define GAP_FILE_MAX 4096

int gap_boot_id(char buf[static 33]) {
        _cleanup_free_ char *text = NULL;
        size_t n = 0, o = 0;
        int r;

        r = read_file_bounded("/proc/sys/kernel/random/boot_id", 64, &text, NULL);
        if (r < 0)
                return r;
        for (; text[n] && o < 32; n++)
                if (text[n] != '-' && text[n] != '\n')
                        buf[o++] = text[n];
        buf[o] = '\0';
        return o == 32 ? 0 : -EBADMSG;
}

int gap_file_read(json_object **ret) {
        char path[PATH_MAX];
        _cleanup_free_ char *data = NULL;
        json_object *o, *v;
        int r;

        *ret = NULL;
        r = state_path(path, sizeof(path), GAP_FILE);
        if (r < 0)
                return r;
        r = read_file_bounded(path, GAP_FILE_MAX, &data, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        o = json_tokener_parse(data);
        if (!o || !json_object_object_get_ex(o, "start_mono", &v) || !json_object_is_type(v, json_type_int) ||
            !json_object_object_get_ex(o, "start_realtime", &v) || !json_object_is_type(v, json_type_int) ||
            !json_object_object_get_ex(o, "boot_id", &v) || !json_object_is_type(v, json_type_string)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 1;
}

void gap_file_remove(void) {
        char path[PATH_MAX];

        if (state_path(path, sizeof(path), GAP_FILE) >= 0 && unlink(path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Cannot remove %s: %m", path);
}

static int64_t get_i64(json_object *o, const char *k) {
        json_object *v;
        return o && json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static const char *get_s(json_object *o, const char *k) {
        json_object *v;
        return o && json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

void gap_window_open(json_object *gaps, json_object *event, const char *step) {
        int64_t start = get_i64(event, "start_mono");
        size_t n = json_object_array_length(gaps);
        json_object *g;

        for (size_t i = 0; i < n; i++)
                if (get_i64(json_object_array_get_idx(gaps, i), "start_mono") == start)
                        return;
        g = json_object_new_object();
        json_object_object_add(g, "step", json_object_new_string(get_s(event, "step") ? get_s(event, "step") : step));
        if (get_s(event, "reason"))
                json_object_object_add(g, "reason", json_object_new_string(get_s(event, "reason")));
        json_object_object_add(g, "start_mono", json_object_new_int64(start));
        json_object_object_add(g, "start_boottime", json_object_new_int64(get_i64(event, "start_boottime")));
        json_object_object_add(g, "start_realtime", json_object_new_int64(get_i64(event, "start_realtime")));
        json_object_object_add(g, "boot_id", json_object_new_string(get_s(event, "boot_id") ? get_s(event, "boot_id") : ""));
        json_object_object_add(g, "end_mono", json_object_new_int64(0));
        json_object_object_add(g, "usec", json_object_new_int64(0));
        json_object_array_add(gaps, g);
}

/* A window closed in another boot than it opened: CLOCK_MONOTONIC restarted,
 * so the length comes from CLOCK_REALTIME (the power-off time counts). */
static void close_one(json_object *g, json_object *event) {
        char boot[33] = "";
        const char *gb = get_s(g, "boot_id");
        int64_t end_mono = get_i64(event, "end_mono"), end_real = get_i64(event, "end_realtime"), usec;

        (void) gap_boot_id(boot);
        if (gb && streq(gb, boot))
                usec = end_mono - get_i64(g, "start_mono");
        else {
                usec = end_real - get_i64(g, "start_realtime");
                json_object_object_add(g, "across_reboot", json_object_new_boolean(true));
        }
        json_object_object_add(g, "end_mono", json_object_new_int64(end_mono));
        json_object_object_add(g, "end_realtime", json_object_new_int64(end_real));
        json_object_object_add(g, "usec", json_object_new_int64(usec > 0 ? usec : 1));
        if (get_i64(g, "start_mono") == get_i64(event, "start_mono") && json_object_object_get_ex(event, "split", NULL))
                json_object_object_add(g, "split", json_object_get(json_object_object_get(event, "split")));
        if (get_s(event, "closed_by"))
                json_object_object_add(g, "closed_by", json_object_new_string(get_s(event, "closed_by")));
}

bool gap_window_close(json_object *gaps, json_object *event, bool close_all) {
        int64_t start = get_i64(event, "start_mono");
        size_t n = json_object_array_length(gaps);
        bool closed = false;

        for (size_t i = 0; i < n; i++) {
                json_object *g = json_object_array_get_idx(gaps, i);

                if (get_i64(g, "end_mono") != 0 || (!close_all && get_i64(g, "start_mono") != start))
                        continue;
                close_one(g, event);
                closed = true;
        }
        return closed;
}

static int cmp_interval(const void *a, const void *b) {
        const int64_t *x = a, *y = b;
        return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* The length of the union: windows of one boot may overlap (a failed
 * handover's window and the rollback's), and overlapping time is counted once. */
uint64_t gap_windows_total(json_object *gaps) {
        size_t n = json_object_array_length(gaps), k = 0;
        int64_t now = (int64_t) now_usec(CLOCK_MONOTONIC), now_real = (int64_t) now_usec(CLOCK_REALTIME);
        _cleanup_free_ int64_t *iv = NULL;
        char boot[33] = "";
        uint64_t total = 0;
        int64_t cs = 0, ce = -1;

        (void) gap_boot_id(boot);
        iv = calloc(n ? n : 1, 2 * sizeof(int64_t));
        if (!iv)
                return 0;
        for (size_t i = 0; i < n; i++) {
                json_object *g = json_object_array_get_idx(gaps, i);
                int64_t s = get_i64(g, "start_mono"), e = get_i64(g, "end_mono");
                bool same_boot = streq_ptr(get_s(g, "boot_id"), boot) && !json_object_object_get_ex(g, "across_reboot", NULL);

                if (!same_boot) { /* another boot: its own length, measured on CLOCK_REALTIME */
                        int64_t u = e == 0 ? now_real - get_i64(g, "start_realtime") : get_i64(g, "usec");
                        total += u > 0 ? (uint64_t) u : 0;
                        continue;
                }
                iv[2 * k] = s;
                iv[2 * k + 1] = e == 0 ? now : e;
                k++;
        }
        qsort(iv, k, 2 * sizeof(int64_t), cmp_interval);
        for (size_t i = 0; i < k; i++) {
                if (iv[2 * i] > ce) {
                        if (ce > cs)
                                total += (uint64_t) (ce - cs);
                        cs = iv[2 * i];
                        ce = iv[2 * i + 1];
                } else if (iv[2 * i + 1] > ce)
                        ce = iv[2 * i + 1];
        }
        if (ce > cs)
                total += (uint64_t) (ce - cs);
        return total;
}

bool gap_windows_any_open(json_object *gaps) {
        size_t n = json_object_array_length(gaps);

        for (size_t i = 0; i < n; i++)
                if (get_i64(json_object_array_get_idx(gaps, i), "end_mono") == 0)
                        return true;
        return false;
}
