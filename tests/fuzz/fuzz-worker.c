/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's side of the worker protocol (daemon/worker-proto.c): every
 * datagram an avmigrate-worker sends, read by worker_message_read() as
 * daemon/worker.c does, EVENT= values by worker_event_parse() as
 * daemon/engine.c does, and gap-start/gap-end events into a job's gap
 * windows (daemon/gap.c). The input is a worker's output as a shell run
 * prints it (worker-proto.h): one datagram per line, NUL bytes kept. */
#include "fuzz.h"
#include "gap.h"
#include "utf8.h"
#include "worker-proto.h"

static void take_event(json_object *gaps, const char *value) {
        json_object *o;
        const char *name;

        if (worker_event_parse(value, &o, &name) < 0)
                return;
        FUZZ_ASSERT(name && utf8_is_valid(name));
        if (strcmp(name, "gap-start") == 0)
                gap_window_open(gaps, o, "handover");
        else if (strcmp(name, "gap-end") == 0)
                (void) gap_window_close(gaps, o, true);
        json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        WorkerResult r = {};
        json_object *gaps;
        size_t i = 0;

        if (size > 4 * 64 * 1024) /* a few datagrams of WORKER_MSG_MAX */
                return 0;
        gaps = json_object_new_array();
        if (!gaps)
                return 0;
        while (i < size) {
                const uint8_t *nl = memchr(data + i, '\n', size - i);
                size_t n = nl ? (size_t) (nl - (data + i)) : size - i;
                char *raw = malloc(n ? n : 1), *buf = NULL;
                const char *key = NULL, *value = NULL;
                int k;

                if (!raw)
                        break;
                memcpy(raw, data + i, n); /* exactly n bytes: ASan sees a read past them */
                k = worker_message_read(&r, raw, n, &buf, &key, &value);
                free(raw);
                if (k > 0) {
                        FUZZ_ASSERT(buf && key && value && utf8_is_valid(key) && utf8_is_valid(value));
                        if (strcmp(key, "EVENT") == 0)
                                take_event(gaps, value);
                }
                free(buf);
                FUZZ_ASSERT(utf8_is_valid(r.message));
                FUZZ_ASSERT(!r.have_errno || (r.error <= 0 && r.error > -4096));
                i += n + 1;
        }
        (void) gap_windows_total(gaps);
        (void) gap_windows_any_open(gaps);
        json_object_put(gaps);
        json_object_put(r.data);
        return 0;
}
