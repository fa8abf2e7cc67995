/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* $STATE_DIRECTORY/job.json (daemon/state.c): tokenised like
 * state_load_job() does, then job_from_json() into a fresh Job. A job that
 * is accepted must survive job_to_json() → text → job_from_json() again:
 * the daemon rewrites the file after every step and must be able to read
 * back what it wrote. */
#include "fuzz.h"
#include "job.h"
#include "state.h"

static json_object *tokenize(const char *text, size_t size) {
        struct json_tokener *tok = json_tokener_new_ex(64);
        json_object *o;

        if (!tok)
                return NULL;
        o = json_tokener_parse_ex(tok, text, (int) size);
        if (o && (json_tokener_get_error(tok) != json_tokener_success || (size_t) json_tokener_get_parse_end(tok) != size)) {
                json_object_put(o);
                o = NULL;
        }
        json_tokener_free(tok);
        return o;
}

static void roundtrip(const Job *j) {
        json_object *o = job_to_json(j), *back;
        const char *text;
        Job *k;
        char why[256] = "";

        if (!o)
                return;
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        back = text ? tokenize(text, strlen(text)) : NULL;
        k = job_new(NULL, 1);
        if (back && k) {
                FUZZ_ASSERT(job_from_json(k, back, why, sizeof(why)) == 0);
                FUZZ_ASSERT(k->id == j->id && k->state == j->state && k->step == j->step && k->phase == j->phase);
                FUZZ_ASSERT(strcmp(k->from, j->from) == 0 && strcmp(k->to, j->to) == 0 && strcmp(k->result, j->result) == 0);
        }
        job_free(k);
        json_object_put(back);
        json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char why[256] = "", *text;
        json_object *o;
        Job *j;

        if (size > 1024 * 1024) /* JOB_FILE_MAX is 8 MiB; nothing new past 1 MiB */
                return 0;
        text = fuzz_strndup(data, size); /* read_file_bounded() NUL-terminates */
        if (!text)
                return 0;
        o = tokenize(text, size);
        free(text);
        if (!o)
                return 0;
        j = job_new(NULL, 1);
        if (j) {
                if (job_from_json(j, o, why, sizeof(why)) == 0)
                        roundtrip(j);
                else
                        FUZZ_ASSERT(why[0]);
        }
        job_free(j);
        json_object_put(o);
        return 0;
}
