/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The central journal (systemd-journal-upload → systemd-journal-remote): the
 * daemon's structured events, found by MESSAGE_ID (docs/avmigrate.catalog),
 * one desktop per _MACHINE_ID, the latest event winning (the journal is read
 * in time order). Fields read:
 *
 *   job started    → running
 *   job finished   → AVMIGRATE_RESULT, else the result in MESSAGE
 *                    ("Job 3 (a → b) finished: rolled-back: …")
 *   handover       → AVMIGRATE_GAP_USEC, else "unprotected so far N µs" in
 *                    MESSAGE; protected again
 *   unprotected    → unprotected until the next handover/completion/start
 *   census         → AVMIGRATE_WAVE (1..100), AVMIGRATE_BLOCKERS (comma-
 *                    separated causes), AVMIGRATE_STATE (pending|scheduled)
 *
 * The census event and the AVMIGRATE_RESULT/_GAP_USEC fields are what the
 * daemon is to log (FLEET_MID_CENSUS below); until it does, the MESSAGE text
 * is the fallback and waves and blockers stay empty.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "log.h"
#include "summary-sources.h"
#include "util.h"

#define FIELD_MAX 512 /* longer values are cut: we only need their start */

static const char *const message_ids[] = {
        AVM_MID_JOB_STARTED, AVM_MID_JOB_FINISHED, AVM_MID_HANDOVER, AVM_MID_UNPROTECTED, FLEET_MID_CENSUS,
};

static void journal_closep(sd_journal **j) {
        sd_journal_close(*j);
}

/* The value of field into buf (NUL-terminated, cut at size - 1); NULL if absent. */
static const char *field(sd_journal *j, const char *name, char *buf, size_t size) {
        size_t l = strlen(name), n;
        const void *data;

        if (sd_journal_get_data(j, name, &data, &n) < 0 || n <= l)
                return NULL;
        n -= l + 1;
        if (n >= size)
                n = size - 1;
        memcpy(buf, (const char *) data + l + 1, n);
        buf[n] = 0;
        return buf;
}

/* "… finished: rolled-back: reason" → "rolled-back". */
static MachineState result_from_message(const char *msg) {
        const char *p = msg ? strstr(msg, " finished: ") : NULL;
        char word[32];

        if (!p)
                return MACHINE_UNKNOWN;
        p += strlen(" finished: ");
        snprintf(word, sizeof(word), "%.*s", (int) strcspn(p, ": ."), p);
        return machine_state_from_string(word);
}

static void on_finished(sd_journal *j, Machine *m) {
        char buf[FIELD_MAX];
        const char *v = field(j, "AVMIGRATE_RESULT", buf, sizeof(buf));

        m->state = v ? machine_state_from_string(v) : result_from_message(field(j, "MESSAGE", buf, sizeof(buf)));
        if (m->state == MACHINE_COMPLETED)
                m->unprotected = false;
}

static void on_handover(sd_journal *j, Machine *m) {
        char buf[FIELD_MAX];
        const char *v = field(j, "AVMIGRATE_GAP_USEC", buf, sizeof(buf));
        uint64_t gap;

        if (!v && (v = field(j, "MESSAGE", buf, sizeof(buf))) && (v = strstr(v, "unprotected so far ")))
                v += strlen("unprotected so far ");
        if (v && sscanf(v, "%" SCNu64, &gap) == 1) {
                m->gap_usec = gap;
                m->has_gap = true;
        }
        m->unprotected = false;
}

static void on_census(Summary *s, sd_journal *j, Machine *m) {
        char buf[FIELD_MAX], *save = NULL;
        const char *v;
        unsigned w;

        if ((v = field(j, "AVMIGRATE_WAVE", buf, sizeof(buf))) && sscanf(v, "%u", &w) == 1 && w >= 1 && w <= 100)
                m->wave = (uint16_t) w;
        /* A census does not override what a job said. */
        if ((v = field(j, "AVMIGRATE_STATE", buf, sizeof(buf))) && m->state <= MACHINE_SCHEDULED)
                m->state = machine_state_from_string(v);
        m->blockers = 0; /* the latest census is the current list */
        if ((v = field(j, "AVMIGRATE_BLOCKERS", buf, sizeof(buf))))
                for (char *c = strtok_r(buf, ",", &save); c; c = strtok_r(NULL, ",", &save))
                        summary_add_blocker(s, m, c);
}

static int fold_entry(Summary *s, sd_journal *j) {
        char mid[64], machine[64];
        sd_id128_t id;
        Machine *m;

        if (!field(j, "MESSAGE_ID", mid, sizeof(mid)) || !field(j, "_MACHINE_ID", machine, sizeof(machine)) ||
            sd_id128_from_string(machine, &id) < 0)
                return -EBADMSG;
        m = summary_machine(s, id);
        if (!m)
                return -ENOMEM;
        if (streq(mid, AVM_MID_JOB_STARTED)) {
                m->state = MACHINE_RUNNING;
                m->unprotected = false;
        } else if (streq(mid, AVM_MID_JOB_FINISHED))
                on_finished(j, m);
        else if (streq(mid, AVM_MID_HANDOVER))
                on_handover(j, m);
        else if (streq(mid, AVM_MID_UNPROTECTED))
                m->unprotected = true;
        else
                on_census(s, j, m);
        return 0;
}

int summary_read_journal(Summary *s, const char *dir) {
        _cleanup_(journal_closep) sd_journal *j = NULL;
        int r;

        r = sd_journal_open_directory(&j, dir, 0);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(message_ids); i++) {
                char match[64];

                snprintf(match, sizeof(match), "MESSAGE_ID=%s", message_ids[i]);
                r = sd_journal_add_match(j, match, 0); /* same field: OR */
                if (r < 0)
                        return r;
        }
        /* Only the fields we read are decompressed and copied. */
        (void) sd_journal_set_data_threshold(j, FIELD_MAX);
        SD_JOURNAL_FOREACH(j) {
                r = fold_entry(s, j);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        s->skipped++;
                else
                        s->events++;
        }
        return 0;
}
