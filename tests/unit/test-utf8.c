/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/utf8.c: vendor text made valid UTF-8 for D-Bus, and cut only
 * between characters. */
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#include "avm-test.h"

#define R UTF8_REPLACEMENT

static bool sanitized_is(const char *in, const char *want) {
        char *out = utf8_sanitize_dup(in);
        bool ok = out && strcmp(out, want) == 0 && utf8_is_valid(out);

        if (!ok)
                fprintf(stderr, "sanitize: got \"%s\", want \"%s\"\n", out ? out : "(null)", want);
        free(out);
        return ok;
}

static void test_valid(void) {
        CHECK(utf8_is_valid(""));
        CHECK(utf8_is_valid("1.0.2 (build 7)"));
        CHECK(utf8_is_valid("Защита включена"));                   /* Cyrillic, 2 bytes each */
        CHECK(utf8_is_valid("€ \xef\xbf\xbd \xed\x9f\xbf"));       /* 3 bytes; U+FFFD; U+D7FF */
        CHECK(utf8_is_valid("\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf")); /* 4 bytes; U+10FFFF */
        CHECK(sanitized_is("Защита", "Защита"));
}

static void test_invalid(void) {
        /* Invalid bytes: the version from the issue, stray continuations. */
        CHECK(!utf8_is_valid("1.0\xff\xfe"));
        CHECK(sanitized_is("1.0\xff\xfe", "1.0" R R));
        CHECK(sanitized_is("\x80x\xbf", R "x" R));
        CHECK(sanitized_is("\xf5\xf8\xfc", R R R));
        /* Overlong encodings of '/' and NUL; C0/C1 leads never start a character. */
        CHECK(!utf8_is_valid("\xc0\xaf"));
        CHECK(sanitized_is("\xc0\xaf", R R));
        CHECK(sanitized_is("\xc1\xbf", R R));
        CHECK(sanitized_is("\xe0\x80\xaf", R R R));
        CHECK(sanitized_is("\xf0\x80\x80\xaf", R R R R));
        /* UTF-16 surrogates (U+D800, U+DFFF) and beyond U+10FFFF. */
        CHECK(!utf8_is_valid("\xed\xa0\x80"));
        CHECK(sanitized_is("\xed\xa0\x80", R R R));
        CHECK(sanitized_is("\xed\xbf\xbf", R R R));
        CHECK(sanitized_is("\xf4\x90\x80\x80", R R R R));
        /* A sequence cut short: one U+FFFD for its maximal subpart. */
        CHECK(sanitized_is("ab\xd0", "ab" R));
        CHECK(sanitized_is("ab\xe2\x82", "ab" R));
        CHECK(sanitized_is("ab\xf0\x9f\x98", "ab" R));
        CHECK(sanitized_is("\xe2\x82x\xd0\xb0", R "x\xd0\xb0"));
        /* KOI8-R text ("Привет") is not UTF-8. */
        CHECK(sanitized_is("\xf0\xd2\xc9\xd7\xc5\xd4", R R R R R R));
}

static void test_sanitize_in_place(void) {
        char small[8], exact[16];

        /* Three 1-byte errors become 9 bytes: what does not fit is cut at a
         * character boundary. */
        strcpy(small, "1.0\xff\xfe\xfd");
        CHECK(utf8_sanitize(small, sizeof(small)) == 1);
        CHECK(strcmp(small, "1.0" R) == 0 && utf8_is_valid(small));
        strcpy(exact, "1.0\xff\xfe");
        CHECK(utf8_sanitize(exact, sizeof(exact)) == 1 && strcmp(exact, "1.0" R R) == 0);
        strcpy(exact, "valid Ж");
        CHECK(utf8_sanitize(exact, sizeof(exact)) == 0 && strcmp(exact, "valid Ж") == 0);
        /* Not NUL-terminated within size: terminated, then cut between characters. */
        memcpy(small, "abcdef\xd0\xb0", 8);
        CHECK(utf8_sanitize(small, sizeof(small)) == 0 && strcmp(small, "abcdef") == 0);
}

static void test_truncate(void) {
        const char *text = "Ошибка: нет места"; /* Cyrillic and ASCII */
        size_t length = strlen(text);
        char buf[64];

        /* Cut at every byte boundary: never inside a character, never more
         * than one character lost. */
        for (size_t size = 1; size <= length + 1; size++) {
                size_t n;

                memset(buf, 'X', sizeof(buf));
                CHECK(utf8_snprintf(buf, size, "%s", text) == (int) length);
                n = strlen(buf);
                CHECK(n < size && utf8_is_valid(buf) && strncmp(buf, text, n) == 0);
                CHECK(n + 2 >= size - 1 || n == length);

                memcpy(buf, text, size - 1);
                buf[size - 1] = '\0';
                n = utf8_truncate(buf, size);
                CHECK(n == strlen(buf) && utf8_is_valid(buf) && strncmp(buf, text, n) == 0 && n + 2 >= size - 1);
        }
        /* 3- and 4-byte characters cut after each of their bytes. */
        strcpy(buf, "a\xe2\x82");
        CHECK(utf8_truncate(buf, sizeof(buf)) == 1);
        strcpy(buf, "a\xf0\x9f\x98");
        CHECK(utf8_truncate(buf, sizeof(buf)) == 1);
        strcpy(buf, "a\xf0\x9f\x98\x80");
        CHECK(utf8_truncate(buf, sizeof(buf)) == 5);
        CHECK(utf8_snprintf(buf, 4, "%s", "\xf0\x9f\x98\x80") == 4 && buf[0] == '\0');
        CHECK(utf8_snprintf(buf, 0, "%s", "x") == 1);
}

int main(void) {
        test_valid();
        test_invalid();
        test_sanitize_in_place();
        test_truncate();
        return avm_test_finish();
}
