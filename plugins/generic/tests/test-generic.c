/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for products.d parsing, argv splitting and patterns. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avm-test.h"

#include "../generic-conf.h"

static int parse_file(const char *dir, const char *name, GenericProduct *p) {
        char err[256];
        size_t n;
        char *buf = load_file(dir, name, GENERIC_CONF_MAX, &n);
        int r;

        r = generic_conf_parse(buf, n, p, err, sizeof err);
        if (r < 0)
                printf("# %s: %s\n", name, err);
        free(buf);
        return r;
}

int main(void) {
        static GenericProduct p;
        char buf[4096], cap[128];
        char *argv[GENERIC_ARGV_MAX + 1];

        CHECK(parse_file(TEST_DATA_DIR, "falcon-like.conf", &p) == 0);
        CHECK(strcmp(p.name, "Falcon-like") == 0 && strcmp(p.unit, "falcon-sensor.service") == 0);
        CHECK(p.actions[GENERIC_SCAN].n_ok == 2 && p.actions[GENERIC_SCAN].n_detected == 1);
        CHECK(p.actions[GENERIC_STATUS].n_ok == 1 && p.actions[GENERIC_STATUS].ok_codes[0] == 0); /* default */
        CHECK(generic_split(p.actions[GENERIC_SCAN].command, "/tmp/a b", buf, sizeof buf, argv, GENERIC_ARGV_MAX + 1) == 4);
        CHECK(strcmp(argv[0], "/usr/bin/scanner") == 0 && strcmp(argv[2], "two words") == 0 && strcmp(argv[3], "/tmp/a b") == 0 &&
              argv[4] == NULL);
        CHECK(parse_file(TEST_DATA_DIR, "bad-relative.conf", &p) == -EINVAL);
        CHECK(parse_file(TEST_DATA_DIR, "bad-section.conf", &p) == -EINVAL);
        CHECK(parse_file(TEST_DATA_DIR, "bad-regex.conf", &p) == -EINVAL);
        CHECK(parse_file(TEST_DATA_DIR, "bad-noname.conf", &p) == -EINVAL);
        CHECK(parse_file(EXAMPLES_DIR, "crowdstrike-falcon.conf.example", &p) == 0);
        CHECK(parse_file(EXAMPLES_DIR, "bitdefender-gravityzone.conf.example", &p) == 0);
        CHECK(parse_file(EXAMPLES_DIR, "scan-only.conf.example", &p) == 0);

        /* splitting */
        CHECK(generic_split("/bin/x 'unterminated", NULL, buf, sizeof buf, argv, 8) == -EINVAL);
        CHECK(generic_split("relative arg", NULL, buf, sizeof buf, argv, 8) == -EINVAL);
        CHECK(generic_split("/bin/x {path}", NULL, buf, sizeof buf, argv, 8) == -EINVAL);
        CHECK(generic_split("/bin/x a b c d e f g h", NULL, buf, sizeof buf, argv, 4) == -E2BIG);
        CHECK(generic_split("/bin/x ''", NULL, buf, sizeof buf, argv, 4) == 2 && argv[1][0] == '\0');
        CHECK(generic_split("   ", NULL, buf, sizeof buf, argv, 4) == -EINVAL);
        CHECK(generic_split("/bin/x {path}", "/a/very/long/path", buf, 10, argv, 4) == -E2BIG);

        /* patterns */
        CHECK(generic_match("version = ([0-9.]+)", "aid=\"x\"\nversion = 7.15.1\n", cap, sizeof cap) == 1 &&
              strcmp(cap, "7.15.1") == 0);
        CHECK(generic_match(": (.+) FOUND$", "/x: Eicar FOUND\n", cap, sizeof cap) == 1 && strcmp(cap, "Eicar") == 0);
        CHECK(generic_match("rfm-state=false", "rfm-state=true", NULL, 0) == 0);
        /* Regexes whose compilation would explode (nested repeats) are refused. */
        CHECK(generic_match("(.++)", "x", NULL, 0) == -EINVAL);
        CHECK(generic_match("((a{255}){255}){255}", "a", NULL, 0) == -EINVAL);
        CHECK(generic_match("([", "x", NULL, 0) == -EINVAL);
        /* Regression (tests/fuzz, 20 s in regcomp): a stray ')' defeated the cost estimate. */
        CHECK(generic_match("^^(a{0,63}){255}){255}){255}", "a", NULL, 0) == -EINVAL);
        /* Regression (tests/fuzz-generic, >10 s in regexec on 4 KiB): few atoms, but
         * 16,640 optional copies; optional copies are counted as glibc expands them. */
        CHECK(generic_match("^^(a{0,65}){255}", "a", NULL, 0) == -EINVAL);
        CHECK(generic_match("(a?){2000}", "a", NULL, 0) == -EINVAL);
        CHECK(generic_match("(|a){300}", "a", NULL, 0) == -EINVAL);
        CHECK(generic_match("(a*){300}", "a", NULL, 0) == -EINVAL);
        CHECK(generic_match("a{0,200}b{0,200}", "a", NULL, 0) == -EINVAL);
        /* ... while what product descriptions use still passes */
        CHECK(generic_match("(a?){200}", "aa", NULL, 0) == 1);
        CHECK(generic_match("^(enabled|on|yes)$", "on", NULL, 0) == 1);
        CHECK(generic_match("[0-9]{1,3}(\\.[0-9]{1,3}){3}", "10.0.0.1", NULL, 0) == 1);
        CHECK(generic_match("a{5,}", "aaaaa", NULL, 0) == 1);
        CHECK(generic_match("x{3,1}", "x", NULL, 0) == -EINVAL);
        CHECK(generic_match("(a", "a", NULL, 0) == -EINVAL);
        CHECK(generic_match("a)", "a)", NULL, 0) == -EINVAL);
        CHECK(generic_match("(a)\\1", "aa", NULL, 0) == -EINVAL);
        CHECK(generic_match("(((((((((a)))))))))", "a", NULL, 0) == -EINVAL);
        CHECK(generic_match("((((((((a))))))))", "a", NULL, 0) == 1);
        CHECK(generic_match("[)(]x\\)", "(x)", NULL, 0) == 1);
        CHECK(generic_code_in((int[]){ 0, 2 }, 2, 2) && !generic_code_in((int[]){ 0, 2 }, 2, 1));

        /* names */
        CHECK(generic_name_valid("crowdstrike-falcon") && !generic_name_valid("../etc/passwd") && !generic_name_valid(".x") &&
              !generic_name_valid("A") && !generic_name_valid(NULL));
        {
                char *big = malloc(GENERIC_CONF_MAX + 10);
                char err[128];
                memset(big, '#', GENERIC_CONF_MAX + 9);
                big[GENERIC_CONF_MAX + 9] = '\0';
                CHECK(generic_conf_parse(big, GENERIC_CONF_MAX + 9, &p, err, sizeof err) == -EBADMSG);
                CHECK(generic_conf_parse("[Product]\nName=x\0junk", 21, &p, err, sizeof err) == -EBADMSG);
                free(big);
        }

        return avm_test_finish();
}
