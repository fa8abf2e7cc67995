/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* The last accepted manifest serial, persisted by the caller (e.g.
 * $STATE_DIRECTORY/manifest-serial) so that a replayed older manifest is
 * refused across restarts: one decimal number and a newline. */

/* 0 and *ret = 0 if the file does not exist yet; -EBADMSG if it holds anything
 * but a number (never silently reset to 0: that would reopen rollback). */
int fleet_serial_load(const char *path, uint64_t *ret);

/* Atomic and durable: temp file, fsync, rename, fsync of the directory. */
int fleet_serial_save(const char *path, uint64_t serial);
