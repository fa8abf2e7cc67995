/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The daemon's D-Bus names, and the calls to its Manager object that more
 * than one verb makes. */

#include <stdint.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "time-util.h"

#define BUS_NAME "org.avmigrate.Migrate1"
#define OBJECT_PATH "/org/avmigrate/Migrate1"
#define MANAGER_INTERFACE "org.avmigrate.Migrate1.Manager"
#define ERROR_PREFIX "org.avmigrate.Migrate1.Error."
#define DBUS_ERROR_PREFIX "org.freedesktop.DBus.Error."
#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"

/* Generous: a call may wait for a polkit agent or a manifest download. */
#define CALL_TIMEOUT_USEC (120 * USEC_PER_SEC)

/* Calls a Manager method; types and the arguments after it as for
 * sd_bus_message_append(), or NULL for none. */
int call_manager(sd_bus *bus, const char *method, sd_bus_error *error, sd_bus_message **reply, const char *types, ...);

/* All Manager properties as one JSON object, Products as objects. */
int get_all_properties(sd_bus *bus, sd_bus_error *error, json_object **ret);

/* The Products property's tuples as objects with named fields. */
json_object *products_to_objects(json_object *tuples);

/* "discouraged", "replacement" or "", from the properties. */
const char *product_role(json_object *props, const char *id);

/* GetReport of a job (0: the most recent one), parsed. */
int get_report(sd_bus *bus, uint64_t id, sd_bus_error *error, json_object **ret);
