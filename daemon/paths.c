/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>

#include "config.h"
#include "paths.h"
#include "util.h"

const char *state_dir(void) {
        static char buf[PATH_MAX];
        return env_dir("STATE_DIRECTORY", AVM_STATE_DIR, buf, sizeof(buf));
}

const char *cache_dir(void) {
        static char buf[PATH_MAX];
        return env_dir("CACHE_DIRECTORY", AVM_CACHE_DIR, buf, sizeof(buf));
}

int state_path(char *buf, size_t size, const char *name) {
        int r = snprintf(buf, size, "%s/%s", state_dir(), name);
        if (r < 0 || (size_t) r >= size)
                return -ENAMETOOLONG;
        return 0;
}
