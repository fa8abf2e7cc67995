/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "table.h"

size_t utf8_width(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xC0) != 0x80)
                        n++;
        return n;
}

void print_padded(const char *s, size_t width) {
        size_t w = utf8_width(s);

        fputs(s, stdout);
        for (; w < width; w++)
                putchar(' ');
}

size_t max_size(size_t a, size_t b) {
        return a > b ? a : b;
}
