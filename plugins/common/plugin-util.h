/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the vendor plugins (static, linked into each .so and
 * hidden there: only avm_plugin is exported). Only what is the same in every
 * plugin lives here; vendor logic stays in the plugin's own folder.
 *
 * plugin-util.c uses the avm_host_* services; plugin-text.c does not, so the
 * plugins' parser unit tests can link it without the daemon.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <avmigrate/plugin.h>

#ifndef USEC_PER_SEC
#        define USEC_PER_SEC 1000000ULL
#endif
#ifndef _cleanup_
#        define _cleanup_(f) __attribute__((cleanup(f)))
#endif

static inline void plugin_run_result_donep(AvmRunResult *r) {
        avm_run_result_done(r);
}
#define _cleanup_run_result_ __attribute__((cleanup(plugin_run_result_donep)))

/* Closes *fd if it is open; for _cleanup_(plugin_closep) int fd = -EBADF. */
void plugin_closep(int *fd);

/* CLOCK_MONOTONIC now, in microseconds. */
uint64_t plugin_now_usec(void);

/* Sleeps usec microseconds, also across signals. */
void plugin_sleep_usec(uint64_t usec);

/* Value of KEY in [Product <id>], or def when it is unset or empty. Timeouts
 * and booleans are read with avm_host_config_usec()/avm_host_config_bool():
 * their defaults are in the plugin's config_keys table, once. */
const char *plugin_cfg(AvmHost *host, const char *key, const char *def);

/* avm_host_run() that refuses truncated output. Returns 0 when the program ran
 * to an exit (see r->exit_status), else -errno after avm_host_error():
 * "Cannot run <argv[0]>: …", "<label> timed out" (only with a label), or
 * "<label>: output larger than <max_output> bytes, refusing it" (-EBADMSG).
 * label names the command in messages; NULL means argv[0]. */
int plugin_run(AvmHost *host, const char *label, const char *const argv[], const char *const env[], uint64_t timeout_usec,
               size_t max_output, AvmRunResult *r);

/* Reads the file at path, at most max bytes, into buf (size >= max + 1),
 * NUL-terminated. Returns 0, -EFBIG when it is longer, or -errno. */
int plugin_read_file(const char *path, size_t max, char *buf, size_t *ret_size);

/* Seconds since t (0 if t is in the future). */
/* A file that may name commands run as root (products.d): regular, owned by
 * root (or the worker's own user), writable by nobody else. -EPERM with why. */
int plugin_fd_trusted(int fd, char *why, size_t why_size);
int64_t plugin_age_sec(time_t t);

/* Whether age_sec exceeds avm_host_max_definitions_age_sec() (0: no limit;
 * an unknown age, -1, is not too old): the same limit the daemon applies. */
bool plugin_definitions_too_old(AvmHost *host, int64_t age_sec);

/* ---- plugin-text.c: no host services ---- */

/* 0 if out is size bytes of bounded text, else -EBADMSG: not NULL, at most
 * max bytes, no NUL and no control bytes but \t \r \n, lines of at most
 * line_max bytes (0: any length), not empty unless allow_empty. */
int plugin_text_check(const char *out, size_t size, size_t max, size_t line_max, bool allow_empty);

/* Iterates over the lines of NUL-terminated text: returns 1 and the line
 * (without "\n" and trailing blanks/"\r") and advances *p, or 0 at the end. */
int plugin_text_next_line(const char **p, const char **ret_line, size_t *ret_len);

/* Whether line is "<blanks>KEY<blanks>SEP<blanks>VALUE": then *ret_value /
 * *ret_value_len is VALUE (trailing blanks already cut by next_line). */
bool plugin_text_kv(const char *line, size_t len, const char *key, char sep, const char **ret_value, size_t *ret_value_len);

/* Copies line (len bytes) into buf for an error message, control bytes as '?'. */
void plugin_text_quote(const char *line, size_t len, char *buf, size_t size);

/* Where a vendor-output parser gave up: line 0 means "something expected is
 * missing" (then text says what), else the 1-based line and its text. */
typedef struct PluginParseError {
        unsigned line;
        char text[120];
} PluginParseError;

/* Fills err (may be NULL) and returns -EBADMSG. */
int plugin_parse_fail(PluginParseError *err, unsigned line, const char *text, size_t len);
