/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* products.d/<name>.conf (plugins/generic/generic-conf.c): the input is a
 * product description, NUL-terminated as generic.c reads it. Every Command=
 * of an accepted description is split as run_action() does, and its regexes
 * are applied to the input text as if it were the command's output. */
#include <limits.h>

#include "fuzz.h"
#include "generic-conf.h"

static GenericProduct product; /* 10 KiB */

static void match(const char *regex, const char *text) {
        char capture[256];

        if (regex[0])
                FUZZ_ASSERT(generic_match(regex, text, capture, sizeof(capture)) >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = fuzz_strndup(data, size), error[256] = "";
        char buf[GENERIC_VALUE_MAX * 2 + PATH_MAX], *argv[GENERIC_ARGV_MAX + 1];

        if (!text)
                return 0;
        if (size > 4096) /* regcomp()/regexec() time grows fast with the text */
                goto finish;
        if (generic_conf_parse(text, size, &product, error, sizeof(error)) < 0) {
                FUZZ_ASSERT(error[0]);
                goto finish;
        }
        FUZZ_ASSERT(product.name[0]);
        for (int a = 0; a < _GENERIC_ACTION_MAX; a++) {
                const GenericCommand *c = &product.actions[a];
                int n;

                FUZZ_ASSERT(generic_action_section((GenericAction) a));
                FUZZ_ASSERT(c->n_ok >= 1 && c->n_ok <= GENERIC_CODES_MAX && c->n_detected <= GENERIC_CODES_MAX);
                if (c->command[0]) {
                        n = generic_split(c->command, "/var/tmp/avmigrate probe/{path}", buf, sizeof(buf), argv,
                                          GENERIC_ARGV_MAX + 1);
                        if (n > 0) {
                                FUZZ_ASSERT(n <= GENERIC_ARGV_MAX && argv[0][0] == '/' && !argv[n]);
                                (void) generic_code_in(c->ok_codes, c->n_ok, 0);
                        }
                }
                match(c->version_regex, text);
                match(c->realtime_regex, text);
                match(c->healthy_regex, text);
                match(c->detected_regex, text);
                match(c->threat_regex, text);
        }
finish:
        (void) generic_name_valid(text);
        (void) generic_split(text, NULL, buf, sizeof(buf), argv, GENERIC_ARGV_MAX + 1);
        free(text);
        return 0;
}
