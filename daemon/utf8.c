/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Bytes a character starting with lead has, or 0 if lead cannot start one. */
static size_t lead_length(uint8_t lead) {
        if (lead < 0x80)
                return 1;
        if (lead >= 0xC2 && lead <= 0xDF)
                return 2;
        if (lead >= 0xE0 && lead <= 0xEF)
                return 3;
        if (lead >= 0xF0 && lead <= 0xF4)
                return 4;
        return 0;
}

/* Length of the well-formed character at s (1..4; Unicode table 3-7,
 * "Well-Formed UTF-8 Byte Sequences"), or 0 with *ret_bad the length of the
 * maximal ill-formed subpart there (1..3). s is NUL-terminated and NUL
 * never continues a sequence, so nothing past the end is read. */
static size_t char_length(const char *s, size_t *ret_bad) {
        const uint8_t *p = (const uint8_t *) s;
        size_t need = lead_length(p[0]);
        uint8_t lo = 0x80, hi = 0xBF;

        if (need == 0) {
                *ret_bad = 1; /* continuation byte, C0, C1, F5..FF */
                return 0;
        }
        if (p[0] == 0xE0)
                lo = 0xA0; /* overlong below */
        else if (p[0] == 0xED)
                hi = 0x9F; /* surrogates above */
        else if (p[0] == 0xF0)
                lo = 0x90; /* overlong below */
        else if (p[0] == 0xF4)
                hi = 0x8F; /* beyond U+10FFFF above */
        for (size_t i = 1; i < need; i++) {
                if (p[i] < lo || p[i] > hi) {
                        *ret_bad = i;
                        return 0;
                }
                lo = 0x80;
                hi = 0xBF;
        }
        return need;
}

bool utf8_is_valid(const char *s) {
        size_t bad, n;

        for (; *s; s += n) {
                n = char_length(s, &bad);
                if (n == 0)
                        return false;
        }
        return true;
}

char *utf8_sanitize_dup(const char *s) {
        size_t length = strlen(s), bad, n;
        char *out, *o;

        if (length > (SIZE_MAX - 1) / 3)
                return NULL;
        out = o = malloc(length * 3 + 1);
        if (!out)
                return NULL;
        for (; *s; s += n) {
                n = char_length(s, &bad);
                if (n > 0) {
                        memcpy(o, s, n);
                        o += n;
                } else {
                        memcpy(o, UTF8_REPLACEMENT, 3);
                        o += 3;
                        n = bad;
                }
        }
        *o = '\0';
        return out;
}

/* Without memory for a copy: one '?' for each ill-formed byte, in place. */
static void sanitize_in_place(char *s) {
        size_t bad, n;

        for (; *s; s += n) {
                n = char_length(s, &bad);
                if (n == 0) {
                        memset(s, '?', bad);
                        n = bad;
                }
        }
}

int utf8_sanitize(char *buf, size_t size) {
        char *clean;
        size_t length;

        if (size == 0)
                return 0;
        (void) utf8_truncate(buf, size);
        if (utf8_is_valid(buf))
                return 0;
        clean = utf8_sanitize_dup(buf);
        if (!clean) {
                sanitize_in_place(buf);
                return -ENOMEM;
        }
        length = strlen(clean);
        if (length >= size)
                length = size - 1;
        memcpy(buf, clean, length);
        buf[length] = '\0';
        free(clean);
        (void) utf8_truncate(buf, size);
        return 1;
}

size_t utf8_truncate(char *buf, size_t size) {
        size_t length;

        if (size == 0)
                return 0;
        length = strnlen(buf, size);
        if (length == size)
                buf[--length] = '\0';
        /* The last character's lead byte is at most 3 bytes before the end. */
        for (size_t i = length; i > 0 && length - i < 4; i--) {
                uint8_t c = (uint8_t) buf[i - 1];

                if ((c & 0xC0) == 0x80)
                        continue;
                if (lead_length(c) > length - (i - 1)) {
                        buf[i - 1] = '\0';
                        return i - 1;
                }
                break;
        }
        return length;
}

int utf8_vsnprintf(char *buf, size_t size, const char *format, va_list ap) {
        int r = vsnprintf(buf, size, format, ap);

        if (r < 0)
                return -errno;
        if (size > 0 && (size_t) r >= size)
                (void) utf8_truncate(buf, size);
        return r;
}

int utf8_snprintf(char *buf, size_t size, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = utf8_vsnprintf(buf, size, format, ap);
        va_end(ap);
        return r;
}

int bus_append_utf8(sd_bus_message *m, const char *s) {
        char *clean;
        int r;

        if (!s)
                s = "";
        if (utf8_is_valid(s))
                return sd_bus_message_append_basic(m, 's', s);
        clean = utf8_sanitize_dup(s);
        if (!clean)
                return -ENOMEM;
        r = sd_bus_message_append_basic(m, 's', clean);
        free(clean);
        return r;
}
