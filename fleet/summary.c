/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"
#include "util.h"

static const char *const state_names[_MACHINE_STATE_MAX] = {
        [MACHINE_UNKNOWN] = "unknown",         [MACHINE_PENDING] = "pending",     [MACHINE_SCHEDULED] = "scheduled",
        [MACHINE_RUNNING] = "running",         [MACHINE_COMPLETED] = "completed", [MACHINE_FAILED] = "failed",
        [MACHINE_ROLLED_BACK] = "rolled-back", [MACHINE_CANCELLED] = "cancelled", [MACHINE_NOT_STARTED] = "not-started",
};

MachineState machine_state_from_string(const char *s) {
        for (int i = 0; i < _MACHINE_STATE_MAX; i++)
                if (streq_ptr(state_names[i], s))
                        return (MachineState) i;
        return MACHINE_UNKNOWN;
}

const char *machine_state_to_string(MachineState s) {
        return s < _MACHINE_STATE_MAX ? state_names[s] : "unknown";
}

void summary_done(Summary *s) {
        s->machines = mfree(s->machines);
        s->n_buckets = s->n_machines = 0;
}

static size_t bucket_of(sd_id128_t id, size_t n) {
        uint64_t h = id.qwords[0] ^ (id.qwords[1] * UINT64_C(0x9e3779b97f4a7c15));

        return (size_t) (h & (n - 1));
}

static int grow(Summary *s) {
        size_t n = s->n_buckets ? s->n_buckets * 2 : 1024;
        Machine *old = s->machines, *t = calloc(n, sizeof(Machine));

        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_buckets; i++) {
                size_t b;

                if (!old[i].used)
                        continue;
                for (b = bucket_of(old[i].id, n); t[b].used; b = (b + 1) & (n - 1))
                        ;
                t[b] = old[i];
        }
        free(old);
        s->machines = t;
        s->n_buckets = n;
        return 0;
}

Machine *summary_machine(Summary *s, sd_id128_t id) {
        size_t b;

        /* Load factor below 1/2 keeps probe sequences short. */
        if ((s->n_machines + 1) * 2 > s->n_buckets && grow(s) < 0)
                return NULL;
        for (b = bucket_of(id, s->n_buckets); s->machines[b].used; b = (b + 1) & (s->n_buckets - 1))
                if (sd_id128_equal(s->machines[b].id, id))
                        return &s->machines[b];
        s->machines[b] = (Machine){ .id = id, .used = true };
        s->n_machines++;
        return &s->machines[b];
}

static unsigned cause_index(Summary *s, const char *cause) {
        char clean[SUMMARY_CAUSE_LEN + 1];
        size_t n = 0;

        /* Causes come from desktops: keep them short and printable. */
        for (; n < SUMMARY_CAUSE_LEN && cause[n]; n++)
                clean[n] = strchr("abcdefghijklmnopqrstuvwxyz0123456789._-", cause[n]) ? cause[n] : '_';
        clean[n] = 0;
        for (unsigned i = 0; i < s->n_causes; i++)
                if (streq(s->causes[i], clean))
                        return i;
        if (s->n_causes == SUMMARY_CAUSES_MAX - 1) {
                snprintf(s->causes[s->n_causes++], sizeof(s->causes[0]), "other");
                return s->n_causes - 1;
        }
        if (s->n_causes >= SUMMARY_CAUSES_MAX)
                return SUMMARY_CAUSES_MAX - 1;
        memcpy(s->causes[s->n_causes], clean, n + 1);
        return s->n_causes++;
}

void summary_add_blocker(Summary *s, Machine *m, const char *cause) {
        if (!isempty(cause))
                m->blockers |= UINT32_C(1) << cause_index(s, cause);
}

typedef struct Totals {
        uint64_t states[_MACHINE_STATE_MAX];
        uint64_t waves[101];
        uint64_t causes[SUMMARY_CAUSES_MAX];
        uint64_t *gaps;
        size_t n_gaps, n_unprotected, n_failed;
} Totals;

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

/* Nearest-rank quantile of a sorted array. */
static uint64_t quantile(const uint64_t *v, size_t n, unsigned percent) {
        size_t rank = (n * percent + 99) / 100;

        return n == 0 ? 0 : v[rank ? rank - 1 : 0];
}

static int totals_build(const Summary *s, Totals *t) {
        t->gaps = malloc(sizeof(uint64_t) * (s->n_machines ?: 1));
        if (!t->gaps)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_buckets; i++) {
                const Machine *m = &s->machines[i];

                if (!m->used)
                        continue;
                t->states[m->state < _MACHINE_STATE_MAX ? m->state : MACHINE_UNKNOWN]++;
                t->waves[m->wave <= 100 ? m->wave : 0]++;
                for (unsigned c = 0; c < s->n_causes; c++)
                        t->causes[c] += (m->blockers >> c) & 1;
                if (m->has_gap)
                        t->gaps[t->n_gaps++] = m->gap_usec;
                t->n_unprotected += m->unprotected;
                t->n_failed += m->state == MACHINE_FAILED;
        }
        qsort(t->gaps, t->n_gaps, sizeof(uint64_t), cmp_u64);
        return 0;
}

/* Machines whose last word was "unprotected" (or failed), by id. */
static void list_machines(const Summary *s, bool unprotected, void (*emit)(const char *id, void *userdata), void *userdata) {
        size_t listed = 0;

        for (size_t i = 0; i < s->n_buckets && listed < SUMMARY_LIST_MAX; i++) {
                const Machine *m = &s->machines[i];
                char id[SD_ID128_STRING_MAX];

                if (!m->used || (unprotected ? !m->unprotected : m->state != MACHINE_FAILED))
                        continue;
                emit(sd_id128_to_string(m->id, id), userdata);
                listed++;
        }
}

static void emit_text(const char *id, void *userdata) {
        fprintf(userdata, "    %s\n", id);
}

static void emit_json(const char *id, void *userdata) {
        json_object_array_add(userdata, json_object_new_string(id));
}

static void print_text(const Summary *s, const Totals *t, FILE *f) {
        fprintf(f, "Machines: %zu (%" PRIu64 " records read, %" PRIu64 " skipped)\n", s->n_machines, s->events, s->skipped);
        fprintf(f, "By state:\n");
        for (int i = 0; i < _MACHINE_STATE_MAX; i++)
                if (t->states[i])
                        fprintf(f, "  %-12s %" PRIu64 "\n", state_names[i], t->states[i]);
        fprintf(f, "By wave (lowest percentage at which a desktop is in the rollout):\n");
        for (int w = 1; w <= 100; w++)
                if (t->waves[w])
                        fprintf(f, "  %3d%%  %" PRIu64 "\n", w, t->waves[w]);
        if (t->waves[0])
                fprintf(f, "  none reported  %" PRIu64 "\n", t->waves[0]);
        fprintf(f, "Readiness blockers:\n");
        for (unsigned c = 0; c < s->n_causes; c++)
                fprintf(f, "  %-24s %" PRIu64 "\n", s->causes[c], t->causes[c]);
        fprintf(f, "Unprotected gap over %zu handovers: median %.3f s, p95 %.3f s, max %.3f s\n", t->n_gaps,
                quantile(t->gaps, t->n_gaps, 50) / 1e6, quantile(t->gaps, t->n_gaps, 95) / 1e6,
                t->n_gaps ? t->gaps[t->n_gaps - 1] / 1e6 : 0.0);
        fprintf(f, "Unprotected now: %zu\n", t->n_unprotected);
        list_machines(s, true, emit_text, f);
        fprintf(f, "Failed: %zu\n", t->n_failed);
        list_machines(s, false, emit_text, f);
}

static json_object *counts_json(const char *const *names, const uint64_t *counts, size_t n) {
        json_object *o = json_object_new_object();

        for (size_t i = 0; i < n; i++)
                if (counts[i])
                        json_object_object_add(o, names[i], json_object_new_int64((int64_t) counts[i]));
        return o;
}

static json_object *to_json(const Summary *s, const Totals *t) {
        json_object *o = json_object_new_object(), *waves = json_object_new_object(), *gap = json_object_new_object(),
                    *unprot = json_object_new_array(), *failed = json_object_new_array();
        const char *causes[SUMMARY_CAUSES_MAX];

        for (unsigned c = 0; c < s->n_causes; c++)
                causes[c] = s->causes[c];
        json_object_object_add(o, "machines", json_object_new_int64((int64_t) s->n_machines));
        json_object_object_add(o, "records", json_object_new_int64((int64_t) s->events));
        json_object_object_add(o, "skipped", json_object_new_int64((int64_t) s->skipped));
        json_object_object_add(o, "states", counts_json(state_names, t->states, _MACHINE_STATE_MAX));
        for (int w = 0; w <= 100; w++)
                if (t->waves[w]) {
                        char k[8];

                        snprintf(k, sizeof(k), "%d", w);
                        json_object_object_add(waves, w ? k : "none", json_object_new_int64((int64_t) t->waves[w]));
                }
        json_object_object_add(o, "waves", waves);
        json_object_object_add(o, "blockers", counts_json(causes, t->causes, s->n_causes));
        json_object_object_add(gap, "handovers", json_object_new_int64((int64_t) t->n_gaps));
        json_object_object_add(gap, "median_usec", json_object_new_int64((int64_t) quantile(t->gaps, t->n_gaps, 50)));
        json_object_object_add(gap, "p95_usec", json_object_new_int64((int64_t) quantile(t->gaps, t->n_gaps, 95)));
        json_object_object_add(gap, "max_usec", json_object_new_int64(t->n_gaps ? (int64_t) t->gaps[t->n_gaps - 1] : 0));
        json_object_object_add(o, "gap", gap);
        list_machines(s, true, emit_json, unprot);
        list_machines(s, false, emit_json, failed);
        json_object_object_add(o, "unprotected_count", json_object_new_int64((int64_t) t->n_unprotected));
        json_object_object_add(o, "unprotected", unprot);
        json_object_object_add(o, "failed_count", json_object_new_int64((int64_t) t->n_failed));
        json_object_object_add(o, "failed", failed);
        return o;
}

int summary_print(Summary *s, FILE *f, bool json) {
        Totals t = {};
        int r;

        r = totals_build(s, &t);
        if (r < 0)
                return r;
        if (json) {
                json_object *o = to_json(s, &t);

                fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
        } else
                print_text(s, &t, f);
        free(t.gaps);
        return 0;
}
