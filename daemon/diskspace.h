/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Where installing a product writes: / (binaries, /etc, /usr), /var (where
 * dpkg/apt and rpm/dnf download and unpack, and where products keep their
 * definitions) and /opt (where vendors install). NULL-terminated. */
extern const char *const disk_space_default_paths[];

/* Checks that every file system holding one of paths (NULL-terminated) has at
 * least min_mb MiB available (f_bavail: without the blocks reserved for root,
 * the stricter count, so the check passes only if the install cannot eat
 * the reserve the rest of the desktop relies on). A path that does not exist is checked at its nearest
 * existing parent (/opt may appear only with the product). Each file system is
 * checked once (by st_dev), named by the first path on it. Returns 0,
 * -ENOSPC with why ("only 120 MiB free on /var, 500 MiB required"), or
 * another -errno with why. min_mb 0: no check. */
int disk_space_check(const char *const *paths, uint64_t min_mb, char *why, size_t why_size);
