/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sophos Protection for Linux (SPL), from what vendors.md §4.2 records.
 * Details marked [INF] in README.md are inferred and logged when used.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <avmigrate/plugin.h>

#include "plugin-util.h"
#include "sophos-parse.h"

#define USEC_PER_SEC 1000000ULL
#define UNIT "sophos-spl.service"

static const char *const units[] = { "sophos-spl.service", "sophos-spl-update.service", "sophos-spl-diagnose.service", NULL };

/* A number of seconds in 1..86399; text after the number is ignored. */
static uint64_t timeout(AvmHost *host, const char *key, unsigned def) {
        return plugin_cfg_usec(host, key, def, 1, 86399, true);
}

static int run(AvmHost *host, const char *const argv[], uint64_t t, AvmRunResult *r) {
        return plugin_run(host, NULL, argv, NULL, t, SOPHOS_OUTPUT_MAX, r);
}

static void inferred(AvmHost *host, const char *what) {
        avm_host_log(host, LOG_NOTICE, "Sophos: %s (inferred, not documented by Sophos; see plugins/sophos-spl/README.md)", what);
}

static const char *instdir(AvmHost *host) {
        return plugin_cfg(host, "InstallDir", "/opt/sophos-spl");
}

static int read_version(AvmHost *host, char *buf, size_t size) {
        char path[512], text[4097];
        size_t n;
        int r;

        snprintf(path, sizeof path, "%s/base/VERSION.ini", instdir(host));
        r = plugin_read_file(path, sizeof text - 1, text, &n);
        if (r == -EFBIG) {
                avm_host_error(host, "%s is larger than 4 KiB", path);
                return -EBADMSG;
        }
        if (r < 0)
                return r;
        r = sophos_parse_version_ini(text, n, buf, size);
        if (r < 0)
                avm_host_error(host, "No valid PRODUCT_VERSION= in %s", path);
        return r;
}

static int sophos_detect(AvmHost *host, AvmDetection *ret) {
        char path[512];
        int r;

        *ret = (AvmDetection){ 0 };
        snprintf(path, sizeof path, "%s/base/VERSION.ini", instdir(host));
        if (access(path, F_OK) < 0 && access(plugin_cfg(host, "Wdctl", "/opt/sophos-spl/bin/wdctl"), X_OK) < 0)
                return 0;
        ret->installed = true;
        r = read_version(host, ret->version, sizeof ret->version);
        if (r < 0 && r != -ENOENT)
                avm_host_log(host, LOG_WARNING, "Sophos version unknown");
        return 0;
}

/* wdctl isrunning av: exit 0 = on-access plugin running [INF]. */
static int av_running(AvmHost *host) {
        const char *argv[] = { plugin_cfg(host, "Wdctl", "/opt/sophos-spl/bin/wdctl"), "isrunning", "av", NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 };
        int ret;

        inferred(host, "real-time state from `wdctl isrunning av`");
        ret = run(host, argv, timeout(host, "SophosTimeoutSec", 60), &r);
        if (ret < 0)
                return ret;
        return r.exit_status == 0;
}

static int sophos_status(AvmHost *host, AvmStatus *ret) {
        int unit, av;

        *ret = (AvmStatus){ .definitions_age_sec = -1 };
        if (access(plugin_cfg(host, "Wdctl", "/opt/sophos-spl/bin/wdctl"), X_OK) < 0) {
                snprintf(ret->detail, sizeof ret->detail, "Sophos wdctl not found");
                return 0;
        }
        unit = avm_host_unit_is_active(host, UNIT);
        if (unit < 0)
                return unit;
        av = av_running(host);
        if (av < 0)
                return av;
        /* Without systemd (tests) the unit is never active: a running av plugin proves the watchdog runs. */
        ret->running = unit > 0 || av > 0;
        ret->realtime = av > 0;
        ret->healthy = ret->running; /* no documented health query [NOT FOUND] */
        snprintf(ret->detail, sizeof ret->detail, "Sophos Protection for Linux, on-access %s, health and definitions age unknown",
                 ret->realtime ? "on" : "off");
        return 0;
}

static int sophos_set_realtime(AvmHost *host, bool enable) {
        const char *argv[] = { plugin_cfg(host, "Wdctl", "/opt/sophos-spl/bin/wdctl"), enable ? "start" : "stop", "av", NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 };
        int ret;

        inferred(host, enable ? "on-access turned on with `wdctl start av`" : "on-access turned off with `wdctl stop av`");
        ret = run(host, argv, timeout(host, "SophosTimeoutSec", 60), &r);
        if (ret < 0)
                return ret;
        if (r.exit_status != 0) {
                avm_host_error(host, "wdctl %s av failed with exit status %d (tamper protection enabled, or watchdog not running?)",
                               argv[1], r.exit_status);
                return -EIO;
        }
        ret = av_running(host);
        if (ret < 0)
                return ret;
        if (ret != (int) enable) {
                avm_host_error(host, "Sophos on-access is still %s", ret ? "running" : "stopped");
                return -EIO;
        }
        return 0;
}

static int sophos_install(AvmHost *host) {
        const char *art = avm_host_artifact(host);
        const char *argv[] = { art, NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 };
        int ret;

        if (!art) {
                avm_host_error(host, "Sophos has no repository package: installing needs SophosSetup.sh as the fetched artifact");
                return -EOPNOTSUPP;
        }
        inferred(host, "SophosSetup.sh run without arguments installs unattended");
        ret = run(host, argv, timeout(host, "InstallTimeoutSec", 1800), &r);
        if (ret < 0)
                return ret;
        if (r.exit_status != 0) {
                avm_host_error(host, "%s failed with exit status %d", art, r.exit_status);
                return -EIO;
        }
        return 0;
}

static int sophos_uninstall(AvmHost *host) {
        char uninstall[512];
        _cleanup_run_result_ AvmRunResult r = { 0 };
        int ret;

        snprintf(uninstall, sizeof uninstall, "%s/bin/uninstall.sh", instdir(host));
        if (access(uninstall, X_OK) == 0) {
                const char *argv[] = { uninstall, "--force", NULL };
                ret = run(host, argv, timeout(host, "UninstallTimeoutSec", 900), &r);
                if (ret < 0)
                        return ret;
                if (r.exit_status != 0) {
                        avm_host_error(host, "%s --force failed with exit status %d", uninstall, r.exit_status);
                        return -EIO;
                }
        }
        if (access(instdir(host), F_OK) == 0) {
                avm_host_error(host, "%s still exists after uninstall.sh", instdir(host));
                return -EEXIST;
        }
        for (size_t i = 0; units[i]; i++) {
                ret = avm_host_unit_is_active(host, units[i]);
                if (ret < 0)
                        return ret;
                if (ret > 0) {
                        avm_host_error(host, "%s is still active after uninstall", units[i]);
                        return -EBUSY;
                }
        }
        return 0;
}

static int sophos_scan_file(AvmHost *host, const char *path, AvmScanResult *ret) {
        const char *argv[] = { plugin_cfg(host, "Avscanner", "/opt/sophos-spl/plugins/av/bin/avscanner"), path, NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 };
        bool found = false;
        int rr;

        *ret = (AvmScanResult){ 0 };
        rr = run(host, argv, timeout(host, "ScanTimeoutSec", 600), &r);
        if (rr < 0)
                return rr;
        if (sophos_parse_avscanner(r.output, r.output_size, &found, ret->threat, sizeof ret->threat) < 0) {
                avm_host_error(host, "Malformed avscanner output");
                return -EBADMSG;
        }
        switch (r.exit_status) {
        case SOPHOS_AV_CLEAN:
                if (found) {
                        avm_host_error(host, "avscanner reported a detection but exited 0");
                        return -EBADMSG;
                }
                return 0;
        case SOPHOS_AV_VIRUS:
        case SOPHOS_AV_DISINFECTED:
        case SOPHOS_AV_ABORTED_WITH_THREATS:
                ret->detected = true;
                if (!ret->threat[0])
                        snprintf(ret->threat, sizeof ret->threat, "Sophos detection (avscanner exit %d)", r.exit_status);
                return 0;
        default:
                avm_host_error(host, "avscanner failed: %s (exit %d)", sophos_exit_message(r.exit_status), r.exit_status);
                return -EIO;
        }
}

__attribute__((visibility("default"))) const AvmPlugin avm_plugin = {
        .api_version = AVM_PLUGIN_API_VERSION,
        .struct_size = sizeof(AvmPlugin),
        .id = "sophos-spl",
        .vendor = "Sophos",
        .product = "Sophos Protection for Linux",
        .capabilities = AVM_CAP_ON_ACCESS | AVM_CAP_BLOCKING_FANOTIFY | AVM_CAP_INSTALL | AVM_CAP_UNINSTALL,
        .detect = sophos_detect,
        .status = sophos_status,
        .install = sophos_install,
        .set_realtime = sophos_set_realtime,
        .uninstall = sophos_uninstall,
        .scan_file = sophos_scan_file,
};
