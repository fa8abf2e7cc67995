/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kesl_parse_scope() on the documented --get-settings 1 format
 * (tests/get-settings-1-scope-docs.ini, provenance in its header). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "avm-test.h"

#include "../kesl-scope.h"

int main(void) {
        AvmScope s;
        size_t n;
        char *b = load_file(TEST_DATA_DIR, "get-settings-1-scope-docs.ini", 1 << 20, &n);
        const char *home = "[ScanScope.item_0000]\nAreaDesc = Home\nPath = \"/home/anna/My Documents\"\n";
        const char *rel = "[ScanScope.item_0000]\nPath=home\n";
        const char *none = "[General]\nPath=/x\n[ScanScope.item_0000]\nUseScanArea=No\nPath=/\n";

        CHECK(b && kesl_parse_scope(b, n, &s) == 0);
        /* Path=/ with mask * counts; Path=/home with mask *doc does not cover the
         * directory; UseScanArea=No is off; the exclusion is kept. */
        CHECK(s.known && s.n_include == 1 && strcmp(s.include[0], "/") == 0);
        CHECK(s.n_exclude == 1 && strcmp(s.exclude[0], "/tmp/notchecked") == 0);
        CHECK(kesl_parse_scope(home, strlen(home), &s) == 0 && s.known && s.n_include == 1 &&
              strcmp(s.include[0], "/home/anna/My Documents") == 0);
        CHECK(kesl_parse_scope(rel, strlen(rel), &s) == -EBADMSG);
        CHECK(kesl_parse_scope(none, strlen(none), &s) == 0 && !s.known);
        CHECK(kesl_parse_scope("", 0, &s) == 0 && !s.known);
        free(b);
        return avm_test_finish();
}
