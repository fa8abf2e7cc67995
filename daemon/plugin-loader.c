/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "log.h"
#include "plugin-loader.h"
#include "util.h"

#define MAX_PLUGINS 64

const char *plugin_dir(void) {
        static char buf[PATH_MAX];
        return env_dir("AVMIGRATE_PLUGIN_DIR", AVM_PLUGIN_DIR, buf, sizeof(buf));
}

static int check_version(const AvmPlugin *p, char *why, size_t why_size) {
        if (p->api_version != AVM_PLUGIN_API_VERSION) {
                snprintf(why, why_size, "ABI version %u, this daemon speaks %u (rebuild it against this avmigrate-plugin)",
                         p->api_version, AVM_PLUGIN_API_VERSION);
                return -EPROTO;
        }
        /* Smaller than the first version-2 layout: not a version-2 plugin,
         * whatever it claims. Larger than ours: built against a newer header
         * of the same major version; the fields we do not know are optional
         * by the ABI's rule, so reading our part is enough. */
        if (p->struct_size < AVM_PLUGIN_STRUCT_SIZE_MIN_V2) {
                snprintf(why, why_size, "plugin structure too small (%u < %zu bytes)", p->struct_size,
                         (size_t) AVM_PLUGIN_STRUCT_SIZE_MIN_V2);
                return -EPROTO;
        }
        return 0;
}

/* A capability is a promise the engine relies on when it plans a job; one
 * without the operation behind it would fail halfway through a migration. */
static int check_operations(const AvmPlugin *p, char *why, size_t why_size) {
        if (!string_is_safe_id(p->id)) {
                snprintf(why, why_size, "invalid id");
                return -EINVAL;
        }
        if (!p->detect || !p->status) {
                snprintf(why, why_size, "missing detect or status operation");
                return -EINVAL;
        }
        if ((p->capabilities & AVM_CAP_INSTALL) && !p->install) {
                snprintf(why, why_size, "declares AVM_CAP_INSTALL without an install operation");
                return -EINVAL;
        }
        if ((p->capabilities & AVM_CAP_UNINSTALL) && !p->uninstall) {
                snprintf(why, why_size, "declares AVM_CAP_UNINSTALL without an uninstall operation");
                return -EINVAL;
        }
        for (const AvmConfigKey *k = p->config_keys; k && k->name; k++)
                if (k->type == AVM_CONFIG_ENUM && !k->choices) {
                        snprintf(why, why_size, "configuration key %.64s is an enum without choices", k->name);
                        return -EINVAL;
                }
        return 0;
}

int plugin_abi_import(const AvmPlugin *p, AvmPlugin *ret, char *why, size_t why_size) {
        AvmPlugin copy = {};
        int r;

        r = check_version(p, why, why_size);
        if (r < 0)
                return r;
        memcpy(&copy, p, p->struct_size < sizeof(copy) ? p->struct_size : sizeof(copy));
        copy.struct_size = sizeof(copy);
        r = check_operations(&copy, why, why_size);
        if (r < 0)
                return r;
        *ret = copy;
        return 0;
}

int plugin_check_file(const char *path, char *why, size_t why_size) {
        struct stat st;

        if (lstat(path, &st) < 0) {
                snprintf(why, why_size, "cannot stat: %s", strerror(errno));
                return -errno;
        }
        return stat_trusted(&st, why, why_size);
}

static int check_dir(const char *dir) {
        struct stat st;

        if (stat(dir, &st) < 0)
                return log_error_errno(errno, "Plugin directory %s: %m", dir);
        if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
                log_error("Plugin directory %s is not owned by root or is writable by others; loading nothing.", dir);
                return -EPERM;
        }
        return 0;
}

static int load_one(const char *path, const AvmConfig *config, ProductSet *set) {
        char why[256];
        const AvmPlugin *p;
        AvmPlugin abi;
        void *dl;
        Product *pr;

        if (plugin_check_file(path, why, sizeof(why)) < 0) {
                log_error("Refusing plugin %s: %s.", path, why);
                return -EPERM;
        }
        dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!dl) {
                log_error("Refusing plugin %s: %s", path, dlerror());
                return -ENOEXEC;
        }
        p = dlsym(dl, "avm_plugin");
        if (!p) {
                log_error("Refusing plugin %s: it exports no avm_plugin symbol.", path);
                goto refuse;
        }
        if (plugin_abi_import(p, &abi, why, sizeof(why)) < 0) {
                log_error("Refusing plugin %s: %s.", path, why);
                goto refuse;
        }
        if (plugins_find(set, abi.id)) {
                log_error("Refusing plugin %s: another plugin already provides '%s'.", path, abi.id);
                goto refuse;
        }
        if (set->n >= MAX_PLUGINS) {
                log_error("Refusing plugin %s: more than %d plugins.", path, MAX_PLUGINS);
                goto refuse;
        }

        /* The daemon uses its own copy, cut to what the plugin declared
         * (struct_size), never the plugin's structure itself. */
        pr = &set->items[set->n++];
        *pr = (Product){
                .abi = abi,
                .dl = dl,
                .host = { .config = config, .progress_fd = -1 },
        };
        pr->plugin = pr->host.plugin = &pr->abi;
        log_debug("Loaded plugin %s (%s %s) from %s.", abi.id, abi.vendor ? abi.vendor : "", abi.product ? abi.product : "", path);
        return 0;

refuse:
        dlclose(dl);
        return -EPERM;
}

/* A wrong [Product <id>] key stops everything, rather than the plugin alone:
 * a product whose plugin is left out would look "not installed", and a
 * desktop still running the discouraged product would report "idle" to its
 * fleet. Refusing to start keeps the machine exactly as it is and shows the
 * file and line in `systemctl status`, as a bad [Manager] key does. */
static char config_error[512];

const char *plugins_config_error(void) {
        return config_error;
}

static int validate_config(const ProductSet *set, const AvmConfig *config) {
        const AvmPlugin *plugins[MAX_PLUGINS];

        for (size_t i = 0; i < set->n; i++)
                plugins[i] = set->items[i].plugin;
        config_error[0] = 0;
        if (config_validate_products(config, plugins, set->n, config_error, sizeof(config_error)) < 0) {
                log_error("Invalid configuration: %s", config_error);
                return -EINVAL;
        }
        return 0;
}

static int so_filter(const struct dirent *d) {
        size_t n = strlen(d->d_name);
        return d->d_name[0] != '.' && n > 3 && streq(d->d_name + n - 3, ".so");
}

/* An empty set for the plugins of dir, once dir passed its checks. */
static int set_new(const char *dir, ProductSet *ret) {
        int r = check_dir(dir);

        if (r < 0)
                return r;
        *ret = (ProductSet){ .items = calloc(MAX_PLUGINS, sizeof(Product)) };
        return ret->items ? 0 : -ENOMEM;
}

int plugins_load(const char *dir, const AvmConfig *config, ProductSet *ret) {
        struct dirent **list = NULL;
        ProductSet set = {};
        int n, r;

        r = set_new(dir, &set);
        if (r < 0)
                return r;

        n = scandir(dir, &list, so_filter, alphasort);
        if (n < 0) {
                free(set.items);
                return log_error_errno(errno, "Cannot list plugin directory %s: %m", dir);
        }
        for (int i = 0; i < n; i++) {
                char path[PATH_MAX];

                snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
                (void) load_one(path, config, &set);
                free(list[i]);
        }
        free(list);
        r = validate_config(&set, config);
        if (r < 0) {
                plugins_unload(&set);
                return r;
        }
        *ret = set;
        return 0;
}

int plugins_load_ids(const char *dir, const AvmConfig *config, const char *const *ids, ProductSet *ret) {
        ProductSet set = {};
        int r;

        r = set_new(dir, &set);
        if (r < 0)
                return r;
        for (size_t i = 0; ids && ids[i]; i++) {
                char path[PATH_MAX];

                if (!string_is_safe_id(ids[i]) || plugins_find(&set, ids[i]))
                        continue;
                snprintf(path, sizeof(path), "%s/%s.so", dir, ids[i]);
                if (load_one(path, config, &set) >= 0 && !streq(set.items[set.n - 1].plugin->id, ids[i])) {
                        log_error("Refusing plugin %s: it provides '%s', not '%s'.", path, set.items[set.n - 1].plugin->id, ids[i]);
                        dlclose(set.items[--set.n].dl);
                }
        }
        /* Not validate_config(): restoring protection (restore, rollback) must
         * not depend on a typo in a product section. Detection loads every
         * plugin and validates, and the daemon starts no job on a
         * configuration it refused. */
        *ret = set;
        return 0;
}

void plugins_unload(ProductSet *set) {
        for (size_t i = 0; i < set->n; i++) {
                free(set->items[i].host.state_dir);
                free(set->items[i].host.probe_dir);
                free(set->items[i].host.artifact);
                dlclose(set->items[i].dl);
        }
        free(set->items);
        *set = (ProductSet){};
}

Product *plugins_find(ProductSet *set, const char *id) {
        if (!id)
                return NULL;
        for (size_t i = 0; i < set->n; i++)
                if (streq(set->items[i].plugin->id, id))
                        return &set->items[i];
        return NULL;
}
