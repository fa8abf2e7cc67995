/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The scriptable test product (tests only). Built twice: test-old (the
 * discouraged product, installed and protecting) and test-new (approved,
 * installable). Its state and its script are files in one directory:
 *
 *   installed            exists = installed; content = version
 *   realtime             exists = real-time protection on
 *   fail-<op>            <op> fails with EIO (content: optional errno number)
 *   pass-<op>            that many calls of <op> succeed before fail-<op> applies
 *   delay-<op>           <op> sleeps first (content: milliseconds)
 *   refuse-protect       set_realtime(true) "succeeds" but nothing protects
 *   blind                scan_file never detects
 *   unhealthy            status reports unhealthy
 *   scope                its on-access scope, one absolute path a line ("-/x": excluded); absent = unknown
 *   uncoverable          paths it cannot protect, one a line (can_protect fails for them and below)
 *   protected-paths      written by set_realtime(true): avm_host_protected_paths(), then
 *                        "exclude <path>" lines for avm_host_excluded_paths()
 *   ops.log              one line per operation: "<op> begin|end <result>"
 *
 * <op> is detect, status, install, set_realtime, realtime-on, realtime-off,
 * uninstall or scan_file. The directory is [Product <id>] Dir=, default the
 * plugin's state directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "avmigrate/plugin.h"

#ifndef TEST_ID
#        error "TEST_ID must be defined"
#endif

static const char *dir(AvmHost *h) {
        const char *d = avm_host_config(h, "Dir");
        return d ? d : avm_host_state_dir(h);
}

static void path_of(AvmHost *h, const char *name, char *buf, size_t size) {
        snprintf(buf, size, "%s/%s", dir(h), name);
}

static int read_small(AvmHost *h, const char *name, char *buf, size_t size) {
        char p[4096];
        int fd;
        ssize_t n;

        path_of(h, name, p, sizeof(p));
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return 0;
}

static int exists(AvmHost *h, const char *name) {
        char p[4096];
        path_of(h, name, p, sizeof(p));
        return access(p, F_OK) == 0;
}

static int write_small(AvmHost *h, const char *name, const char *content) {
        char p[4096];
        int fd;
        ssize_t n;

        path_of(h, name, p, sizeof(p));
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        n = write(fd, content, strlen(content));
        if (fsync(fd) < 0)
                n = -1;
        close(fd);
        return n < 0 ? -errno : 0;
}

static int remove_file(AvmHost *h, const char *name) {
        char p[4096];
        path_of(h, name, p, sizeof(p));
        return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
}

static void log_op(AvmHost *h, const char *op, const char *what) {
        char p[4096], line[256];
        int fd, n;

        path_of(h, "ops.log", p, sizeof(p));
        fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
                return;
        n = snprintf(line, sizeof(line), "%s %s\n", op, what);
        if (write(fd, line, (size_t) n) < 0)
                avm_host_log(h, LOG_WARNING, "cannot write ops.log");
        close(fd);
}

/* Runs the script for op: delay, then scripted failure. */
static int script(AvmHost *h, const char *op) {
        char name[64], buf[64];

        snprintf(name, sizeof(name), "delay-%s", op);
        if (read_small(h, name, buf, sizeof(buf)) >= 0) {
                long ms = strtol(buf, NULL, 10);
                struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
        snprintf(name, sizeof(name), "fail-%s", op);
        if (read_small(h, name, buf, sizeof(buf)) >= 0) {
                char pass[64], count[32];

                /* pass-<op>: that many calls succeed before the failure starts. */
                snprintf(pass, sizeof(pass), "pass-%s", op);
                if (read_small(h, pass, count, sizeof(count)) >= 0 && strtol(count, NULL, 10) > 0) {
                        snprintf(count, sizeof(count), "%ld", strtol(count, NULL, 10) - 1);
                        (void) write_small(h, pass, count);
                        return 0;
                }
                long e = strtol(buf, NULL, 10);
                avm_host_error(h, "scripted failure of %s", op);
                return -(e > 0 && e < 4096 ? (int) e : EIO);
        }
        return 0;
}

static int begin(AvmHost *h, const char *op) {
        int r;

        log_op(h, op, "begin");
        r = script(h, op);
        if (r < 0)
                log_op(h, op, "failed");
        return r;
}

static int end(AvmHost *h, const char *op, int r) {
        log_op(h, op, r < 0 ? "failed" : "end");
        return r;
}

static int test_detect(AvmHost *h, AvmDetection *ret) {
        char version[64];
        int r = script(h, "detect");

        if (r < 0)
                return r;
        ret->installed = read_small(h, "installed", version, sizeof(version)) >= 0;
        snprintf(ret->version, sizeof(ret->version), "%s", ret->installed ? version : "");
        return 0;
}

static int test_status(AvmHost *h, AvmStatus *ret) {
        int r = script(h, "status");
        bool installed = exists(h, "installed");

        if (r < 0)
                return r;
        ret->running = installed;
        ret->realtime = installed && exists(h, "realtime") && !exists(h, "refuse-protect");
        ret->healthy = installed && !exists(h, "unhealthy");
        ret->passive = installed && !ret->realtime;
        ret->definitions_age_sec = installed ? 3600 : -1;
        snprintf(ret->detail, sizeof(ret->detail), "%s",
                 !installed            ? "not installed" :
                         ret->realtime ? "protecting" :
                                         "real-time protection off");
        return 0;
}

/* An artifact (avm_host_artifact()) is "installed" by taking its first line
 * as the installed version: the tests see which file was installed. */
static int artifact_version(AvmHost *h, char *buf, size_t size) {
        const char *art = avm_host_artifact(h);
        ssize_t n;
        int fd;

        if (!art)
                return 0;
        fd = open(art, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n <= 0)
                return -EBADMSG;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return 1;
}

static int test_install(AvmHost *h) {
        char version[64] = "2.0";
        int r = begin(h, "install");

        if (r < 0)
                return r;
        avm_host_progress(h, 50, "installing");
        r = artifact_version(h, version, sizeof(version));
        if (r >= 0)
                r = write_small(h, "installed", version);
        if (r >= 0)
                r = remove_file(h, "realtime");
        return end(h, "install", r);
}

static int test_uninstall(AvmHost *h) {
        int r = begin(h, "uninstall");

        if (r < 0)
                return r;
        r = remove_file(h, "realtime");
        if (r >= 0)
                r = remove_file(h, "installed");
        return end(h, "uninstall", r);
}

/* What it was asked to protect: the tests read it back (scope, mutual exclusions). */
static void record_scope(AvmHost *h) {
        char text[8192] = "";
        size_t used = 0;

        for (const char *const *p = avm_host_protected_paths(h); *p && used < sizeof(text); p++)
                used += (size_t) snprintf(text + used, sizeof(text) - used, "%s\n", *p);
        for (const char *const *p = avm_host_excluded_paths(h); *p && used < sizeof(text); p++)
                used += (size_t) snprintf(text + used, sizeof(text) - used, "exclude %s\n", *p);
        (void) write_small(h, "protected-paths", text);
}

static int test_set_realtime(AvmHost *h, bool enable) {
        const char *op = enable ? "realtime-on" : "realtime-off";
        int r;

        r = begin(h, "set_realtime");
        if (r >= 0)
                r = begin(h, op);
        if (r < 0)
                return r;
        if (!exists(h, "installed")) {
                avm_host_error(h, "not installed");
                return end(h, op, -ENOENT);
        }
        r = enable ? write_small(h, "realtime", "on") : remove_file(h, "realtime");
        if (r >= 0 && enable)
                record_scope(h);
        return end(h, op, r);
}

static int test_scan_file(AvmHost *h, const char *path, AvmScanResult *ret) {
        char eicar[69], buf[128];
        int fd, r;
        ssize_t n;

        r = script(h, "scan_file");
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                avm_host_error(h, "cannot open %s: %m", path);
                return -errno;
        }
        n = read(fd, buf, sizeof(buf));
        close(fd);
        if (n < 0)
                return -errno;
        avm_eicar(eicar);
        ret->detected = exists(h, "installed") && !exists(h, "blind") && (size_t) n >= strlen(eicar) &&
                memcmp(buf, eicar, strlen(eicar)) == 0;
        snprintf(ret->threat, sizeof(ret->threat), "%s", ret->detected ? "Test-EICAR" : "");
        return 0;
}

/* Where a real product of this kind would keep its files. */
static const char *const own_paths[] = { "/opt/avmigrate-" TEST_ID, NULL };

static bool under(const char *path, const char *root) {
        size_t l = strlen(root);
        return strcmp(root, "/") == 0 || (strncmp(path, root, l) == 0 && (path[l] == '\0' || path[l] == '/'));
}

static int test_scope(AvmHost *h, AvmScope *ret) {
        char p[4096], line[AVM_SCOPE_PATH_MAX + 2];
        FILE *f;

        *ret = (AvmScope){ 0 };
        path_of(h, "scope", p, sizeof(p));
        f = fopen(p, "re");
        if (!f)
                return errno == ENOENT ? 0 : -errno;
        while (fgets(line, sizeof(line), f)) {
                bool excl = line[0] == '-';
                char *v = line + excl;

                v[strcspn(v, "\n")] = 0;
                if (v[0] != '/')
                        continue;
                if (excl && ret->n_exclude < AVM_SCOPE_MAX_PATHS)
                        snprintf(ret->exclude[ret->n_exclude++], AVM_SCOPE_PATH_MAX, "%s", v);
                else if (!excl && ret->n_include < AVM_SCOPE_MAX_PATHS)
                        snprintf(ret->include[ret->n_include++], AVM_SCOPE_PATH_MAX, "%s", v);
        }
        fclose(f);
        ret->known = ret->n_include > 0;
        snprintf(ret->source, sizeof(ret->source), "%s", p);
        return 0;
}

static int test_can_protect(AvmHost *h, const char *path) {
        char p[4096], line[AVM_SCOPE_PATH_MAX + 2];
        FILE *f;
        int r = 0;

        path_of(h, "uncoverable", p, sizeof(p));
        f = fopen(p, "re");
        if (!f)
                return 0;
        while (r == 0 && fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = 0;
                if (line[0] == '/' && under(path, line)) {
                        avm_host_error(h, "%s cannot protect %s (listed in %s)", TEST_ID, path, p);
                        r = -EOPNOTSUPP;
                }
        }
        fclose(f);
        return r;
}

/* The keys of [Product test-old] / [Product test-new]. */
static const AvmConfigKey config_keys[] = {
        { "Dir", AVM_CONFIG_PATH, NULL, 0, 0, NULL }, /* the product's state; default: the plugin's state directory */
        {},
};

__attribute__((visibility("default"))) const AvmPlugin avm_plugin = {
        .api_version = AVM_PLUGIN_API_VERSION,
        .struct_size = sizeof(AvmPlugin),
        .id = TEST_ID,
        .vendor = "avmigrate tests",
        .product = TEST_PRODUCT,
        .capabilities = TEST_CAPS,
        .detect = test_detect,
        .status = test_status,
        .install = test_install,
        .set_realtime = test_set_realtime,
        .uninstall = test_uninstall,
        .scan_file = test_scan_file,
        .scope = test_scope,
        .own_paths = own_paths,
        .can_protect = test_can_protect,
        .config_keys = config_keys,
};
