/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* avmigrate.conf (daemon/configuration.c): the input is the content of a
 * configuration file, read by config_parse_file() through /proc/self/fd/N of
 * a memfd (the parser has no string entry point). Parsed twice onto the same
 * AvmConfig, like the shipped defaults followed by the admin's file. */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "configuration.h"
#include "fuzz.h"

static int memfd = -1;
static char memfd_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        memfd = memfd_create("fuzz-config", MFD_CLOEXEC);
        if (memfd < 0) {
                perror("memfd_create");
                abort();
        }
        /* The parser reads only files nobody else may write (a memfd is 0777). */
        if (fchmod(memfd, 0600) < 0) {
                perror("fchmod");
                abort();
        }
        snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
        return 0;
}

static void set_content(const uint8_t *data, size_t size) {
        size_t done = 0;

        if (ftruncate(memfd, 0) < 0)
                abort();
        while (done < size) {
                ssize_t k = pwrite(memfd, data + done, size - done, (off_t) done);
                if (k <= 0)
                        abort();
                done += (size_t) k;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char error[512] = "";
        AvmConfig *c;
        int r;

        set_content(data, size);
        c = config_new();
        if (!c)
                return 0;
        r = config_parse_file(c, memfd_path, error, sizeof(error));
        if (r < 0)
                FUZZ_ASSERT(error[0]);
        else
                r = config_parse_file(c, memfd_path, error, sizeof(error));
        if (r >= 0) {
                (void) config_get(c, "Manager", "Discouraged");
                (void) config_get(c, "Product clamav", "ClamdSocket");
                for (char **p = c->approved; p && *p; p++)
                        FUZZ_ASSERT(**p);
        }
        config_free(c);
        return 0;
}
