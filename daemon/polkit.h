/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Asynchronous authorization through polkit's D-Bus API. Root callers skip
 * polkit. The callback gets the original message and whether the caller may
 * proceed; when it may not, error explains why (PermissionDenied or
 * InteractiveAuthorizationRequired; org.freedesktop.DBus.Error.
 * LimitsExceeded at once when too many checks are in flight).
 *
 * Checks in flight are bounded, so that one caller waiting for polkit (or
 * flooding it) cannot hold everyone else's authorization: at most
 * POLKIT_CHECKS_PER_SENDER_MAX per connection, POLKIT_CHECKS_PER_UID_MAX per
 * user, POLKIT_CHECKS_MAX in all. A caller that disconnects has its pending
 * checks dropped (the callback gets PermissionDenied). A check without
 * interactive authorization times out after 30 s, one with it after 5
 * minutes. */

#define POLKIT_CHECKS_PER_SENDER_MAX 8u
#define POLKIT_CHECKS_PER_UID_MAX 16u
#define POLKIT_CHECKS_MAX 64u

typedef void (*PolkitCallback)(sd_bus_message *m, void *userdata, bool allowed, const sd_bus_error *error);

/* Returns 0 when the answer will come through cb (perhaps already did),
 * -errno if the check could not be started. */
int polkit_check(sd_bus_message *m, const char *action, PolkitCallback cb, void *userdata);

unsigned polkit_checks_in_flight(void);
/* Answers every pending check with PermissionDenied and cancels it with
 * polkit: at shutdown, before the bus is closed, so that no request (and no
 * reference to the bus) is left behind. */
void polkit_cancel_all(void);
