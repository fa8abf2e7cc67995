/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ESET Endpoint Antivirus for Linux (eea). Every tool and output format used
 * here is listed with its source in README.md; what no source shows is
 * marked [INF] there and logged when used.
 *
 * Real-time protection: ESET documents no local switch for Real-time file
 * system protection alone (only an ESET PROTECT policy, or the GUI), and no
 * local query of its state. The plugin therefore controls and reads the
 * documented service level, eea.service ("systemctl status eea.service";
 * startd), and says so: stopping it stops every ESET module, on-demand
 * scanning and updates included, and a policy that disabled real-time
 * protection while the service runs is not visible locally.
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

#define UNIT "eea.service"
#define DEFAULT_UPD "/opt/eset/eea/bin/upd"
#define DEFAULT_ODSCAN "/opt/eset/eea/bin/odscan"
#define DEFAULT_LSLOG "/opt/eset/eea/sbin/lslog"
#define DEFAULT_LIC "/opt/eset/eea/sbin/lic"

#define SERVICE_CONSEQUENCE                                                                                    \
        "ESET documents no local switch for real-time protection alone, so the whole eea.service is stopped: " \
        "on-demand scanning, updates and every other ESET module stop with it"

static const char *const packages[] = { "eea", NULL };

static int run(AvmHost *host, const char *const argv[], uint64_t t, AvmRunResult *r) {
        return plugin_run(host, NULL, argv, NULL, t, ESET_OUTPUT_MAX, r);
}

static void inferred(AvmHost *host, const char *what) {
        avm_host_log(host, LOG_NOTICE, "ESET: %s (inferred, see plugins/eset-eea/README.md)", what);
}

/* "upd --list-modules (ESET 12.0.13.0): line 3 not understood: '…'" */
static int parse_error(AvmHost *host, const char *what, const char *version, const PluginParseError *e) {
        if (e->line > 0)
                avm_host_error(host, "%s (ESET %s): line %u not understood: '%s'", what, version, e->line, e->text);
        else
                avm_host_error(host, "%s (ESET %s): %s", what, version, e->text);
        return -EBADMSG;
}

/* Product version from `upd -version`, "unknown version" if it cannot be had. */
static void product_version(AvmHost *host, char *buf, size_t size) {
        const char *argv[] = { plugin_cfg(host, "Upd", DEFAULT_UPD), "-version", NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 };
        PluginParseError e = { 0 };

        snprintf(buf, size, "unknown version");
        if (run(host, argv, avm_host_config_usec(host, "EsetTimeoutSec"), &r) < 0 || r.exit_status != 0 ||
            eset_parse_upd_version(r.output, r.output_size, buf, size, &e) < 0) {
                avm_host_log(host, LOG_WARNING, "upd -version gave no version (exit %d%s%s)", r.exit_status,
                             e.text[0] ? ": " : "", e.text);
                snprintf(buf, size, "unknown version");
        }
}

/* eea.service through systemd, or through a systemctl-compatible program
 * (Systemctl=, for tests): "is-active" → 1/0, "start"/"stop" → 0 or -errno. */
static int service(AvmHost *host, const char *verb) {
        const char *tool = avm_host_config(host, "Systemctl");
        const char *unit = plugin_cfg(host, "Unit", UNIT);
        _cleanup_run_result_ AvmRunResult r = { 0 };
        int ret;

        if (!tool || !*tool) {
                if (strcmp(verb, "is-active") == 0)
                        return avm_host_unit_is_active(host, unit);
                return avm_host_unit_control(host, unit, verb);
        }
        {
                const char *argv[] = { tool, verb, unit, NULL };
                ret = run(host, argv, avm_host_config_usec(host, "EsetTimeoutSec"), &r);
        }
        if (ret < 0)
                return ret;
        if (strcmp(verb, "is-active") == 0)
                return r.exit_status == 0; /* systemctl(1): 0 = active */
        if (r.exit_status != 0) {
                avm_host_error(host, "%s %s %s failed with exit status %d", tool, verb, unit, r.exit_status);
                return -EIO;
        }
        return 0;
}

static int eset_detect(AvmHost *host, AvmDetection *ret) {
        const char *upd = plugin_cfg(host, "Upd", DEFAULT_UPD);
        int r;

        *ret = (AvmDetection){ 0 };
        r = avm_host_package_query(host, "eea", ret->version, sizeof ret->version);
        if (r < 0)
                return r;
        ret->installed = r > 0;
        if (access(upd, X_OK) == 0) {
                char v[64];
                ret->installed = true;
                product_version(host, v, sizeof v);
                if (strcmp(v, "unknown version") != 0)
                        snprintf(ret->version, sizeof ret->version, "%s", v);
        }
        return 0;
}

/* `lic --status`: 1 activated, 0 not, -errno when the output is not understood. */
static int license(AvmHost *host, const char *version, char *validity, size_t size) {
        const char *argv[] = { plugin_cfg(host, "Lic", DEFAULT_LIC), "--status", NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 };
        PluginParseError e = { 0 };
        int ret;

        ret = run(host, argv, avm_host_config_usec(host, "EsetTimeoutSec"), &r);
        if (ret < 0)
                return ret;
        ret = eset_parse_lic_status(r.output, r.output_size, validity, size, &e);
        if (ret < 0)
                return parse_error(host, "lic --status", version, &e);
        return ret;
}

static int eset_status(AvmHost *host, AvmStatus *ret) {
        const char *upd = plugin_cfg(host, "Upd", DEFAULT_UPD);
        const char *argv[] = { upd, "--list-modules", NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 };
        PluginParseError e = { 0 };
        char version[64], validity[32] = "";
        time_t date;
        int active, lic, rr;

        *ret = (AvmStatus){ .definitions_age_sec = -1 };
        if (access(upd, X_OK) < 0) {
                snprintf(ret->detail, sizeof ret->detail, "ESET tools not found");
                return 0;
        }
        product_version(host, version, sizeof version);
        active = service(host, "is-active");
        if (active < 0)
                return active;
        rr = run(host, argv, avm_host_config_usec(host, "EsetTimeoutSec"), &r);
        if (rr < 0)
                return rr;
        if (r.exit_status != 0) {
                snprintf(ret->detail, sizeof ret->detail, "ESET %s: upd --list-modules failed (exit %d), eea.service %s", version,
                         r.exit_status, active ? "active" : "not active");
                return 0;
        }
        ret->running = true;
        if (eset_parse_engine_date(r.output, r.output_size, &date, &e) < 0)
                return parse_error(host, "upd --list-modules", version, &e);
        ret->definitions_age_sec = plugin_age_sec(date);
        lic = license(host, version, validity, sizeof validity);
        if (lic < 0)
                return lic;
        /* The documented service level stands for real-time protection (see the top of this file). */
        inferred(host, "real-time protection reported from eea.service being active (no local query of it is documented)");
        ret->realtime = active > 0;
        ret->healthy = lic > 0 && !plugin_definitions_too_old(host, ret->definitions_age_sec);
        snprintf(ret->detail, sizeof ret->detail, "ESET %s, eea.service %s, %s%s%s, detection engine from %lld days ago", version,
                 active > 0 ? "active (real-time state not readable locally)" : "not active",
                 lic > 0 ? "activated" : "NOT activated", validity[0] ? " until " : "", validity,
                 (long long) (ret->definitions_age_sec / 86400));
        return 0;
}

static int eset_set_realtime(AvmHost *host, bool enable) {
        int r;

        if (!enable) {
                avm_host_log(host, LOG_WARNING, "ESET: %s", SERVICE_CONSEQUENCE);
                avm_host_progress(host, 0, "Stopping eea.service: " SERVICE_CONSEQUENCE);
        }
        r = service(host, enable ? "start" : "stop");
        if (r < 0)
                return r;
        r = service(host, "is-active");
        if (r < 0)
                return r;
        if (r != (int) enable) {
                avm_host_error(host, "eea.service is still %s", r ? "active" : "not active");
                return -EIO;
        }
        return 0;
}

static int eset_install(AvmHost *host) {
        const char *art = avm_host_artifact(host);

        inferred(host, "installation through the package manager (package eea) or the .bin installer");
        if (art && strstr(art, ".bin")) {
                const char *argv[] = { art, "--accept-license", NULL };
                _cleanup_run_result_ AvmRunResult r = { 0 };
                int ret = run(host, argv, avm_host_config_usec(host, "InstallTimeoutSec"), &r);
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
        (void) service(host, "stop");
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

/* Threat name from `lslog --ods-details=<log>` when odscan printed none: count only. */
static void scan_log(AvmHost *host, const char *log_name, const char *version, AvmScanResult *ret) {
        const char *lslog = plugin_cfg(host, "Lslog", DEFAULT_LSLOG);
        _cleanup_run_result_ AvmRunResult l = { 0 };
        PluginParseError e = { 0 };
        EsetScanLog sl;
        char arg[160];
        const char *argv[] = { lslog, arg, NULL };

        snprintf(arg, sizeof arg, "--ods-details=%s", log_name);
        if (run(host, argv, avm_host_config_usec(host, "EsetTimeoutSec"), &l) < 0 || l.exit_status != 0)
                return;
        if (eset_parse_lslog(l.output, l.output_size, &sl, &e) < 0) {
                avm_host_log(host, LOG_WARNING, "lslog --ods-details (ESET %s): %s%s", version,
                             e.line ? "line not understood: " : "", e.text);
                return;
        }
        snprintf(ret->threat, sizeof ret->threat, "ESET detection (%d in scan log %s)", sl.detections, log_name);
}

static int eset_scan_file(AvmHost *host, const char *path, AvmScanResult *ret) {
        const char *odscan = plugin_cfg(host, "Odscan", DEFAULT_ODSCAN);
        char profile[160], version[64];
        const char *argv[8];
        _cleanup_run_result_ AvmRunResult r = { 0 };
        PluginParseError e = { 0 };
        EsetOdscan od;
        size_t k = 0;
        int rr;

        *ret = (AvmScanResult){ 0 };
        if (snprintf(profile, sizeof profile, "--profile=%s", plugin_cfg(host, "ScanProfile", "@In-depth scan")) >=
            (int) sizeof profile)
                return -ENAMETOOLONG;
        argv[k++] = odscan;
        argv[k++] = "-s";
        argv[k++] = profile;
        /* Never let the probe be cleaned: --readonly [INF: used by third-party scripts, not in ESET's help]. */
        if (avm_host_config_bool(host, "ScanReadOnly"))
                argv[k++] = "--readonly";
        argv[k++] = "--show-scan-info";
        argv[k++] = path;
        argv[k] = NULL;
        product_version(host, version, sizeof version);
        rr = run(host, argv, avm_host_config_usec(host, "ScanTimeoutSec"), &r);
        if (rr < 0)
                return rr;
        if (eset_parse_odscan(r.output, r.output_size, &od, &e) < 0)
                return parse_error(host, "odscan", version, &e);
        switch (r.exit_status) {
        case ESET_ODSCAN_CLEAN:
                if (od.detections > 0) {
                        avm_host_error(host, "odscan (ESET %s) exited 0 but printed a detection: %s", version, od.threat);
                        return -EBADMSG;
                }
                return 0;
        case ESET_ODSCAN_CLEANED:
        case ESET_ODSCAN_THREAT:
                ret->detected = true;
                if (od.detections > 0)
                        snprintf(ret->threat, sizeof ret->threat, "%s", od.threat);
                else if (od.log_name[0])
                        scan_log(host, od.log_name, version, ret);
                if (!ret->threat[0])
                        snprintf(ret->threat, sizeof ret->threat, "ESET detection (odscan exit %d)", r.exit_status);
                break;
        default:
                avm_host_error(host, "odscan (ESET %s) failed: %s (exit %d)", version, eset_odscan_exit_message(r.exit_status),
                               r.exit_status);
                return r.exit_status == ESET_ODSCAN_INCOMPLETE ? -EAGAIN : -EIO;
        }
        /* The probe must survive: say so loudly when ESET cleaned or removed it anyway. */
        if (r.exit_status == ESET_ODSCAN_CLEANED || access(path, F_OK) < 0 || (od.action[0] && strcmp(od.action, "retained") != 0)) {
                char t[128];
                snprintf(t, sizeof t, "%s", ret->threat);
                snprintf(ret->threat, sizeof ret->threat, "%.80s [probe %s by ESET]", t,
                         access(path, F_OK) < 0 ? "removed/quarantined" :
                                 od.action[0]   ? od.action :
                                                  "cleaned");
                avm_host_log(host, LOG_WARNING, "ESET acted on the probe %s: %s", path, ret->threat);
        }
        return 0;
}

/* The keys of [Product eset-eea] (plugin.h: validated before anything runs). */
static const AvmConfigKey config_keys[] = {
        { "Upd", AVM_CONFIG_PATH, DEFAULT_UPD, 0, 0, NULL },
        { "EsetTimeoutSec", AVM_CONFIG_SECONDS, "60", 1, 86399, NULL },
        { "Odscan", AVM_CONFIG_PATH, DEFAULT_ODSCAN, 0, 0, NULL },
        { "ScanProfile", AVM_CONFIG_STRING, "@In-depth scan", 0, 0, NULL },
        { "ScanReadOnly", AVM_CONFIG_BOOL, "yes", 0, 0, NULL },
        { "ScanTimeoutSec", AVM_CONFIG_SECONDS, "600", 1, 86399, NULL },
        { "Lslog", AVM_CONFIG_PATH, DEFAULT_LSLOG, 0, 0, NULL },
        { "Lic", AVM_CONFIG_PATH, DEFAULT_LIC, 0, 0, NULL },
        { "Systemctl", AVM_CONFIG_PATH, NULL, 0, 0, NULL }, /* default: systemd over D-Bus */
        { "Unit", AVM_CONFIG_STRING, UNIT, 0, 0, NULL },
        { "InstallTimeoutSec", AVM_CONFIG_SECONDS, "900", 1, 86399, NULL },
        {},
};

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
        .config_keys = config_keys,
};
