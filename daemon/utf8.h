/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

/* Text from plugins and vendor tools is bytes, not necessarily UTF-8 (a
 * product version "1.0\xff", a message in KOI8-R, output cut by a buffer);
 * D-Bus strings must be UTF-8 or the whole message is refused. These
 * helpers make text valid: every ill-formed sequence (stray continuation
 * bytes, lead bytes C0/C1/F5..FF, overlong forms, UTF-16 surrogates, code
 * points above U+10FFFF, a sequence cut short) becomes one U+FFFD per
 * maximal ill-formed subpart (Unicode's recommended practice), and text is
 * only ever cut between characters. */

#define UTF8_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD, 3 bytes */

bool utf8_is_valid(const char *s);

/* A copy of s with every ill-formed sequence replaced by U+FFFD; it can be
 * up to 3 times as long as s. NULL on OOM. */
char *utf8_sanitize_dup(const char *s);

/* Makes the NUL-terminated string in buf, a buffer of size bytes, valid in
 * place. A replacement (3 bytes) can be longer than what it replaces (1
 * byte): what no longer fits in size is cut off, at a character boundary,
 * so the result is always NUL-terminated valid UTF-8 within size. Returns 0
 * if buf was valid and is untouched, 1 if it was changed, -ENOMEM (buf then
 * has every ill-formed byte replaced by '?', the same length). */
int utf8_sanitize(char *buf, size_t size);

/* Makes sure the string in buf (size bytes) is NUL-terminated within size
 * and does not end inside a character: an incomplete last sequence, as
 * left by a cut, is dropped. Assumes the rest is valid. Returns the new
 * length. */
size_t utf8_truncate(char *buf, size_t size);

/* snprintf() that never cuts a character in two: output that does not fit
 * is cut at the last character boundary. Returns what vsnprintf() does (the
 * length of the full output), or -errno. */
int utf8_snprintf(char *buf, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));
int utf8_vsnprintf(char *buf, size_t size, const char *format, va_list ap) __attribute__((format(printf, 3, 0)));

/* Appends s (NULL: "") as a D-Bus string, sanitized if it is not valid:
 * the last line of defence where text from plugins goes on the bus. */
int bus_append_utf8(sd_bus_message *m, const char *s);
