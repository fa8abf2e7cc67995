/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ESET Endpoint Antivirus for Linux (eea), from what vendors.md §4.1 records.
 * Details marked [INF] in README.md are inferred and logged when used.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <avmigrate/plugin.h>

#include "eset-parse.h"
#include "plugin-util.h"

#define USEC_PER_SEC 1000000ULL
#define UNIT "eea.service"

static const char *const packages[] = { "eea", NULL };

/* A number of seconds in 1..86399; text after the number is ignored. */
static uint64_t timeout(AvmHost *host, const char *key, unsigned def) {
        return plugin_cfg_usec(host, key, def, 1, 86399, true);
}

static int run(AvmHost *host, const char *const argv[], uint64_t t, AvmRunResult *r) {
        return plugin_run(host, NULL, argv, NULL, t, ESET_OUTPUT_MAX, r);
}

static void inferred(AvmHost *host, const char *what) {
        avm_host_log(host, LOG_NOTICE, "ESET: %s (inferred, not documented by ESET; see plugins/eset-eea/README.md)", what);
}

static int eset_detect(AvmHost *host, AvmDetection *ret) {
        const char *upd = plugin_cfg(host, "Upd", "/opt/eset/eea/bin/upd");
        int r;

        *ret = (AvmDetection){ 0 };
        r = avm_host_package_query(host, "eea", ret->version, sizeof ret->version);
        if (r < 0)
                return r;
        ret->installed = r > 0;
        if (access(upd, X_OK) == 0) {
                const char *argv[] = { upd, "-version", NULL };
                _cleanup_run_result_ AvmRunResult rr = { 0 };

                ret->installed = true;
                if (run(host, argv, timeout(host, "EsetTimeoutSec", 60), &rr) == 0 && rr.exit_status == 0 &&
                    eset_parse_upd_version(rr.output, rr.output_size, ret->version, sizeof ret->version) < 0)
                        avm_host_log(host, LOG_WARNING, "Unrecognised output of upd -version");
        }
        return 0;
}

/* Real-time state: RtpTool (--rtp-status) when configured, else the eea unit [INF]. */
static int rtp_state(AvmHost *host) {
        const char *tool = avm_host_config(host, "RtpTool");
        _cleanup_run_result_ AvmRunResult r = { 0 };
        int ret;

        if (!tool || !*tool) {
                inferred(host, "real-time protection taken as on while eea.service is active");
                return avm_host_unit_is_active(host, UNIT);
        }
        inferred(host, "real-time state read with RtpTool --rtp-status");
        {
                const char *argv[] = { tool, "--rtp-status", NULL };
                ret = run(host, argv, timeout(host, "EsetTimeoutSec", 60), &r);
        }
        if (ret < 0)
                return ret;
        if (r.exit_status != 0) {
                avm_host_error(host, "%s --rtp-status failed with exit status %d", tool, r.exit_status);
                return -EIO;
        }
        ret = eset_parse_rtp_status(r.output, r.output_size);
        if (ret < 0)
                avm_host_error(host, "Malformed output of %s --rtp-status", tool);
        return ret;
}

static int eset_status(AvmHost *host, AvmStatus *ret) {
        const char *upd = plugin_cfg(host, "Upd", "/opt/eset/eea/bin/upd");
        const char *argv[] = { upd, "--list-modules", NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 };
        time_t date;
        int rt, ret2;

        *ret = (AvmStatus){ .definitions_age_sec = -1 };
        if (access(upd, X_OK) < 0) {
                snprintf(ret->detail, sizeof ret->detail, "ESET tools not found");
                return 0;
        }
        ret2 = run(host, argv, timeout(host, "EsetTimeoutSec", 60), &r);
        if (ret2 < 0)
                return ret2;
        if (r.exit_status != 0) {
                snprintf(ret->detail, sizeof ret->detail, "upd --list-modules failed (exit %d): ESET not running?", r.exit_status);
                return 0;
        }
        ret->running = true;
        if (eset_parse_engine_date(r.output, r.output_size, &date) < 0) {
                avm_host_error(host, "Malformed output of upd --list-modules (no EM002 Detection engine line)");
                return -EBADMSG;
        }
        ret->definitions_age_sec = plugin_age_sec(date);
        rt = rtp_state(host);
        if (rt < 0)
                return rt;
        ret->realtime = rt > 0;
        ret->healthy = ret->definitions_age_sec < 7 * 86400;
        snprintf(ret->detail, sizeof ret->detail, "ESET Endpoint Antivirus, real-time %s, detection engine from %lld days ago",
                 ret->realtime ? "on" : "off", (long long) (ret->definitions_age_sec / 86400));
        return 0;
}

static int eset_set_realtime(AvmHost *host, bool enable) {
        const char *tool = avm_host_config(host, "RtpTool");
        _cleanup_run_result_ AvmRunResult r = { 0 };
        int ret;

        if (!tool || !*tool) {
                inferred(host,
                         enable ? "real-time protection turned on by starting eea.service" :
                                  "real-time protection turned off by stopping eea.service");
                return avm_host_unit_control(host, UNIT, enable ? "start" : "stop");
        }
        inferred(host, "real-time protection switched with RtpTool --rtp-enable/--rtp-disable");
        {
                const char *argv[] = { tool, enable ? "--rtp-enable" : "--rtp-disable", NULL };
                ret = run(host, argv, timeout(host, "EsetTimeoutSec", 60), &r);
        }
        if (ret < 0)
                return ret;
        if (r.exit_status != 0) {
                avm_host_error(host, "%s %s failed with exit status %d%s", tool, enable ? "--rtp-enable" : "--rtp-disable",
                               r.exit_status, r.exit_status == 3 ? " (setting enforced by an ESET PROTECT policy)" : "");
                return r.exit_status == 3 ? -EPERM : -EIO;
        }
        ret = eset_parse_rtp_status(r.output, r.output_size);
        if (ret < 0) {
                avm_host_error(host, "Malformed output of %s", tool);
                return ret;
        }
        if (ret != (int) enable) {
                avm_host_error(host, "ESET real-time protection is still %s", ret ? "enabled" : "disabled");
                return -EIO;
        }
        return 0;
}

static int eset_install(AvmHost *host) {
        const char *art = avm_host_artifact(host);

        inferred(host, "installation through the package manager (package eea)");
        if (art && strstr(art, ".bin")) {
                const char *argv[] = { art, "--accept-license", NULL };
                _cleanup_run_result_ AvmRunResult r = { 0 };
                int ret = run(host, argv, timeout(host, "InstallTimeoutSec", 900), &r);
                if (ret < 0)
                        return ret;
                if (r.exit_status != 0) {
                        avm_host_error(host, "%s --accept-license failed with exit status %d", art, r.exit_status);
                        return -EIO;
                }
                return 0;
        }
        return avm_host_package_install(host, art ? NULL : packages, art);
}

static int eset_uninstall(AvmHost *host) {
        int r;

        inferred(host, "removal through the package manager (package eea)");
        (void) avm_host_unit_control(host, UNIT, "stop");
        r = avm_host_package_remove(host, packages, true);
        if (r < 0)
                return r;
        r = avm_host_package_query(host, "eea", NULL, 0);
        if (r > 0) {
                avm_host_error(host, "Package eea is still installed");
                return -EBUSY;
        }
        return r < 0 ? r : 0;
}

static int eset_scan_file(AvmHost *host, const char *path, AvmScanResult *ret) {
        const char *odscan = plugin_cfg(host, "Odscan", "/opt/eset/eea/bin/odscan");
        const char *lslog = plugin_cfg(host, "Lslog", "/opt/eset/eea/sbin/lslog");
        char profile[160], log_name[128], arg[160];
        const char *argv[] = { odscan, "-s", profile, path, NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 }, l = { 0 };
        unsigned detections = 0;
        int ret2;

        *ret = (AvmScanResult){ 0 };
        if (snprintf(profile, sizeof profile, "--profile=%s", plugin_cfg(host, "ScanProfile", "@In-depth scan")) >=
            (int) sizeof profile)
                return -ENAMETOOLONG;
        ret2 = run(host, argv, timeout(host, "ScanTimeoutSec", 600), &r);
        if (ret2 < 0)
                return ret2;
        switch (r.exit_status) {
        case ESET_ODSCAN_CLEAN:
                return 0;
        case ESET_ODSCAN_CLEANED:
        case ESET_ODSCAN_THREAT:
                ret->detected = true;
                snprintf(ret->threat, sizeof ret->threat, "ESET detection (odscan exit %d)", r.exit_status);
                break;
        default:
                avm_host_error(host, "odscan failed: %s (exit %d)", eset_odscan_exit_message(r.exit_status), r.exit_status);
                return r.exit_status == ESET_ODSCAN_INCOMPLETE ? -EAGAIN : -EIO;
        }
        /* Threat name from the scan log, best effort. */
        if (eset_parse_odscan(r.output, r.output_size, log_name, sizeof log_name) == 0) {
                const char *largv[] = { lslog, arg, NULL };
                snprintf(arg, sizeof arg, "--ods-details=%s", log_name);
                if (run(host, largv, timeout(host, "EsetTimeoutSec", 60), &l) == 0 && l.exit_status == 0) {
                        char threat[128];
                        if (eset_parse_lslog(l.output, l.output_size, &detections, threat, sizeof threat) == 0 && threat[0])
                                snprintf(ret->threat, sizeof ret->threat, "%s", threat);
                }
        }
        return 0;
}

__attribute__((visibility("default"))) const AvmPlugin avm_plugin = {
        .api_version = AVM_PLUGIN_API_VERSION,
        .struct_size = sizeof(AvmPlugin),
        .id = "eset-eea",
        .vendor = "ESET",
        .product = "ESET Endpoint Antivirus for Linux",
        .capabilities = AVM_CAP_ON_ACCESS | AVM_CAP_BLOCKING_FANOTIFY | AVM_CAP_INSTALL | AVM_CAP_UNINSTALL,
        .detect = eset_detect,
        .status = eset_status,
        .install = eset_install,
        .set_realtime = eset_set_realtime,
        .uninstall = eset_uninstall,
        .scan_file = eset_scan_file,
};
