/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "bus-json.h"
#include "macro.h"
#include "manager.h"

static const char *const product_fields[] = { "id", "product", "version", "installed", "realtime" };

int call_manager(sd_bus *bus, const char *method, sd_bus_error *error, sd_bus_message **reply, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, method);
        if (r < 0)
                return r;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return r;
        }
        return sd_bus_call(bus, m, 0, error, reply);
}

json_object *products_to_objects(json_object *tuples) {
        return tuples_to_objects(tuples, product_fields, ELEMENTSOF(product_fields));
}

int get_all_properties(sd_bus *bus, sd_bus_error *error, json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_json_ json_object *props = NULL;
        json_object *products;
        int r;

        r = sd_bus_call_method(bus, BUS_NAME, OBJECT_PATH, PROPERTIES_INTERFACE, "GetAll", error, &reply, "s", MANAGER_INTERFACE);
        if (r < 0)
                return r;
        r = json_from_bus(reply, &props);
        if (r < 0)
                return r;
        if (!json_object_is_type(props, json_type_object))
                return -EBADMSG;

        if (json_object_object_get_ex(props, "Products", &products)) {
                json_object *p = products_to_objects(products);
                if (!p)
                        return -ENOMEM;
                json_object_object_add(props, "Products", p);
        }

        *ret = props;
        props = NULL;
        return 0;
}

const char *product_role(json_object *props, const char *id) {
        if (!*id)
                return "";
        if (strcmp(id, prop_str(props, "Discouraged")) == 0)
                return "discouraged";
        if (strcmp(id, prop_str(props, "Replacement")) == 0)
                return "replacement";
        return "";
}

int get_report(sd_bus *bus, uint64_t id, sd_bus_error *error, json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *text;
        json_object *o;
        int r;

        r = call_manager(bus, "GetReport", error, &reply, "t", id);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                return r;
        o = parse_json_text(text);
        if (!o)
                return -ENOMEM;
        *ret = o;
        return 0;
}
