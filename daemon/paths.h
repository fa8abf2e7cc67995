/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Where the daemon keeps things; systemd's StateDirectory= etc. (or the
 * test environment) override the compiled-in locations. */
const char *state_dir(void);
const char *cache_dir(void);
/* Builds "<state_dir>/<name>" into a static-lifetime buffer of the caller. */
int state_path(char *buf, size_t size, const char *name);
