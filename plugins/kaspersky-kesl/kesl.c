/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kaspersky Endpoint Security for Linux (the discouraged product): detect,
 * real-time protection = task 1 File_Threat_Protection, on-demand scan,
 * uninstall. All through kesl-control with LANG=C/LC_ALL=C.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <avmigrate/plugin.h>

#include "kesl-parse.h"
#include "kesl-scope.h"
#include "plugin-util.h"

#define DEFAULT_KESL_CONTROL "/opt/kaspersky/kesl/bin/kesl-control"
#define OAS_TASK "1"

static const char *const detect_packages[] = { "kesl", "kesl-astra", NULL };
static const char *const remove_packages[] = { "kesl-gui", "kesl-gui-astra", "kesl", "kesl-astra", "klnagent64", "klnagent", NULL };
static const char *const units[] = { "kesl.service", "kesl-supervisor.service", "klnagent64.service", NULL };
static const char *const c_env[] = { "LANG=C", "LC_ALL=C", NULL };

static const char *kesl_control(AvmHost *host) {
        return plugin_cfg(host, "KeslControl", DEFAULT_KESL_CONTROL);
}

/* Runs kesl-control with up to 4 arguments. Returns 0 (see r->exit_status) or -errno. */
static int kesl_run(AvmHost *host, uint64_t timeout, AvmRunResult *r, const char *a1, const char *a2, const char *a3,
                    const char *a4) {
        const char *argv[] = { kesl_control(host), a1, a2, a3, a4, NULL };
        char label[256];
        int ret;

        snprintf(label, sizeof label, "kesl-control %s", a1);
        ret = plugin_run(host, label, argv, c_env, timeout, KESL_OUTPUT_MAX, r);
        if (ret < 0)
                return ret;
        if (r->exit_status == 127 || r->exit_status == 126) {
                avm_host_error(host, "kesl-control %s could not be executed (exit %d)", a1, r->exit_status);
                return -ENOENT;
        }
        return 0;
}

/* Turns a failing exit code into avm_host_error + -errno. */
static int kesl_fail(AvmHost *host, const char *what, int code) {
        if (code == KESL_EXIT_POLICY)
                avm_host_error(host,
                               "KESL refused %s: it is managed by a Kaspersky Security Center policy (exit 68); unlock the "
                               "policy or remove the host from KSC management first",
                               what);
        else if (code == KESL_EXIT_DBS_NOT_LOADED)
                avm_host_error(host, "KESL refused %s: its anti-virus databases are not loaded (exit 66)", what);
        else
                avm_host_error(host, "kesl-control %s failed: %s (exit %d)", what, kesl_exit_message(code), code);
        return kesl_exit_errno(code) < 0 ? kesl_exit_errno(code) : -EIO;
}

static int app_info(AvmHost *host, KeslAppInfo *ai, int *ret_exit) {
        _cleanup_run_result_ AvmRunResult r = { 0 };
        int ret;

        ret = kesl_run(host, avm_host_config_usec(host, "KeslTimeoutSec"), &r, "--app-info", "--json", NULL, NULL);
        if (ret < 0)
                return ret;
        *ret_exit = r.exit_status;
        if ((r.exit_status == 0 || r.exit_status == KESL_EXIT_DBS_NOT_LOADED) &&
            kesl_parse_app_info(r.output, r.output_size, ai) == 0)
                return 0;
        if (r.exit_status == KESL_EXIT_NOT_RUNNING)
                return 0;
        /* Older versions have no --json: fall back to text (LANG=C, but Russian labels are understood too). */
        avm_run_result_done(&r);
        ret = kesl_run(host, avm_host_config_usec(host, "KeslTimeoutSec"), &r, "--app-info", NULL, NULL, NULL);
        if (ret < 0)
                return ret;
        *ret_exit = r.exit_status;
        if (r.exit_status != 0 && r.exit_status != KESL_EXIT_DBS_NOT_LOADED)
                return r.exit_status == KESL_EXIT_NOT_RUNNING ? 0 : kesl_fail(host, "--app-info", r.exit_status);
        if (kesl_parse_app_info(r.output, r.output_size, ai) < 0) {
                avm_host_error(host, "Malformed, truncated or unknown kesl-control --app-info output");
                return -EBADMSG;
        }
        return 0;
}

static int task_state(AvmHost *host, KeslTaskState *ret_state, int *ret_exit) {
        _cleanup_run_result_ AvmRunResult r = { 0 };
        int ret;

        ret = kesl_run(host, avm_host_config_usec(host, "KeslTimeoutSec"), &r, "--get-task-state", OAS_TASK, "--json", NULL);
        if (ret < 0)
                return ret;
        *ret_exit = r.exit_status;
        if (r.exit_status == 0 && kesl_parse_task_state(r.output, r.output_size, ret_state) == 0)
                return 0;
        if (r.exit_status == KESL_EXIT_NOT_RUNNING)
                return 0;
        avm_run_result_done(&r);
        ret = kesl_run(host, avm_host_config_usec(host, "KeslTimeoutSec"), &r, "--get-task-state", OAS_TASK, NULL, NULL);
        if (ret < 0)
                return ret;
        *ret_exit = r.exit_status;
        if (r.exit_status == KESL_EXIT_NOT_RUNNING)
                return 0;
        if (r.exit_status != 0)
                return kesl_fail(host, "--get-task-state 1", r.exit_status);
        if (kesl_parse_task_state(r.output, r.output_size, ret_state) < 0) {
                avm_host_error(host, "Malformed or truncated kesl-control --get-task-state output");
                return -EBADMSG;
        }
        return 0;
}

static int kesl_detect(AvmHost *host, AvmDetection *ret) {
        KeslAppInfo ai;
        int r, code = 0;

        *ret = (AvmDetection){ 0 };
        for (size_t i = 0; detect_packages[i]; i++) {
                r = avm_host_package_query(host, detect_packages[i], ret->version, sizeof ret->version);
                if (r < 0)
                        return r;
                if (r > 0) {
                        ret->installed = true;
                        break;
                }
        }
        if (access(kesl_control(host), X_OK) < 0)
                return 0;
        /* The tool is there: installed even without a package record (e.g. a manual install),
         * unless DetectByTool=no (tests: the package database decides). */
        if (!avm_host_config_bool(host, "DetectByTool")) {
                if (!ret->installed)
                        return 0;
        } else
                ret->installed = true;
        r = app_info(host, &ai, &code);
        if (r == 0 && (code == 0 || code == KESL_EXIT_DBS_NOT_LOADED) && ai.version[0])
                snprintf(ret->version, sizeof ret->version, "%s", ai.version);
        else if (r < 0)
                avm_host_log(host, LOG_WARNING, "kesl-control --app-info failed; version from the package database only");
        return 0;
}

static int kesl_status(AvmHost *host, AvmStatus *ret) {
        KeslAppInfo ai;
        KeslTaskState ts;
        int r, code = 0;

        *ret = (AvmStatus){ .definitions_age_sec = -1 };
        if (access(kesl_control(host), X_OK) < 0) {
                snprintf(ret->detail, sizeof ret->detail, "kesl-control not found");
                return 0;
        }
        r = app_info(host, &ai, &code);
        if (r < 0)
                return r;
        if (code == KESL_EXIT_NOT_RUNNING) {
                snprintf(ret->detail, sizeof ret->detail, "Kaspersky Endpoint Security is not running");
                return 0;
        }
        ret->running = true;
        if (ai.db_release != (time_t) -1)
                ret->definitions_age_sec = plugin_age_sec(ai.db_release);
        r = task_state(host, &ts, &code);
        if (r < 0)
                return r;
        if (code == KESL_EXIT_NOT_RUNNING) {
                ret->running = false;
                snprintf(ret->detail, sizeof ret->detail, "Kaspersky Endpoint Security stopped");
                return 0;
        }
        ret->realtime = ts == KESL_TASK_STARTED;
        ret->passive = false; /* KESL has no passive mode */
        ret->healthy = ai.db_loaded != 0 && code == 0;
        if (plugin_definitions_too_old(host, ret->definitions_age_sec))
                ret->healthy = false;
        snprintf(ret->detail, sizeof ret->detail, "%.100s %.40s, File_Threat_Protection %s%s%s", ai.name[0] ? ai.name : "KESL",
                 ai.version, kesl_task_state_name(ts), ai.db_loaded == 0 ? ", databases NOT loaded" : "",
                 ai.policy_applied == 1 ? ", KSC policy applied" : "");
        return 0;
}

static int kesl_install(AvmHost *host) {
        avm_host_error(host, "Installing Kaspersky Endpoint Security is not supported (it is the discouraged product)");
        return -EOPNOTSUPP;
}

static int kesl_set_realtime(AvmHost *host, bool enable) {
        _cleanup_run_result_ AvmRunResult r = { 0 };
        const char *verb = enable ? "--start-task" : "--stop-task";
        uint64_t deadline;
        int ret, code = 0;

        ret = kesl_run(host, avm_host_config_usec(host, "KeslTimeoutSec"), &r, verb, OAS_TASK, NULL, NULL);
        if (ret < 0)
                return ret;
        if (r.exit_status == KESL_EXIT_SAME_STATE)
                avm_host_log(host, LOG_INFO, "File_Threat_Protection already %s", enable ? "started" : "stopped");
        else if (r.exit_status != 0)
                return kesl_fail(host, enable ? "--start-task 1" : "--stop-task 1", r.exit_status);

        /* Wait for Starting/Stopping to settle. */
        deadline = plugin_now_usec() + avm_host_config_usec(host, "TaskSettleTimeoutSec");
        for (;;) {
                KeslTaskState ts = KESL_TASK_STOPPED;

                ret = task_state(host, &ts, &code);
                if (ret < 0)
                        return ret;
                if (code == KESL_EXIT_NOT_RUNNING) {
                        if (!enable)
                                return 0;
                        return kesl_fail(host, "--start-task 1", code);
                }
                if (enable ? ts == KESL_TASK_STARTED : ts == KESL_TASK_STOPPED)
                        return 0;
                if (plugin_now_usec() > deadline) {
                        avm_host_error(host, "File_Threat_Protection is %s, not %s", kesl_task_state_name(ts),
                                       enable ? "Started" : "Stopped");
                        return -ETIME;
                }
                /* Waited on inside the handover gap: poll finely (each poll is a
                 * kesl-control run, which takes longer than this anyway). */
                plugin_sleep_usec(20000);
        }
}

/* File Threat Protection's scope from its task settings (the product's own
 * configuration): kesl-control --get-settings 1. */
/* KESL's own files (Kaspersky's help: installation paths /opt/kaspersky/kesl,
 * /var/opt/kaspersky/kesl, /etc/opt/kaspersky/kesl). */
static const char *const own_paths[] = { "/opt/kaspersky", "/var/opt/kaspersky", "/etc/opt/kaspersky", NULL };

static int kesl_scope(AvmHost *host, AvmScope *ret) {
        _cleanup_run_result_ AvmRunResult r = { 0 };
        int rr;

        *ret = (AvmScope){ 0 };
        rr = kesl_run(host, avm_host_config_usec(host, "KeslTimeoutSec"), &r, "--get-settings", OAS_TASK, NULL, NULL);
        if (rr < 0)
                return rr;
        if (r.exit_status != 0)
                return kesl_fail(host, "--get-settings 1", r.exit_status);
        if (r.truncated || kesl_parse_scope(r.output, r.output_size, ret) < 0) {
                avm_host_error(host, "Malformed kesl-control --get-settings 1 output (scan scope sections)");
                *ret = (AvmScope){ 0 };
                return -EBADMSG;
        }
        snprintf(ret->source, sizeof ret->source, "kesl-control --get-settings 1 (File_Threat_Protection)");
        return 0;
}

static int kesl_scan_file(AvmHost *host, const char *path, AvmScanResult *ret) {
        _cleanup_run_result_ AvmRunResult r = { 0 };
        KeslScan s;
        int rr;

        *ret = (AvmScanResult){ 0 };
        /* --action Skip: without it KESL applies the recommended action and may
         * delete the probe (Kaspersky help 12.1, 197638); real scripts pass it. */
        rr = kesl_run(host, avm_host_config_usec(host, "ScanTimeoutSec"), &r, "--scan-file", path, "--action", "Skip");
        if (rr < 0)
                return rr;
        if (r.exit_status != 0 && r.exit_status != KESL_EXIT_THREATS)
                return kesl_fail(host, "--scan-file", r.exit_status);
        /* The threat's name, and for KESL 10 (no exit 72) the detection itself,
         * come from the event log, as real scripts read it (README.md). */
        {
                _cleanup_run_result_ AvmRunResult ev = { 0 };
                PluginParseError e = { 0 };

                rr = kesl_run(host, avm_host_config_usec(host, "KeslTimeoutSec"), &ev, "-E", "--query",
                              "EventType == \"ThreatDetected\"", NULL);
                if (rr < 0 || ev.exit_status != 0 || kesl_parse_events(ev.output, ev.output_size, path, &s, &e) < 0) {
                        if (r.exit_status != KESL_EXIT_THREATS) {
                                avm_host_error(host,
                                               "kesl-control --scan-file exited 0 and the event log could not be read (exit %d%s%s): "
                                               "the scan result is unknown",
                                               rr < 0 ? rr : ev.exit_status, e.text[0] ? ": " : "", e.text);
                                return rr < 0 ? rr : -EBADMSG;
                        }
                        s = (KeslScan){ 0 };
                }
        }
        ret->detected = r.exit_status == KESL_EXIT_THREATS || s.detected > 0;
        if (ret->detected)
                snprintf(ret->threat, sizeof ret->threat, "%s%s", s.threat[0] ? s.threat : "threat (kesl-control exit 72)",
                         access(path, F_OK) < 0 ? " [probe removed by KESL]" : "");
        return 0;
}

static int kesl_uninstall(AvmHost *host) {
        const char *leftover = avm_host_config(host, "VerifyRemovedPath");
        int r;

        if (!leftover)
                leftover = DEFAULT_KESL_CONTROL;
        avm_host_progress(host, 10, "Stopping Kaspersky services");
        for (size_t i = 0; units[i]; i++) {
                r = avm_host_unit_control(host, units[i], "stop");
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        avm_host_progress(host, 30, "Removing Kaspersky packages");
        r = avm_host_package_remove(host, remove_packages, true);
        if (r < 0)
                return r;

        avm_host_progress(host, 90, "Checking for leftovers");
        for (size_t i = 0; remove_packages[i]; i++) {
                r = avm_host_package_query(host, remove_packages[i], NULL, 0);
                if (r < 0)
                        return r;
                if (r > 0) {
                        avm_host_error(host, "Package %s is still installed after removal", remove_packages[i]);
                        return -EBUSY;
                }
        }
        if (*leftover && access(leftover, F_OK) == 0) {
                avm_host_error(host, "%s still exists after removing the packages", leftover);
                return -EEXIST;
        }
        for (size_t i = 0; units[i]; i++) {
                r = avm_host_unit_is_active(host, units[i]);
                if (r < 0)
                        return r;
                if (r > 0) {
                        avm_host_error(host, "Unit %s is still active after removal", units[i]);
                        return -EBUSY;
                }
        }
        return 0;
}

/* The keys of [Product kaspersky-kesl] (plugin.h: validated before anything runs). */
static const AvmConfigKey config_keys[] = {
        { "KeslControl", AVM_CONFIG_PATH, DEFAULT_KESL_CONTROL, 0, 0, NULL },
        { "DetectByTool", AVM_CONFIG_BOOL, "yes", 0, 0, NULL },
        { "VerifyRemovedPath", AVM_CONFIG_PATH, DEFAULT_KESL_CONTROL, 0, 0, NULL }, /* empty: skip the check */
        { "KeslTimeoutSec", AVM_CONFIG_SECONDS, "120", 1, 86400, NULL },
        { "ScanTimeoutSec", AVM_CONFIG_SECONDS, "600", 1, 86400, NULL },
        { "TaskSettleTimeoutSec", AVM_CONFIG_SECONDS, "30", 1, 86400, NULL },
        {},
};

__attribute__((visibility("default"))) const AvmPlugin avm_plugin = {
        .api_version = AVM_PLUGIN_API_VERSION,
        .struct_size = sizeof(AvmPlugin),
        .id = "kaspersky-kesl",
        .vendor = "Kaspersky",
        .product = "Kaspersky Endpoint Security for Linux",
        .capabilities = AVM_CAP_ON_ACCESS | AVM_CAP_BLOCKING_FANOTIFY | AVM_CAP_UNINSTALL,
        .detect = kesl_detect,
        .status = kesl_status,
        .install = kesl_install,
        .set_realtime = kesl_set_realtime,
        .uninstall = kesl_uninstall,
        .scan_file = kesl_scan_file,
        .scope = kesl_scope,
        .own_paths = own_paths,
        .config_keys = config_keys,
};
