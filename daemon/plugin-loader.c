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

static bool owner_trusted(uid_t uid) {
        /* Root-owned, or owned by the user the daemon runs as (tests run it
         * unprivileged against their own build tree). */
        return uid == 0 || uid == geteuid();
}

int plugin_check_file(const char *path, char *why, size_t why_size) {
        struct stat st;

        if (lstat(path, &st) < 0) {
                snprintf(why, why_size, "cannot stat: %s", strerror(errno));
                return -errno;
        }
        if (!S_ISREG(st.st_mode)) {
                snprintf(why, why_size, "not a regular file");
                return -EPERM;
        }
        if (!owner_trusted(st.st_uid)) {
                snprintf(why, why_size, "owned by uid %u, not root", (unsigned) st.st_uid);
                return -EPERM;
        }
        if (st.st_mode & (S_IWGRP | S_IWOTH)) {
                snprintf(why, why_size, "writable by group or others (mode %04o)", (unsigned) (st.st_mode & 07777));
                return -EPERM;
        }
        return 0;
}

static int check_dir(const char *dir) {
        struct stat st;

        if (stat(dir, &st) < 0)
                return log_error_errno(errno, "Plugin directory %s: %m", dir);
        if (!owner_trusted(st.st_uid) || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
                log_error("Plugin directory %s is not owned by root or is writable by others; loading nothing.", dir);
                return -EPERM;
        }
        return 0;
}

static int load_one(const char *path, const AvmConfig *config, ProductSet *set) {
        char why[256];
        const AvmPlugin *p;
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
        if (p->api_version != AVM_PLUGIN_API_VERSION) {
                log_error("Refusing plugin %s: ABI version %u, this daemon speaks %u.", path, p->api_version,
                          AVM_PLUGIN_API_VERSION);
                goto refuse;
        }
        if (p->struct_size < sizeof(AvmPlugin)) {
                log_error("Refusing plugin %s: plugin structure too small (%u < %zu).", path, p->struct_size, sizeof(AvmPlugin));
                goto refuse;
        }
        if (!string_is_safe_id(p->id) || !p->detect || !p->status) {
                log_error("Refusing plugin %s: invalid id or missing detect/status operations.", path);
                goto refuse;
        }
        if (plugins_find(set, p->id)) {
                log_error("Refusing plugin %s: another plugin already provides '%s'.", path, p->id);
                goto refuse;
        }
        if (set->n >= MAX_PLUGINS) {
                log_error("Refusing plugin %s: more than %d plugins.", path, MAX_PLUGINS);
                goto refuse;
        }

        pr = &set->items[set->n++];
        *pr = (Product){
                .plugin = p,
                .dl = dl,
                .host = { .plugin = p, .config = config, .progress_fd = -1 },
        };
        log_debug("Loaded plugin %s (%s %s) from %s.", p->id, p->vendor ? p->vendor : "", p->product ? p->product : "", path);
        return 0;

refuse:
        dlclose(dl);
        return -EPERM;
}

static int so_filter(const struct dirent *d) {
        size_t n = strlen(d->d_name);
        return d->d_name[0] != '.' && n > 3 && streq(d->d_name + n - 3, ".so");
}

int plugins_load(const char *dir, const AvmConfig *config, ProductSet *ret) {
        struct dirent **list = NULL;
        ProductSet set = {};
        int n, r;

        r = check_dir(dir);
        if (r < 0)
                return r;
        set.items = calloc(MAX_PLUGINS, sizeof(Product));
        if (!set.items)
                return -ENOMEM;

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
        *ret = set;
        return 0;
}

int plugins_load_ids(const char *dir, const AvmConfig *config, const char *const *ids, ProductSet *ret) {
        ProductSet set = {};
        int r;

        r = check_dir(dir);
        if (r < 0)
                return r;
        set.items = calloc(MAX_PLUGINS, sizeof(Product));
        if (!set.items)
                return -ENOMEM;
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
