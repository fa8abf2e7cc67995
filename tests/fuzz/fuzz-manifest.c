/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fleet manifest (fleet/manifest.c): the input is a manifest document as
 * a web server or CDN would hand it over, before its schema check (the
 * signature is checked first in the daemon, but the parser must never trust
 * that). The reason string must always be set on refusal. */
#include <string.h>

#include "fuzz.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FleetManifest m;
        char reason[512] = "";
        int r;

        r = fleet_manifest_parse((const char *) data, size, &m, reason, sizeof(reason));
        if (r < 0 && !reason[0])
                __builtin_trap();
        if (r >= 0) {
                char again[512];
                (void) fleet_manifest_percentage_bp(&m, 0);
                (void) fleet_manifest_check_expiry(&m, 0, again, sizeof(again));
        }
        return 0;
}
