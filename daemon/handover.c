/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <time.h>

#include "gap.h"
#include "handover.h"
#include "log.h"
#include "util.h"
#include "worker-proto.h"

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

static int prepare(OpContext *c, Product *to) {
        int r;

        if (!to->plugin->prepare_realtime)
                return 0;
        op_event(c, "prepare-realtime", to->plugin->id, NULL);
        to->host.progress_fd = c->fd;
        to->host.error[0] = 0;
        r = to->plugin->prepare_realtime(&to->host);
        if (r < 0)
                return op_fail(c, r, "%s: preparing real-time protection failed: %s", to->plugin->id,
                               to->host.error[0] ? to->host.error : strerror(-r));
        return 0;
}

/* Something must protect before the step goes on: the old product if it is
 * there, else the replacement. Closes the window g when one is verified;
 * leaves it open (for rollback or the next start) when none is. */
static int restore_any(OpContext *c, Product *from, Product *to, const Gap *g) {
        int r = -ENOENT;

        if (is_installed(c, from)) {
                r = restore_old(c, from);
                if (r >= 0) {
                        gap_end(c, g, NULL);
                        return 0;
                }
        }
        if (is_installed(c, to)) {
                op_event(c, "restore-new", to->plugin->id, "the old product cannot protect");
                r = op_set_realtime(c, to, true);
                if (r >= 0)
                        r = op_verify_protecting(c, to);
                if (r >= 0) {
                        gap_end(c, g, NULL);
                        return 1;
                }
        }
        return r;
}

int handover_run(OpContext *c, Product *from, Product *to, bool overlap) {
        bool from_on, to_on, from_installed;
        uint64_t t0, t1, t2, t3;
        GapSplit split = { 0 };
        Gap g;
        int r;

        from_installed = is_installed(c, from);
        from_on = from_installed && is_protecting(c, from);
        to_on = is_protecting(c, to);

        /* check: already handed over (a resumed job) */
        if (to_on && !from_on && op_verify_protecting(c, to) >= 0) {
                send_result(c, overlap ? "overlap" : "stop-first", 0, to->plugin->id, false);
                return 0;
        }
        /* Resumed with nothing protecting (the daemon's start-up restores
         * first; this is the net below it): a window of its own. */
        if (!from_on && !to_on && from_installed) {
                r = gap_begin(c, "resumed with nothing protecting", &g);
                if (r < 0)
                        return r;
                r = restore_any(c, from, to, &g);
                if (r < 0)
                        return r;
                if (r == 1) { /* the replacement protects now: the handover is done */
                        send_result(c, "stop-first", 0, to->plugin->id, false);
                        return 0;
                }
        }

        /* Everything the replacement needs happens while the old one protects. */
        r = prepare(c, to);
        if (r < 0)
                return r;

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
        r = gap_begin(c, "handover", &g);
        if (r < 0)
                return r; /* nothing stopped */
        t0 = now_usec(CLOCK_MONOTONIC);
        r = op_set_realtime(c, from, false);
        t1 = now_usec(CLOCK_MONOTONIC);
        split.old_stopping_usec = t1 - t0;
        if (r < 0) {
                /* The old product refused to stop: it must be shown protecting. */
                if (restore_any(c, from, to, &g) < 0)
                        log_error("Neither product protects after %s refused to stop.", from->plugin->id);
                return r;
        }
        r = op_set_realtime(c, to, true);
        t2 = now_usec(CLOCK_MONOTONIC);
        split.new_starting_usec = t2 - t1;
        if (r >= 0)
                r = op_verify_protecting(c, to);
        t3 = now_usec(CLOCK_MONOTONIC);
        split.verification_usec = t3 - t2;
        if (r < 0) {
                int k;

                (void) op_set_realtime(c, to, false);
                k = restore_old(c, from);
                if (k >= 0)
                        gap_end(c, &g, &split);
                else
                        log_error("Could not restore %s after a failed handover; the rollback tries again.", from->plugin->id);
                return r;
        }
        gap_end(c, &g, &split);
        op_event(c, "handover-end", NULL, NULL);
        send_result(c, "stop-first", t3 - t0, to->plugin->id, false);
        return 0;
}

int rollback_run(OpContext *c, Product *from, Product *to, bool overlap, bool uninstall_to) {
        bool from_installed = is_installed(c, from);
        bool to_installed = is_installed(c, to);
        bool to_on = to_installed && is_protecting(c, to);
        bool from_on = from_installed && is_protecting(c, from);
        bool window = false;
        Gap g;
        int r = -ENOENT;

        op_event(c, "rollback-begin", NULL, NULL);
        if (from_installed) {
                if (from_on && op_verify_protecting(c, from) >= 0)
                        r = 0; /* never stopped (a failure before the handover) */
                else {
                        if (to_on && !overlap) {
                                r = gap_begin(c, "rollback", &g);
                                if (r < 0)
                                        return r;
                                window = true;
                                (void) op_set_realtime(c, to, false);
                        } else if (!to_on) {
                                /* Nothing protects right now (a failed handover, or a crash in
                                 * it): a window until the old product is verified. */
                                r = gap_begin(c, "rollback: nothing protecting", &g);
                                if (r < 0)
                                        return r;
                                window = true;
                        }
                        r = restore_old(c, from);
                        if (r >= 0 && window)
                                gap_end(c, &g, NULL);
                }
        }

        if (r >= 0) {
                if (to_installed) {
                        if (!window)
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
                        if (window)
                                gap_end(c, &g, NULL);
                        send_result(c, NULL, 0, to->plugin->id, false);
                        return 0;
                }
        }
        op_event(c, "rollback-end", NULL, "UNPROTECTED");
        send_result(c, NULL, 0, NULL, false);
        return op_fail(c, -EHOSTDOWN, "rollback could not make any product protect this machine");
}

static int try_protect(OpContext *c, Product *p) {
        int r;

        if (!is_installed(c, p))
                return -ENOENT;
        if (is_protecting(c, p) && op_verify_protecting(c, p) >= 0)
                return 0;
        r = op_set_realtime(c, p, true);
        if (r >= 0)
                r = op_verify_protecting(c, p);
        return r;
}

int restore_protection(OpContext *c, Product *from, Product *to, bool prefer_new) {
        Product *first = prefer_new ? to : from, *second = prefer_new ? from : to;
        Gap now = { 0 };

        op_event(c, "restore-begin", NULL, "start-up inside a job: making sure something protects");
        if (gap_boot_id(now.boot_id) < 0)
                snprintf(now.boot_id, sizeof(now.boot_id), "unknown");
        now.start_mono = now_usec(CLOCK_MONOTONIC);
        /* Whatever already protects and verifies ends any open window at once. */
        if ((is_protecting(c, from) && op_verify_protecting(c, from) >= 0) ||
            (is_protecting(c, to) && op_verify_protecting(c, to) >= 0)) {
                gap_end(c, &now, NULL);
                return 0;
        }
        /* Nothing protects (after a reboot the products' services may not be
         * up yet): that is a window too, from now on at the latest. */
        if (gap_begin(c, "start-up: nothing protecting", &now) < 0)
                return -EIO;
        if (try_protect(c, first) >= 0) {
                gap_end(c, &now, NULL);
                return 0;
        }
        /* Two blocking scanners must not run at once: the first one off again. */
        (void) op_set_realtime(c, first, false);
        if (try_protect(c, second) >= 0) {
                gap_end(c, &now, NULL);
                return 0;
        }
        op_event(c, "restore-end", NULL, "UNPROTECTED");
        return op_fail(c, -EHOSTDOWN, "no product could be made to protect this machine");
}
