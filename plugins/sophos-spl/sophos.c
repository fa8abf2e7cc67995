/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sophos Protection for Linux (SPL), written after Sophos' published Linux
 * sources (README.md lists every call with its source; [INF] marks what no
 * source shows, logged when used).
 *
 * On-access scanning is soapd, a watchdog-managed process of its own
 * ("on_access_process" in the plugin registry), separate from the "av"
 * plugin that on-demand scanning (avscanner) needs: its state is the file
 * <av>/var/on_access_status soapd writes ("enabled"/"disabled"), not "av is
 * running".
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <avmigrate/plugin.h>

#include "plugin-util.h"
#include "sophos-parse.h"

#define UNIT "sophos-spl.service"

static const char *const units[] = { "sophos-spl.service", "sophos-spl-update.service", "sophos-spl-diagnose.service", NULL };

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
        {
                PluginParseError e = { 0 };
                r = sophos_parse_version_ini(text, n, buf, size, &e);
                if (r < 0)
                        avm_host_error(host, "%s: %s%s%s", path, e.line ? "line not understood: '" : "", e.text, e.line ? "'" : "");
        }
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

static const char *wdctl_path(AvmHost *host) {
        return plugin_cfg(host, "Wdctl", "/opt/sophos-spl/bin/wdctl");
}

/* `wdctl isrunning <name>`: 1 running, 0 not, -ENOTSUP for a wdctl without
 * isrunning (exit 10, before 2019-08), -EHOSTDOWN when wdctl cannot tell (2). */
static int wdctl_isrunning(AvmHost *host, const char *name) {
        const char *argv[] = { wdctl_path(host), "isrunning", name, NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 };
        int ret;

        ret = run(host, argv, avm_host_config_usec(host, "SophosTimeoutSec"), &r);
        if (ret < 0)
                return ret;
        switch (r.exit_status) {
        case SOPHOS_WDCTL_RUNNING:
                return 1;
        case SOPHOS_WDCTL_NOT_RUNNING:
                return 0;
        case SOPHOS_WDCTL_UNKNOWN_STATE:
                return -EHOSTDOWN;
        case SOPHOS_WDCTL_UNKNOWN_COMMAND:
                return -ENOTSUP;
        default:
                avm_host_error(host, "wdctl isrunning %s: undocumented exit status %d", name, r.exit_status);
                return -EIO;
        }
}

/* soapd's on-access state: 1 enabled, 0 disabled, -ENOENT when the status
 * file does not exist (SPL before 2023-01, or no soapd), other -errno on error. */
static int on_access_status(AvmHost *host, const char *version) {
        char path[512], text[4097];
        PluginParseError e = { 0 };
        size_t n;
        int r;

        snprintf(path, sizeof path, "%s", plugin_cfg(host, "OnAccessStatusFile", ""));
        if (!path[0])
                snprintf(path, sizeof path, "%s/plugins/av/var/on_access_status", instdir(host));
        r = plugin_read_file(path, sizeof text - 1, text, &n);
        if (r == -EFBIG)
                r = -EBADMSG;
        if (r < 0)
                return r;
        r = sophos_parse_on_access_status(text, n, &e);
        if (r < 0)
                avm_host_error(host, "%s (Sophos %s): %s'%s'", path, version, e.line ? "line not understood: " : "", e.text);
        return r;
}

static int sophos_status(AvmHost *host, AvmStatus *ret) {
        char version[64] = "unknown version";
        int unit, av, oa;

        *ret = (AvmStatus){ .definitions_age_sec = -1 };
        if (access(wdctl_path(host), X_OK) < 0) {
                snprintf(ret->detail, sizeof ret->detail, "Sophos wdctl not found");
                return 0;
        }
        if (read_version(host, version, sizeof version) < 0)
                snprintf(version, sizeof version, "unknown version");
        unit = avm_host_unit_is_active(host, UNIT);
        if (unit < 0)
                return unit;
        av = wdctl_isrunning(host, "av");
        if (av == -ENOTSUP) {
                inferred(host, "wdctl has no isrunning (before 2019-08): the av plugin counts as running with sophos-spl.service");
                av = unit;
        } else if (av == -EHOSTDOWN)
                av = 0;
        if (av < 0)
                return av;
        oa = on_access_status(host, version);
        if (oa == -ENOENT) {
                /* no status file: soapd missing or older than 2023-01; its watchdog entry tells whether it runs */
                int soapd = wdctl_isrunning(host, "on_access_process");
                inferred(host, "on_access_status absent: on-access taken from `wdctl isrunning on_access_process`");
                oa = soapd > 0 ? 1 : 0;
        } else if (oa < 0)
                return oa;
        /* Without systemd (tests) the unit is never active: a running av plugin proves the watchdog runs. */
        ret->running = unit > 0 || av > 0;
        ret->realtime = oa > 0;
        ret->healthy = av > 0; /* no documented health query [NOT FOUND] */
        snprintf(ret->detail, sizeof ret->detail,
                 "Sophos Protection for Linux %s, on-access (soapd) %s, av plugin %s; definitions age unknown", version,
                 oa > 0 ? "enabled" : "disabled", av > 0 ? "running" : "not running");
        return 0;
}

/* On-access alone: soapd's watchdog entry "on_access_process"
 * (av/products/installer/on_access_process.json.in) [INF: Sophos documents
 * wdctl start|stop for plugins, this entry name is from the source]. The av
 * plugin and on-demand scanning stay up. Enabling it obeys the Sophos Central
 * policy: soapd writes "enabled" only when the policy turns on-access on. */
static int sophos_set_realtime(AvmHost *host, bool enable) {
        const char *argv[] = { wdctl_path(host), enable ? "start" : "stop", "on_access_process", NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 };
        uint64_t wait, deadline;
        int ret;

        inferred(host,
                 enable ? "on-access turned on with `wdctl start on_access_process`" :
                          "on-access turned off with `wdctl stop on_access_process`");
        ret = run(host, argv, avm_host_config_usec(host, "SophosTimeoutSec"), &r);
        if (ret < 0)
                return ret;
        if (r.exit_status != 0) {
                avm_host_error(host, "wdctl %s on_access_process failed with exit status %d%s", argv[1], r.exit_status,
                               r.exit_status == SOPHOS_WDCTL_UNKNOWN_COMMAND ? " (unknown command)" :
                                                                               " (tamper protection, or watchdog not running?)");
                return -EIO;
        }
        /* soapd writes its status file when it has read the policy */
        wait = avm_host_config_usec(host, "OnAccessSettleTimeoutSec");
        deadline = plugin_now_usec() + wait;
        for (;;) {
                ret = on_access_status(host, "");
                if (ret == -ENOENT)
                        ret = wdctl_isrunning(host, "on_access_process");
                if (ret >= 0 && ret == (int) enable)
                        return 0;
                if (plugin_now_usec() >= deadline)
                        break;
                plugin_sleep_usec(200 * 1000);
        }
        if (ret < 0)
                return ret;
        avm_host_error(host, "Sophos on-access (soapd) is still %s%s", ret ? "enabled" : "disabled",
                       enable ? ": the Sophos Central policy may have on-access scanning off" : "");
        return -EIO;
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
        ret = run(host, argv, avm_host_config_usec(host, "InstallTimeoutSec"), &r);
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
                ret = run(host, argv, avm_host_config_usec(host, "UninstallTimeoutSec"), &r);
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

/* avscanner only reports (no option cleans or removes: av/modules/avscanner/
 * avscannerimpl/Options.cpp); a probe that is gone afterwards (SafeStore
 * quarantine) is reported as such. */
static int sophos_scan_file(AvmHost *host, const char *path, AvmScanResult *ret) {
        const char *argv[] = { plugin_cfg(host, "Avscanner", "/opt/sophos-spl/plugins/av/bin/avscanner"), path, NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 };
        PluginParseError e = { 0 };
        char version[64];
        SophosScan s;
        int rr;

        *ret = (AvmScanResult){ 0 };
        if (read_version(host, version, sizeof version) < 0)
                snprintf(version, sizeof version, "unknown version");
        rr = run(host, argv, avm_host_config_usec(host, "ScanTimeoutSec"), &r);
        if (rr < 0)
                return rr;
        if (sophos_parse_avscanner(r.output, r.output_size, &s, &e) < 0) {
                avm_host_error(host, "avscanner (Sophos %s, exit %d): %s%s'%s'", version, r.exit_status, e.line ? "line " : "",
                               e.line ? "not understood: " : "", e.text);
                return -EBADMSG;
        }
        switch (r.exit_status) {
        case SOPHOS_AV_CLEAN:
                if (s.detections > 0) {
                        avm_host_error(host, "avscanner (Sophos %s) printed a detection (%s) but exited 0", version, s.threat);
                        return -EBADMSG;
                }
                return 0;
        case SOPHOS_AV_VIRUS:
        case SOPHOS_AV_DISINFECTED:
        case SOPHOS_AV_ABORTED_WITH_THREATS:
                ret->detected = true;
                if (s.detections > 0)
                        snprintf(ret->threat, sizeof ret->threat, "%s", s.threat);
                else
                        snprintf(ret->threat, sizeof ret->threat, "Sophos detection (avscanner exit %d)", r.exit_status);
                if (r.exit_status == SOPHOS_AV_DISINFECTED || access(path, F_OK) < 0) {
                        char t[128];
                        snprintf(t, sizeof t, "%s", ret->threat);
                        snprintf(ret->threat, sizeof ret->threat, "%.90s [probe %s by Sophos]", t,
                                 access(path, F_OK) < 0 ? "quarantined/removed" : "disinfected");
                        avm_host_log(host, LOG_WARNING, "Sophos acted on the probe %s: %s", path, ret->threat);
                }
                return 0;
        default:
                avm_host_error(host, "avscanner (Sophos %s) failed: %s (exit %d)%s", version, sophos_exit_message(r.exit_status),
                               r.exit_status, s.errors ? ", a scan error was printed" : "");
                return -EIO;
        }
}

/* The keys of [Product sophos-spl] (plugin.h: validated before anything runs). */
static const AvmConfigKey config_keys[] = {
        { "InstallDir", AVM_CONFIG_PATH, "/opt/sophos-spl", 0, 0, NULL },
        { "Wdctl", AVM_CONFIG_PATH, "/opt/sophos-spl/bin/wdctl", 0, 0, NULL },
        { "Avscanner", AVM_CONFIG_PATH, "/opt/sophos-spl/plugins/av/bin/avscanner", 0, 0, NULL },
        { "OnAccessStatusFile", AVM_CONFIG_PATH, NULL, 0, 0, NULL },
        { "SophosTimeoutSec", AVM_CONFIG_SECONDS, "60", 1, 86399, NULL },
        { "OnAccessSettleTimeoutSec", AVM_CONFIG_SECONDS, "30", 1, 86399, NULL },
        { "InstallTimeoutSec", AVM_CONFIG_SECONDS, "1800", 1, 86399, NULL },
        { "UninstallTimeoutSec", AVM_CONFIG_SECONDS, "900", 1, 86399, NULL },
        { "ScanTimeoutSec", AVM_CONFIG_SECONDS, "600", 1, 86399, NULL },
        {},
};

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
        .config_keys = config_keys,
};
