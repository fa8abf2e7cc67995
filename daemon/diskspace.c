/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "diskspace.h"

#define DISK_SPACE_MAX_PATHS 16

const char *const disk_space_default_paths[] = { "/", "/var", "/opt", NULL };

/* stat() of path, or of its nearest existing parent: the file system a
 * directory created there later would be on. */
static int stat_existing(const char *path, char *buf, size_t size, struct stat *st) {
        if (snprintf(buf, size, "%s", path) >= (int) size || buf[0] != '/')
                return -EINVAL;
        for (;;) {
                char *slash;

                if (stat(buf, st) >= 0)
                        return 0;
                if (errno != ENOENT && errno != ENOTDIR)
                        return -errno;
                slash = strrchr(buf, '/');
                if (!slash || slash == buf) {
                        buf[1] = 0; /* "/" always exists, unless something is badly wrong */
                        return stat(buf, st) < 0 ? -errno : 0;
                }
                *slash = 0;
        }
}

static int check_one(const char *path, uint64_t min_mb, char *why, size_t why_size) {
        struct statvfs sv;
        uint64_t avail_mb;

        if (statvfs(path, &sv) < 0) {
                int r = -errno;
                snprintf(why, why_size, "cannot query free disk space on %s: %s", path, strerror(-r));
                return r;
        }
        avail_mb = (uint64_t) sv.f_bavail * sv.f_frsize / (1024 * 1024);
        if (avail_mb < min_mb) {
                snprintf(why, why_size, "only %" PRIu64 " MB free on %s, %" PRIu64 " MB required", avail_mb, path, min_mb);
                return -ENOSPC;
        }
        return 0;
}

int disk_space_check(const char *const *paths, uint64_t min_mb, char *why, size_t why_size) {
        dev_t seen[DISK_SPACE_MAX_PATHS];
        size_t n_seen = 0;

        if (min_mb == 0 || !paths)
                return 0;
        for (size_t i = 0; paths[i] && n_seen < DISK_SPACE_MAX_PATHS; i++) {
                char existing[PATH_MAX];
                struct stat st;
                bool dup = false;
                int r;

                r = stat_existing(paths[i], existing, sizeof(existing), &st);
                if (r < 0) {
                        snprintf(why, why_size, "cannot query free disk space on %s: %s", paths[i], strerror(-r));
                        return r;
                }
                for (size_t j = 0; j < n_seen; j++)
                        dup = dup || seen[j] == st.st_dev;
                if (dup)
                        continue;
                seen[n_seen++] = st.st_dev;
                /* A missing path was measured at its parent: say which path it stands for. */
                r = check_one(existing, min_mb, why, why_size);
                if (r == -ENOSPC && strcmp(existing, paths[i]) != 0)
                        snprintf(why + strlen(why), why_size - strlen(why), " (for %s)", paths[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}
