/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bus-json.h"
#include "ctl.h"
#include "i18n.h"
#include "macro.h"
#include "manager.h"
#include "output.h"
#include "table.h"
#include "verbs.h"

int verb_products(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_json_ json_object *props = NULL;
        json_object *products = NULL;
        size_t n, w_id = strlen("ID"), w_name = strlen("PRODUCT"), w_ver = strlen("VERSION");
        int r;

        r = get_all_properties(bus, &error, &props);
        if (r < 0)
                return report_error("GetAll", &error, r);
        if (!json_object_object_get_ex(props, "Products", &products) || !json_object_is_type(products, json_type_array))
                return report_error("GetAll", NULL, -EBADMSG);
        n = json_object_array_length(products);

        /* The role comes from Discouraged/Replacement, which is handy in scripts too. */
        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_array_get_idx(products, i);
                const char *role = product_role(props, prop_str(p, "id"));

                json_object_object_add(p, "role", json_object_new_string(role));
                w_id = max_size(w_id, strlen(prop_str(p, "id")));
                w_name = max_size(w_name, strlen(prop_str(p, "product")));
                w_ver = max_size(w_ver, strlen(prop_str(p, "version")));
        }

        if (arg_json) {
                print_json(products);
                return EXIT_OK;
        }
        if (n == 0) {
                puts(_("No products configured."));
                return EXIT_OK;
        }
        printf("%-*s  %-*s  %-*s  %-9s  %-9s  %s\n", (int) w_id, "ID", (int) w_name, "PRODUCT", (int) w_ver, "VERSION",
               "INSTALLED", "REALTIME", "ROLE");
        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_array_get_idx(products, i);
                const char *version = prop_str(p, "version"), *role = prop_str(p, "role");

                printf("%-*s  %-*s  %-*s  %-9s  %-9s  %s\n", (int) w_id, prop_str(p, "id"), (int) w_name, prop_str(p, "product"),
                       (int) w_ver, *version ? version : "-", prop_bool(p, "installed") ? "yes" : "no",
                       prop_bool(p, "realtime") ? "on" : "off", *role ? role : "-");
        }
        return EXIT_OK;
}
