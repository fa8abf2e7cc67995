/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "host.h"

/* One loaded plugin and what the daemon last learnt about its product. */
typedef struct Product {
        const AvmPlugin *plugin; /* &abi */
        AvmPlugin abi;           /* the plugin's avm_plugin, read up to its struct_size */
        void *dl;
        AvmHost host;

        bool detected; /* detect ran at least once */
        bool installed;
        char version[64];
        bool realtime;
        bool healthy;
} Product;

typedef struct ProductSet {
        Product *items;
        size_t n;
} ProductSet;

/* Loads every *.so of dir. Unsafe or mismatched files are refused with a log
 * line saying why and skipped; the rest still load. Then checks the
 * [Product <id>] sections of config against the loaded plugins' declared keys:
 * an unknown key or a bad value fails the whole load (-EINVAL, logged with
 * file and line). */
int plugins_load(const char *dir, const AvmConfig *config, ProductSet *ret);
/* Why plugins_load() refused the configuration (-EINVAL), "FILE:LINE: why". */
const char *plugins_config_error(void);
/* Loads only <dir>/<id>.so for each id (a plugin's file is named after its
 * id): a worker loads just the products its job involves. Missing or refused
 * plugins are logged and left out. */
int plugins_load_ids(const char *dir, const AvmConfig *config, const char *const *ids, ProductSet *ret);
void plugins_unload(ProductSet *set);
static inline void plugins_unloadp(ProductSet *set) {
        plugins_unload(set);
}
Product *plugins_find(ProductSet *set, const char *id);
/* Checks the AvmPlugin a plugin exports against this build's ABI and copies
 * it into *ret: only the struct_size bytes the plugin declares are read, the
 * fields past them stay NULL/0 (a plugin built against an older header of the
 * same major version). Returns 0, or -EPROTO/-EINVAL with why (one phrase,
 * for "Refusing plugin X: why."). */
int plugin_abi_import(const AvmPlugin *p, AvmPlugin *ret, char *why, size_t why_size);
/* Checks one file the way the loader does; returns 0 or -errno with why. */
int plugin_check_file(const char *path, char *why, size_t why_size);
const char *plugin_dir(void);
