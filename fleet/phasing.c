/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

#include "phasing.h"

#define BUCKETS 10000u

bool fleet_machine_id_valid(const char *machine_id) {
        return machine_id && strlen(machine_id) == FLEET_MACHINE_ID_LEN &&
                strspn(machine_id, "0123456789abcdef") == FLEET_MACHINE_ID_LEN;
}

int fleet_phase_bucket(const char *salt, const char *machine_id) {
        uint8_t buf[FLEET_PHASE_SALT_MAX + FLEET_MACHINE_ID_LEN], md[EVP_MAX_MD_SIZE];
        size_t n = salt ? strlen(salt) : SIZE_MAX;
        uint64_t v = 0;

        if (n > FLEET_PHASE_SALT_MAX || !fleet_machine_id_valid(machine_id))
                return -EINVAL;
        memcpy(buf, salt, n);
        memcpy(buf + n, machine_id, FLEET_MACHINE_ID_LEN);
        if (EVP_Digest(buf, n + FLEET_MACHINE_ID_LEN, md, NULL, EVP_sha256(), NULL) != 1)
                return -EIO;
        for (int i = 0; i < 8; i++)
                v = v << 8 | md[i];
        return (int) (v % BUCKETS);
}

bool fleet_phase_eligible(const char *salt, const char *machine_id, unsigned percentage_bp) {
        int b = fleet_phase_bucket(salt, machine_id);

        return b >= 0 && (unsigned) b < percentage_bp;
}

int fleet_phase_wave(const char *salt, const char *machine_id) {
        int b = fleet_phase_bucket(salt, machine_id);

        return b < 0 ? b : b + 1;
}
