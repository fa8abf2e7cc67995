/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The worker side of gap windows (gap.h): gap.json first, durably, then the
 * gap-start event; gap-end when protection is verified again. */
#include <limits.h>

#include "gap.h"
#include "ops.h"
#include "paths.h"
#include "util.h"
#include "worker-proto.h"

static json_object *gap_json(const Gap *g, const char *reason, const char *step) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "start_mono", json_object_new_int64((int64_t) g->start_mono));
        json_object_object_add(o, "start_boottime", json_object_new_int64((int64_t) g->start_boottime));
        json_object_object_add(o, "start_realtime", json_object_new_int64((int64_t) g->start_realtime));
        json_object_object_add(o, "boot_id", json_object_new_string(g->boot_id));
        if (reason)
                json_object_object_add(o, "reason", json_object_new_string(reason));
        if (step)
                json_object_object_add(o, "step", json_object_new_string(step));
        return o;
}

int gap_begin(OpContext *c, const char *reason, Gap *ret) {
        char path[PATH_MAX];
        json_object *o, *ev;
        const char *s;
        int r;

        *ret = (Gap){ 0 };
        if (gap_boot_id(ret->boot_id) < 0)
                snprintf(ret->boot_id, sizeof(ret->boot_id), "unknown");
        ret->start_realtime = now_usec(CLOCK_REALTIME);
        ret->start_boottime = now_usec(CLOCK_BOOTTIME);
        ret->start_mono = now_usec(CLOCK_MONOTONIC);

        o = gap_json(ret, reason, c->step);
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        r = state_path(path, sizeof(path), GAP_FILE);
        if (r >= 0)
                r = write_file_atomic(path, s, strlen(s), 0600);
        if (r < 0) {
                json_object_put(o);
                return op_fail(c, r, "cannot record the protection gap durably in %s (%s); not stopping any product", path,
                               strerror(-r));
        }
        ev = o; /* the same record, as an event */
        json_object_object_add(ev, "event", json_object_new_string("gap-start"));
        json_object_object_add(ev, "t", json_object_new_int64((int64_t) ret->start_realtime));
        json_object_object_add(ev, "mono", json_object_new_int64((int64_t) ret->start_mono));
        worker_send_json(c->fd, "EVENT", ev);
        json_object_put(ev);
        return 0;
}

void gap_end(OpContext *c, const Gap *g, const GapSplit *split) {
        uint64_t end_mono = now_usec(CLOCK_MONOTONIC), total = end_mono - g->start_mono;
        json_object *o = gap_json(g, NULL, c->step);

        json_object_object_add(o, "event", json_object_new_string("gap-end"));
        json_object_object_add(o, "t", json_object_new_int64((int64_t) now_usec(CLOCK_REALTIME)));
        json_object_object_add(o, "mono", json_object_new_int64((int64_t) end_mono));
        json_object_object_add(o, "end_mono", json_object_new_int64((int64_t) end_mono));
        json_object_object_add(o, "end_realtime", json_object_new_int64((int64_t) now_usec(CLOCK_REALTIME)));
        if (split) {
                json_object *s = json_object_new_object();
                uint64_t vendor = split->old_stopping_usec + split->new_starting_usec + split->verification_usec;

                json_object_object_add(s, "old_stopping_usec", json_object_new_int64((int64_t) split->old_stopping_usec));
                json_object_object_add(s, "new_starting_usec", json_object_new_int64((int64_t) split->new_starting_usec));
                json_object_object_add(s, "verification_usec", json_object_new_int64((int64_t) split->verification_usec));
                json_object_object_add(s, "daemon_usec", json_object_new_int64((int64_t) (total > vendor ? total - vendor : 0)));
                json_object_object_add(o, "split", s);
        }
        worker_send_json(c->fd, "EVENT", o);
        json_object_put(o);
}
