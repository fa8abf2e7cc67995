/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Asynchronous authorization through polkit's D-Bus API. Root callers skip
 * polkit. The callback gets the original message and whether the caller may
 * proceed; when it may not, error explains why (PermissionDenied or
 * InteractiveAuthorizationRequired). */

typedef void (*PolkitCallback)(sd_bus_message *m, void *userdata, bool allowed, const sd_bus_error *error);

/* Returns 0 when the answer will come through cb (perhaps already did),
 * -errno if the check could not be started. */
int polkit_check(sd_bus_message *m, const char *action, PolkitCallback cb, void *userdata);
