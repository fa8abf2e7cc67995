/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "report.h"
#include "state.h"
#include "util.h"

static int64_t get_i64(json_object *o, const char *k) {
        json_object *v;
        return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static bool get_b(json_object *o, const char *k) {
        json_object *v;
        return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

bool report_sample_in_gap(const Job *j, json_object *sample) {
        int64_t s = get_i64(sample, "mono_start"), e = get_i64(sample, "mono_end");
        size_t n = json_object_array_length(j->gaps);

        for (size_t i = 0; i < n; i++) {
                json_object *g = json_object_array_get_idx(j->gaps, i);
                int64_t gs = get_i64(g, "start_mono"), ge = get_i64(g, "end_mono");

                if (ge == 0)
                        ge = INT64_MAX; /* still open */
                if (s <= ge && e >= gs)
                        return true;
        }
        return false;
}

json_object *report_build(const Job *j) {
        json_object *o = job_to_json(j), *summary = json_object_new_object();
        size_t n = json_object_array_length(j->samples);
        int64_t prot = 0, in_gap = 0, outside = 0, outside_usec = 0, prev_end = 0;

        for (size_t i = 0; i < n; i++) {
                json_object *s = json_object_array_get_idx(j->samples, i);

                if (get_b(s, "protected"))
                        prot++;
                else if (report_sample_in_gap(j, s))
                        in_gap++;
                else {
                        /* At least from the previous sample to this one: the state
                         * between two samples is not known, so it counts. */
                        int64_t from = prev_end > 0 ? prev_end : get_i64(s, "mono_start");
                        outside++;
                        outside_usec += get_i64(s, "mono_end") - from;
                }
                prev_end = get_i64(s, "mono_end");
        }
        json_object_object_add(summary, "samples", json_object_new_int64((int64_t) n));
        json_object_object_add(summary, "protected_samples", json_object_new_int64(prot));
        json_object_object_add(summary, "unprotected_in_gap", json_object_new_int64(in_gap));
        json_object_object_add(summary, "unprotected_outside_gap", json_object_new_int64(outside));
        json_object_object_add(summary, "unprotected_outside_gap_usec", json_object_new_int64(outside_usec));
        json_object_object_add(summary, "gap_usec", json_object_new_int64((int64_t) j->gap_usec));
        json_object_object_add(summary, "gap_windows", json_object_new_int64((int64_t) json_object_array_length(j->gaps)));
        json_object_object_add(summary, "never_unprotected_outside_gap", json_object_new_boolean(outside == 0));
        json_object_object_add(o, "summary", summary);
        return o;
}
