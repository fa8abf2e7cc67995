/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* A logind "shutdown:sleep" block lock held during the handover, so the
 * machine is not suspended or powered off between stopping one product's
 * protection and verifying the other's. Returns the lock fd, or -errno when
 * logind is not there (tests) — the handover then goes on without it. */
int inhibit_take(sd_bus *bus, const char *why);
