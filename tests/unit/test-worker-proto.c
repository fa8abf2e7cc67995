/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/worker-proto.c, the daemon's side: how a worker's datagrams are
 * read (worker_message_read) and its EVENT= values checked
 * (worker_event_parse). The regression inputs of tests/fuzz/corpus/fuzz-worker
 * are replayed here too. */
#include <errno.h>
#include <string.h>

#include "utf8.h"
#include "worker-proto.h"

#include "avm-test.h"

static int read_msg(WorkerResult *r, const char *raw, size_t n, char *key, char *value) {
        char *buf = NULL;
        const char *k = NULL, *v = NULL;
        int ret = worker_message_read(r, raw, n, &buf, &k, &v);

        key[0] = value[0] = 0;
        if (ret > 0) {
                snprintf(key, 64, "%s", k);
                snprintf(value, 256, "%s", v);
        }
        free(buf);
        return ret;
}

static void test_results(void) {
        WorkerResult r = {};
        char key[64], value[256];

        CHECK(read_msg(&r, "ERRNO=110", 9, key, value) == 0 && r.have_errno && r.error == -110);
        CHECK(read_msg(&r, "ERRNO=4096", 10, key, value) == 0 && r.error == -110); /* out of range: ignored */
        CHECK(read_msg(&r, "ERRNO=-1", 8, key, value) == 0 && r.error == -110);
        CHECK(read_msg(&r, "TIME=1500", 9, key, value) == 0 && r.op_usec == 1500);
        CHECK(read_msg(&r, "DATA={\"skipped\":true}", 21, key, value) == 0 && json_object_is_type(r.data, json_type_object));
        CHECK(read_msg(&r, "DATA={broken", 12, key, value) == 0 && json_object_is_type(r.data, json_type_object)); /* kept */
        CHECK(read_msg(&r, "no equals sign", 14, key, value) == 0);
        /* Not NUL-terminated: only n bytes are read. */
        CHECK(read_msg(&r, "STATUS=Stopping KESLxxxx", 20, key, value) == 1 && strcmp(key, "STATUS") == 0 &&
              strcmp(value, "Stopping KESL") == 0);
        /* Text after a NUL byte is ignored. */
        CHECK(read_msg(&r, "PROGRESS=50\0junk", 16, key, value) == 1 && strcmp(value, "50") == 0);
        json_object_put(r.data);
}

static void test_errmsg_utf8(void) {
        WorkerResult r = {};
        char key[64], value[256], big[700];

        /* Vendor text in another encoding becomes U+FFFD. */
        CHECK(read_msg(&r, "ERRMSG=1.0\xff", 11, key, value) == 0 && strcmp(r.message, "1.0" UTF8_REPLACEMENT) == 0);
        /* A long message is cut between characters, never inside one:
         * "ab" + 300 × "Ж" (2 bytes) fits 511 bytes only as "ab" + 254 × "Ж". */
        memcpy(big, "ERRMSG=ab", 9);
        for (size_t i = 0; i < 300; i++)
                memcpy(big + 9 + 2 * i, "\xd0\x96", 2);
        CHECK(read_msg(&r, big, 9 + 600, key, value) == 0);
        CHECK(utf8_is_valid(r.message) && strlen(r.message) == 510);
        CHECK(read_msg(&r, "STATUS=\xc0\xaf", 9, key, value) == 1 && utf8_is_valid(value));
}

static void test_events(void) {
        json_object *o = NULL;
        const char *name = NULL;

        CHECK(worker_event_parse("{\"event\":\"gap-start\",\"start_mono\":5}", &o, &name) == 0 && strcmp(name, "gap-start") == 0);
        json_object_put(o);
        /* Found by reading the engine's EVENT handling, kept by the fuzzer's
         * regress-event-null seed: "event": null gave a NULL name to streq(). */
        CHECK(worker_event_parse("{\"event\":null}", &o, &name) == -EBADMSG);
        CHECK(worker_event_parse("{\"event\":7}", &o, &name) == -EBADMSG);
        CHECK(worker_event_parse("[\"event\"]", &o, &name) == -EBADMSG);
        CHECK(worker_event_parse("{\"step\":\"handover\"}", &o, &name) == -EBADMSG);
        CHECK(worker_event_parse("not json", &o, &name) == -EBADMSG);
        CHECK(worker_event_parse("", &o, &name) == -EBADMSG);
}

int main(void) {
        test_results();
        test_errmsg_utf8();
        test_events();
        return avm_test_finish();
}
