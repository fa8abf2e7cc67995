/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Output and errors: JSON on stdout (--json), errors on stderr in the
 * user's language and, with --json, as an English JSON object on stdout. */

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "macro.h"

void print_json(json_object *o);
void print_json_error(const char *name, const char *message);

/* "  Label: value", the layout of 'avmigratectl status'. */
void print_field(const char *label, const char *value);

/* A local (not daemon) error: a usage mistake or a failure before any call.
 * Returns the exit code. */
_printf_(2, 3) int local_error(const char *name, const char *fmt, ...);

/* Like local_error(), for a wrong command line, with a hint to --help. */
_printf_(1, 2) int usage_error(const char *fmt, ...);

/* Whether a D-Bus error is ours or the bus's with this short name. */
bool error_is(const sd_bus_error *e, const char *short_name);

/* Report a failed call (error set by sd-bus or the daemon, or a bare -errno)
 * and return the exit code for it. */
int report_error(const char *what, const sd_bus_error *error, int r);
