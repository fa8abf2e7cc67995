/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small helpers in the style of systemd's basic/: cleanup attributes, time,
 * bounded file I/O and atomic replacement of files. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* shared/ (libavm_shared): what the daemon, the worker, avmigratectl and the
 * agent all need — cleanup macros, µs clocks, parse_uint64(). */
#include "macro.h"
#include "parse-util.h"
#include "time-util.h"


static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

static inline int safe_close_fd(int fd) {
        if (fd >= 0)
                close(fd);
        return -EBADF;
}

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}


/* Reads at most max bytes of a file; -EFBIG if it is larger. */
int read_file_bounded(const char *path, size_t max, char **ret, size_t *ret_size);
/* Whether a file may steer the daemon: a regular file owned by root (or the
 * daemon's own user), writable by nobody else. -EPERM with why if not. */
struct stat;
int stat_trusted(const struct stat *st, char *why, size_t why_size);
/* read_file_bounded() of a file that passes stat_trusted() (checked on the
 * open descriptor: no race with a rename). */
int read_file_trusted(const char *path, size_t max, char **ret, size_t *ret_size, char *why, size_t why_size);

/* Replaces path atomically and durably: temp file, fsync, rename, fsync dir. */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);

/* Appends one line durably (O_APPEND, fsync). */
int append_line_durable(const char *path, const char *line);

int mkdir_p(const char *path, mode_t mode);

/* "Mon..Fri 18:00-23:00" style windows; see window.c. */

/* Parses a boolean the systemd way (yes/no/true/false/1/0/on/off). */
int parse_boolean(const char *v);

/* Parses seconds, optionally fractional ("0.2"), into µs. */
int parse_sec(const char *v, uint64_t *ret);


/* First path of a colon-separated $STATE_DIRECTORY-like variable, or fallback. */
const char *env_dir(const char *name, const char *fallback, char *buf, size_t size);

bool string_is_safe_id(const char *s);
