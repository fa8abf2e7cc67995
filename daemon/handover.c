/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <time.h>

#include "handover.h"
#include "log.h"
#include "util.h"
#include "worker.h"

static void send_result(OpContext *c, const char *order, uint64_t gap, const char *protected_by, bool restored) {
        json_object *o = json_object_new_object();

        if (order)
                json_object_object_add(o, "order", json_object_new_string(order));
        json_object_object_add(o, "gap_usec", json_object_new_int64((int64_t) gap));
        if (protected_by)
                json_object_object_add(o, "protected_by", json_object_new_string(protected_by));
        json_object_object_add(o, "restored", json_object_new_boolean(restored));
        worker_send_json(c->fd, "DATA", o);
        json_object_put(o);
}

static void gap_event(OpContext *c, const char *event, uint64_t start, uint64_t end) {
        char buf[96];

        snprintf(buf, sizeof(buf), "%" PRIu64 ":%" PRIu64, start, end);
        op_event(c, event, NULL, buf);
}

static bool is_protecting(OpContext *c, Product *p) {
        AvmStatus st;
        AvmDetection d;

        if (op_detect(c, p, &d) < 0 || !d.installed)
                return false;
        return op_status(c, p, &st) >= 0 && st.realtime;
}

static bool is_installed(OpContext *c, Product *p) {
        AvmDetection d;
        return op_detect(c, p, &d) >= 0 && d.installed;
}

/* Old product back on and verified; the caller has already stopped the new one
 * if the pair must not overlap. */
static int restore_old(OpContext *c, Product *from) {
        int r;

        op_event(c, "restore-old", from->plugin->id, NULL);
        r = op_set_realtime(c, from, true);
        if (r < 0)
                return r;
        return op_verify_protecting(c, from);
}

int handover_run(OpContext *c, Product *from, Product *to, bool overlap) {
        bool from_on, to_on, from_installed;
        uint64_t t0, t1;
        int r;

        from_installed = is_installed(c, from);
        from_on = from_installed && is_protecting(c, from);
        to_on = is_protecting(c, to);

        /* check: already handed over (a resumed job) */
        if (to_on && !from_on && op_verify_protecting(c, to) >= 0) {
                send_result(c, overlap ? "overlap" : "stop-first", 0, to->plugin->id, false);
                return 0;
        }
        /* Resumed after a crash inside the gap: first make sure something protects. */
        if (!from_on && !to_on && from_installed) {
                t0 = now_usec(CLOCK_MONOTONIC);
                r = restore_old(c, from);
                t1 = now_usec(CLOCK_MONOTONIC);
                gap_event(c, "gap-closed-on-resume", t0, t1);
                if (r < 0)
                        return r;
        }

        if (overlap) {
                op_event(c, "handover-begin", NULL, "overlap");
                r = op_set_realtime(c, to, true);
                if (r >= 0)
                        r = op_verify_protecting(c, to);
                if (r < 0) {
                        (void) op_set_realtime(c, to, false);
                        return r; /* old product never stopped */
                }
                r = op_set_realtime(c, from, false);
                if (r < 0) {
                        (void) op_set_realtime(c, to, false);
                        return r;
                }
                op_event(c, "handover-end", NULL, "gap 0");
                send_result(c, "overlap", 0, to->plugin->id, false);
                return 0;
        }

        op_event(c, "handover-begin", NULL, "stop-first");
        t0 = now_usec(CLOCK_MONOTONIC);
        gap_event(c, "gap-start", t0, 0);
        r = op_set_realtime(c, from, false);
        if (r < 0) {
                /* The old product refused to stop: it is still protecting. */
                gap_event(c, "gap-end", t0, now_usec(CLOCK_MONOTONIC));
                return r;
        }
        r = op_set_realtime(c, to, true);
        if (r >= 0)
                r = op_verify_protecting(c, to);
        if (r < 0) {
                int k;

                (void) op_set_realtime(c, to, false);
                k = restore_old(c, from);
                t1 = now_usec(CLOCK_MONOTONIC);
                gap_event(c, "gap-end", t0, t1);
                if (k < 0)
                        log_error("Could not restore %s after a failed handover.", from->plugin->id);
                return r;
        }
        t1 = now_usec(CLOCK_MONOTONIC);
        gap_event(c, "gap-end", t0, t1);
        op_event(c, "handover-end", NULL, NULL);
        send_result(c, "stop-first", t1 - t0, to->plugin->id, false);
        return 0;
}

int rollback_run(OpContext *c, Product *from, Product *to, bool overlap, bool uninstall_to) {
        bool from_installed = is_installed(c, from);
        bool to_installed = is_installed(c, to);
        bool to_on = to_installed && is_protecting(c, to);
        uint64_t t0 = 0;
        int r = -ENOENT;

        op_event(c, "rollback-begin", NULL, NULL);
        if (from_installed) {
                if (to_on && !overlap) {
                        t0 = now_usec(CLOCK_MONOTONIC);
                        gap_event(c, "gap-start", t0, 0);
                        (void) op_set_realtime(c, to, false);
                }
                r = restore_old(c, from);
                if (t0 > 0)
                        gap_event(c, "gap-end", t0, now_usec(CLOCK_MONOTONIC));
        }

        if (r >= 0) {
                if (to_installed) {
                        if (!t0)
                                (void) op_set_realtime(c, to, false);
                        if (uninstall_to && op_uninstall(c, to) < 0)
                                log_warning("Replacement %s could not be removed during rollback; it stays passive.",
                                            to->plugin->id);
                }
                op_event(c, "rollback-end", from->plugin->id, "restored");
                send_result(c, NULL, 0, from->plugin->id, true);
                return 0;
        }

        /* The old product cannot protect: never leave the desktop bare, keep
         * the replacement and make it protect. */
        if (to_installed) {
                op_event(c, "rollback-fallback", to->plugin->id, "old product cannot protect; keeping the replacement");
                if (op_set_realtime(c, to, true) >= 0 && op_verify_protecting(c, to) >= 0) {
                        send_result(c, NULL, 0, to->plugin->id, false);
                        return 0;
                }
        }
        op_event(c, "rollback-end", NULL, "UNPROTECTED");
        send_result(c, NULL, 0, NULL, false);
        return op_fail(c, -EHOSTDOWN, "rollback could not make any product protect this machine");
}
