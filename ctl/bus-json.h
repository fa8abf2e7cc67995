/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* D-Bus message contents → json-c values, and reading them back. Every
 * verb prints what it got from the bus with --json, so converting once,
 * generically, keeps the JSON output and the human output in step. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "macro.h"

static inline void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Read one complete value: dictionaries become objects, arrays and structs
 * become arrays, variants their content. */
int json_from_bus(sd_bus_message *m, json_object **ret);

/* [[a, b, ...], ...] → [{names[0]: a, names[1]: b, ...}, ...] */
json_object *tuples_to_objects(json_object *tuples, const char *const *names, size_t n_names);

/* Parse the JSON text a method returned; keep it as a string if it is not JSON. */
json_object *parse_json_text(const char *text);

/* A member of an object, or "", 0, false if it is missing. */
const char *prop_str(json_object *o, const char *key);
uint64_t prop_u64(json_object *o, const char *key);
bool prop_bool(json_object *o, const char *key);
