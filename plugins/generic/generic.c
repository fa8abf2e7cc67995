/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A product described declaratively in products.d/<name>.conf. The .so is
 * the plugin "generic"; [Product generic] Product=<name> picks the file.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <avmigrate/plugin.h>

#include "generic-conf.h"
#include "plugin-util.h"

#define OUTPUT_MAX (64 * 1024)
#define DEFAULT_PRODUCTS_DIR "/etc/avmigrate/products.d"

static int products_dir(char *buf, size_t size) {
        const char *e = getenv("AVMIGRATE_PRODUCTS_DIR");
        const char *cd = getenv("CONFIGURATION_DIRECTORY");

        if (e && *e)
                return snprintf(buf, size, "%s", e) < (int) size ? 0 : -ENAMETOOLONG;
        if (cd && *cd) {
                size_t l = strcspn(cd, ":");
                return snprintf(buf, size, "%.*s/products.d", (int) l, cd) < (int) size ? 0 : -ENAMETOOLONG;
        }
        snprintf(buf, size, "%s", DEFAULT_PRODUCTS_DIR);
        return 0;
}

static int load(AvmHost *host, GenericProduct *p) {
        const char *name = avm_host_config(host, "Product");
        char dir[PATH_MAX], path[PATH_MAX], err[256];
        char *text;
        ssize_t n;
        int fd, r;

        if (!generic_name_valid(name)) {
                avm_host_error(host, "[Product generic] Product= is missing or not a valid name ([a-z0-9._-])");
                return -EINVAL;
        }
        r = products_dir(dir, sizeof dir);
        if (r < 0)
                return r;
        if (snprintf(path, sizeof path, "%s/%s.conf", dir, name) >= (int) sizeof path)
                return -ENAMETOOLONG;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = -errno;
                avm_host_error(host, "Cannot open product description %s: %s", path, strerror(-r));
                return r;
        }
        /* It names commands run as root: as trustworthy as a plugin, or unread. */
        r = plugin_fd_trusted(fd, err, sizeof err);
        if (r < 0) {
                close(fd);
                avm_host_error(host, "Refusing product description %s: %s", path, err);
                return r;
        }
        text = malloc(GENERIC_CONF_MAX + 2);
        if (!text) {
                close(fd);
                return -ENOMEM;
        }
        n = read(fd, text, GENERIC_CONF_MAX + 1);
        close(fd);
        if (n < 0 || n > GENERIC_CONF_MAX) {
                free(text);
                avm_host_error(host, "Cannot read %s, or it is larger than 64 KiB", path);
                return -EBADMSG;
        }
        text[n] = '\0';
        r = generic_conf_parse(text, (size_t) n, p, err, sizeof err);
        free(text);
        if (r < 0)
                avm_host_error(host, "Invalid product description %s: %s", path, err);
        return r;
}

/* Runs an action's command. Returns -EOPNOTSUPP when the product does not describe it. */
static int run_action(AvmHost *host, const GenericProduct *p, GenericAction a, const char *path, AvmRunResult *r) {
        const GenericCommand *c = &p->actions[a];
        char buf[GENERIC_VALUE_MAX * 2 + PATH_MAX];
        char *argv[GENERIC_ARGV_MAX + 1];
        int ret;

        if (!c->command[0])
                return -EOPNOTSUPP;
        ret = generic_split(c->command, path, buf, sizeof buf, argv, GENERIC_ARGV_MAX + 1);
        if (ret < 0) {
                avm_host_error(host, "[%s] Command= of %s cannot be split into arguments", generic_action_section(a), p->name);
                return -EINVAL;
        }
        ret = plugin_run(host, NULL, (const char *const *) argv, NULL, (c->timeout_sec ? c->timeout_sec : 300) * USEC_PER_SEC,
                         OUTPUT_MAX, r);
        if (ret < 0 && !r->truncated) /* r is untouched when the run failed */
                return ret;
        if (r->truncated || !r->output || strlen(r->output) != r->output_size) {
                avm_host_error(host, "%s: output larger than %d bytes or not text, refusing it", argv[0], OUTPUT_MAX);
                return -EBADMSG;
        }
        return 0;
}

static int run_simple(AvmHost *host, const GenericProduct *p, GenericAction a) {
        _cleanup_run_result_ AvmRunResult r = { 0 };
        const GenericCommand *c = &p->actions[a];
        int ret;

        ret = run_action(host, p, a, NULL, &r);
        if (ret < 0)
                return ret;
        if (!generic_code_in(c->ok_codes, c->n_ok, r.exit_status)) {
                avm_host_error(host, "%s: [%s] command exited with status %d", p->name, generic_action_section(a), r.exit_status);
                return -EIO;
        }
        return 0;
}

static void packages_argv(const GenericProduct *p, char *buf, size_t size, const char *names[], size_t max) {
        size_t n = 0;
        char *save = NULL;

        snprintf(buf, size, "%s", p->packages);
        for (char *t = strtok_r(buf, " \t", &save); t && n + 1 < max; t = strtok_r(NULL, " \t", &save))
                names[n++] = t;
        names[n] = NULL;
}

static int generic_detect(AvmHost *host, AvmDetection *ret) {
        _cleanup_run_result_ AvmRunResult r = { 0 };
        GenericProduct p;
        int ret2;

        *ret = (AvmDetection){ 0 };
        /* Not configured to describe any product: nothing is installed. */
        if (!avm_host_config(host, "Product"))
                return 0;
        ret2 = load(host, &p);
        if (ret2 < 0)
                return ret2;
        if (p.packages[0]) {
                char buf[GENERIC_VALUE_MAX];
                const char *names[GENERIC_ARGV_MAX];
                packages_argv(&p, buf, sizeof buf, names, GENERIC_ARGV_MAX);
                for (size_t i = 0; names[i] && !ret->installed; i++) {
                        ret2 = avm_host_package_query(host, names[i], ret->version, sizeof ret->version);
                        if (ret2 < 0)
                                return ret2;
                        ret->installed = ret2 > 0;
                }
        }
        ret2 = run_action(host, &p, GENERIC_DETECT, NULL, &r);
        if (ret2 == -EOPNOTSUPP)
                return 0;
        if (ret2 < 0)
                return ret2;
        if (generic_code_in(p.actions[GENERIC_DETECT].ok_codes, p.actions[GENERIC_DETECT].n_ok, r.exit_status)) {
                char v[64] = "";
                ret->installed = true;
                if (p.actions[GENERIC_DETECT].version_regex[0] &&
                    generic_match(p.actions[GENERIC_DETECT].version_regex, r.output, v, sizeof v) == 1 && v[0])
                        snprintf(ret->version, sizeof ret->version, "%s", v);
        }
        return 0;
}

static int generic_status(AvmHost *host, AvmStatus *ret) {
        _cleanup_run_result_ AvmRunResult r = { 0 };
        GenericProduct p;
        const GenericCommand *c;
        int ret2, unit = -1;

        *ret = (AvmStatus){ .definitions_age_sec = -1 };
        ret2 = load(host, &p);
        if (ret2 < 0)
                return ret2;
        c = &p.actions[GENERIC_STATUS];
        if (p.unit[0]) {
                unit = avm_host_unit_is_active(host, p.unit);
                if (unit < 0)
                        return unit;
        }
        ret2 = run_action(host, &p, GENERIC_STATUS, NULL, &r);
        if (ret2 == -EOPNOTSUPP) {
                /* unit-only product: active unit = running and protecting */
                ret->running = ret->realtime = ret->healthy = unit > 0;
        } else if (ret2 < 0)
                return ret2;
        else {
                bool ok = generic_code_in(c->ok_codes, c->n_ok, r.exit_status);
                ret->running = ok && unit != 0;
                ret->realtime = ok && (c->realtime_regex[0] ? generic_match(c->realtime_regex, r.output, NULL, 0) == 1 : true);
                ret->healthy = ok && (c->healthy_regex[0] ? generic_match(c->healthy_regex, r.output, NULL, 0) == 1 : true);
        }
        snprintf(ret->detail, sizeof ret->detail, "%.100s (products.d), real-time %s", p.name, ret->realtime ? "on" : "off");
        return 0;
}

static int generic_install(AvmHost *host) {
        GenericProduct p;
        int r;

        r = load(host, &p);
        if (r < 0)
                return r;
        if (p.packages[0] || avm_host_artifact(host)) {
                char buf[GENERIC_VALUE_MAX];
                const char *names[GENERIC_ARGV_MAX];
                packages_argv(&p, buf, sizeof buf, names, GENERIC_ARGV_MAX);
                r = avm_host_package_install(host, names, avm_host_artifact(host));
                if (r < 0)
                        return r;
        }
        r = run_simple(host, &p, GENERIC_INSTALL);
        if (r == -EOPNOTSUPP && !p.packages[0] && !avm_host_artifact(host)) {
                avm_host_error(host, "%s describes no way to install it ([Product] Packages= or [Install] Command=)", p.name);
                return r;
        }
        return r == -EOPNOTSUPP ? 0 : r;
}

static int generic_set_realtime(AvmHost *host, bool enable) {
        GenericProduct p;
        int r;

        r = load(host, &p);
        if (r < 0)
                return r;
        r = run_simple(host, &p, enable ? GENERIC_REALTIME_ON : GENERIC_REALTIME_OFF);
        if (r == -EOPNOTSUPP && p.unit[0])
                return avm_host_unit_control(host, p.unit, enable ? "start" : "stop");
        if (r == -EOPNOTSUPP)
                avm_host_error(host, "%s describes no [%s] command and no unit", p.name, enable ? "RealtimeOn" : "RealtimeOff");
        return r;
}

static int generic_uninstall(AvmHost *host) {
        GenericProduct p;
        int r;

        r = load(host, &p);
        if (r < 0)
                return r;
        if (p.unit[0]) {
                r = avm_host_unit_control(host, p.unit, "stop");
                if (r < 0)
                        return r;
        }
        r = run_simple(host, &p, GENERIC_UNINSTALL);
        if (r < 0 && r != -EOPNOTSUPP)
                return r;
        if (p.packages[0]) {
                char buf[GENERIC_VALUE_MAX];
                const char *names[GENERIC_ARGV_MAX];
                packages_argv(&p, buf, sizeof buf, names, GENERIC_ARGV_MAX);
                return avm_host_package_remove(host, names, true);
        }
        if (r == -EOPNOTSUPP)
                avm_host_error(host, "%s describes no way to uninstall it", p.name);
        return r;
}

static int generic_scan_file(AvmHost *host, const char *path, AvmScanResult *ret) {
        _cleanup_run_result_ AvmRunResult r = { 0 };
        const GenericCommand *c;
        GenericProduct p;
        int ret2;

        *ret = (AvmScanResult){ 0 };
        ret2 = load(host, &p);
        if (ret2 < 0)
                return ret2;
        c = &p.actions[GENERIC_SCAN];
        ret2 = run_action(host, &p, GENERIC_SCAN, path, &r);
        if (ret2 == -EOPNOTSUPP)
                avm_host_error(host, "%s describes no [Scan] command", p.name);
        if (ret2 < 0)
                return ret2;
        if (generic_code_in(c->detected_codes, c->n_detected, r.exit_status) ||
            (c->detected_regex[0] && generic_match(c->detected_regex, r.output, NULL, 0) == 1))
                ret->detected = true;
        else if (!generic_code_in(c->ok_codes, c->n_ok, r.exit_status)) {
                avm_host_error(host, "%s: scan command exited with status %d", p.name, r.exit_status);
                return -EIO;
        }
        if (ret->detected &&
            (!c->threat_regex[0] || generic_match(c->threat_regex, r.output, ret->threat, sizeof ret->threat) != 1 ||
             !ret->threat[0]))
                snprintf(ret->threat, sizeof ret->threat, "%.100s detection", p.name);
        return 0;
}

/* The ABI fixes capabilities at build time; generic declares the conservative
 * set (never overlapped with another blocking scanner). */
/* The keys of [Product generic] (plugin.h: validated before anything runs). */
static const AvmConfigKey config_keys[] = {
        { "Product", AVM_CONFIG_STRING, NULL, 0, 0, NULL }, /* the products.d/<name>.conf to use */
        {},
};

__attribute__((visibility("default"))) const AvmPlugin avm_plugin = {
        .api_version = AVM_PLUGIN_API_VERSION,
        .struct_size = sizeof(AvmPlugin),
        .id = "generic",
        .vendor = "products.d",
        .product = "Product described in products.d",
        .capabilities = AVM_CAP_ON_ACCESS | AVM_CAP_BLOCKING_FANOTIFY | AVM_CAP_INSTALL | AVM_CAP_UNINSTALL,
        .detect = generic_detect,
        .status = generic_status,
        .install = generic_install,
        .set_realtime = generic_set_realtime,
        .uninstall = generic_uninstall,
        .scan_file = generic_scan_file,
        .config_keys = config_keys,
};
