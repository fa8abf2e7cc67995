/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* What the daemon knows of the products: learnt from avmigrate-worker's
 * detection (the daemon itself never loads vendor plugins). */

typedef struct ProductInfo {
        char id[64];
        char name[128];        /* the plugin's product name */
        uint32_t capabilities; /* AVM_CAP_* */

        bool detected; /* detect ran at least once */
        bool installed;
        char version[64];
        bool realtime;
        bool healthy;
} ProductInfo;

typedef struct ProductList {
        ProductInfo *items;
        size_t n;
} ProductList;

ProductInfo *products_find(ProductList *l, const char *id);
void products_done(ProductList *l);
/* Replaces l with the "products" array of a detection result: entries that
 * are not objects or lack a valid id are skipped; strings are bounded and
 * made valid UTF-8. -EBADMSG if data has no such array (l unchanged). */
int products_from_detection(ProductList *l, json_object *data);
/* The detection worker's side: one entry. */
json_object *products_entry_json(const char *id, const char *name, uint32_t capabilities, bool detected, bool installed,
                                 const char *version, bool realtime, bool healthy);
