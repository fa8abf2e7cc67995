/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-fetch: one artifact download the way the daemon does it, with the
 * fleet library's fleet_fetch() (TLS verified against CA, SHA-256 computed
 * while streaming and checked at the end), for bench/run to set beside
 * `curl -o FILE` + `sha256sum FILE` of the same URL.
 *
 * Usage: bench-fetch URL CA_FILE SHA256_HEX OUTPUT
 * Exit 0 when the body was written to OUTPUT and its hash matched; 1 on
 * any error (printed); 2 usage. Like curl -o, it does not fsync: the
 * comparison is of the transfer and the hash, not of the disk.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"

#define MAX_ARTIFACT_SIZE (4ULL * 1024 * 1024 * 1024)

static int parse_sha256(const char *hex, uint8_t out[32]) {
        if (strlen(hex) != 64)
                return -EINVAL;
        for (size_t i = 0; i < 32; i++) {
                unsigned v;

                if (sscanf(hex + 2 * i, "%2x", &v) != 1)
                        return -EINVAL;
                out[i] = (uint8_t) v;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        FleetFetchResult result = {};
        uint8_t sha[32];
        int fd, r;

        if (argc != 5) {
                fprintf(stderr, "Usage: bench-fetch URL CA_FILE SHA256_HEX OUTPUT\n");
                return 2;
        }
        if (parse_sha256(argv[3], sha) < 0) {
                fprintf(stderr, "bench-fetch: not a SHA-256 in hex: %s\n", argv[3]);
                return 2;
        }
        fd = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
                fprintf(stderr, "bench-fetch: cannot create %s: %m\n", argv[4]);
                return 1;
        }
        FleetFetchOptions o = {
                .url = argv[1],
                .ca_file = argv[2],
                .max_size = MAX_ARTIFACT_SIZE,
                .output_fd = fd,
                .sha256 = sha,
        };
        r = fleet_fetch(&o, &result);
        free(result.data);
        (void) close(fd);
        if (r < 0) {
                fprintf(stderr, "bench-fetch: %s: %s\n", argv[1], result.reason[0] ? result.reason : strerror(-r));
                return 1;
        }
        return 0;
}
