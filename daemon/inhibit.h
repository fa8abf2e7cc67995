/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* A logind "shutdown:sleep" block lock held during the handover, so the
 * machine is not suspended or powered off between stopping one product's
 * protection and verifying the other's.
 *
 * Asked for asynchronously (the event loop of the bus never waits for
 * logind). Returns at once a handle: an fd (O_CLOEXEC) that stands for the
 * lock; close() it to release the lock, whether logind answered yet or not
 * (a later answer is then dropped). Without logind (tests) the handle holds
 * nothing and the handover goes on without a lock. -errno if the request
 * could not even be sent (no bus, or the bus has no event loop). */
int inhibit_take(sd_bus *bus, const char *why);
