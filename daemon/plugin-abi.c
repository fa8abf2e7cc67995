/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "plugin-abi.h"
#include "util.h"

static int check_version(const AvmPlugin *p, char *why, size_t why_size) {
        if (p->api_version != AVM_PLUGIN_API_VERSION) {
                snprintf(why, why_size, "ABI version %u, this daemon speaks %u (rebuild it against this avmigrate-plugin)",
                         p->api_version, AVM_PLUGIN_API_VERSION);
                return -EPROTO;
        }
        /* Smaller than the first version-2 layout: not a version-2 plugin,
         * whatever it claims. Larger than ours: built against a newer header
         * of the same major version; the fields we do not know are optional
         * by the ABI's rule, so reading our part is enough. */
        if (p->struct_size < AVM_PLUGIN_STRUCT_SIZE_MIN_V2) {
                snprintf(why, why_size, "plugin structure too small (%u < %zu bytes)", p->struct_size,
                         (size_t) AVM_PLUGIN_STRUCT_SIZE_MIN_V2);
                return -EPROTO;
        }
        return 0;
}

/* A capability is a promise the engine relies on when it plans a job; one
 * without the operation behind it would fail halfway through a migration. */
static int check_operations(const AvmPlugin *p, char *why, size_t why_size) {
        if (!string_is_safe_id(p->id)) {
                snprintf(why, why_size, "invalid id");
                return -EINVAL;
        }
        if (!p->detect || !p->status) {
                snprintf(why, why_size, "missing detect or status operation");
                return -EINVAL;
        }
        if ((p->capabilities & AVM_CAP_INSTALL) && !p->install) {
                snprintf(why, why_size, "declares AVM_CAP_INSTALL without an install operation");
                return -EINVAL;
        }
        if ((p->capabilities & AVM_CAP_UNINSTALL) && !p->uninstall) {
                snprintf(why, why_size, "declares AVM_CAP_UNINSTALL without an uninstall operation");
                return -EINVAL;
        }
        for (const AvmConfigKey *k = p->config_keys; k && k->name; k++)
                if (k->type == AVM_CONFIG_ENUM && !k->choices) {
                        snprintf(why, why_size, "configuration key %.64s is an enum without choices", k->name);
                        return -EINVAL;
                }
        return 0;
}

int plugin_abi_import(const AvmPlugin *p, AvmPlugin *ret, char *why, size_t why_size) {
        AvmPlugin copy = {};
        int r;

        r = check_version(p, why, why_size);
        if (r < 0)
                return r;
        memcpy(&copy, p, p->struct_size < sizeof(copy) ? p->struct_size : sizeof(copy));
        copy.struct_size = sizeof(copy);
        r = check_operations(&copy, why, why_size);
        if (r < 0)
                return r;
        *ret = copy;
        return 0;
}
