/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "products.h"
#include "utf8.h"
#include "util.h"

#define PRODUCTS_MAX 64

ProductInfo *products_find(ProductList *l, const char *id) {
        if (!id)
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i].id, id))
                        return &l->items[i];
        return NULL;
}

void products_done(ProductList *l) {
        l->items = mfree(l->items);
        l->n = 0;
}

/* Vendor text crosses into the D-Bus API here: it must be valid UTF-8 (an
 * invalid sequence becomes U+FFFD, so a version like "1.0\xff" cannot make
 * GetAll fail) and is cut on a character boundary. */
static void copy_text(char *dst, size_t size, json_object *o, const char *key) {
        json_object *v;
        const char *s = "";

        if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
                s = json_object_get_string(v);
        snprintf(dst, size, "%s", s);
        (void) utf8_sanitize(dst, size);
}

static bool get_bool(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

int products_from_detection(ProductList *l, json_object *data) {
        json_object *arr, *v;
        ProductInfo *items;
        size_t n = 0, len;

        if (!data || !json_object_object_get_ex(data, "products", &arr) || !json_object_is_type(arr, json_type_array))
                return -EBADMSG;
        len = json_object_array_length(arr);
        if (len > PRODUCTS_MAX)
                len = PRODUCTS_MAX;
        items = calloc(len ? len : 1, sizeof(ProductInfo));
        if (!items)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                json_object *e = json_object_array_get_idx(arr, i);
                ProductInfo *p = &items[n];

                if (!json_object_is_type(e, json_type_object) || !json_object_object_get_ex(e, "id", &v) ||
                    !json_object_is_type(v, json_type_string) || !string_is_safe_id(json_object_get_string(v)) ||
                    strlen(json_object_get_string(v)) >= sizeof(p->id))
                        continue;
                snprintf(p->id, sizeof(p->id), "%s", json_object_get_string(v));
                if (products_find(&(ProductList){ items, n }, p->id))
                        continue;
                copy_text(p->name, sizeof(p->name), e, "name");
                copy_text(p->version, sizeof(p->version), e, "version");
                if (json_object_object_get_ex(e, "capabilities", &v) && json_object_is_type(v, json_type_int))
                        p->capabilities = (uint32_t) json_object_get_int64(v);
                p->detected = get_bool(e, "detected");
                p->installed = get_bool(e, "installed");
                p->realtime = p->installed && get_bool(e, "realtime");
                p->healthy = get_bool(e, "healthy");
                n++;
        }
        free(l->items);
        l->items = items;
        l->n = n;
        return 0;
}

json_object *products_entry_json(const char *id, const char *name, uint32_t capabilities, bool detected, bool installed,
                                 const char *version, bool realtime, bool healthy) {
        json_object *e = json_object_new_object();

        json_object_object_add(e, "id", json_object_new_string(id));
        json_object_object_add(e, "name", json_object_new_string(name ? name : ""));
        json_object_object_add(e, "capabilities", json_object_new_int64(capabilities));
        json_object_object_add(e, "detected", json_object_new_boolean(detected));
        json_object_object_add(e, "installed", json_object_new_boolean(installed));
        json_object_object_add(e, "version", json_object_new_string(version ? version : ""));
        json_object_object_add(e, "realtime", json_object_new_boolean(realtime));
        json_object_object_add(e, "healthy", json_object_new_boolean(healthy));
        return e;
}
