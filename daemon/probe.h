/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "avmigrate/plugin.h"

/* Detection tests. Both run inside a worker. */

/* On-demand: the product's own scanner must flag an EICAR file.
 * Returns 1 detected, 0 not detected, -errno if the scan failed. */
int probe_on_demand(AvmHost *host, const AvmPlugin *p, char *threat, size_t threat_size);

/* On-access: writes EICAR into the probe directory and reads it back;
 * returns 1 if reading was denied (protection works), 0 if the content
 * could be read, -errno on other errors. */
int probe_on_access(const char *probe_dir);
