/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Columns of the tables of 'plan', 'products' and 'history'. */

#include <stddef.h>

/* Terminal columns of a UTF-8 string (one per code point; good enough for
 * the text we get). */
size_t utf8_width(const char *s);

/* s on stdout, padded with spaces to width columns. */
void print_padded(const char *s, size_t width);

size_t max_size(size_t a, size_t b);
