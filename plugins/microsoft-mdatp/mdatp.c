/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Microsoft Defender for Endpoint on Linux: health (JSON, --field fallback),
 * passive mode and real-time switches, scan via threat-list delta,
 * install/uninstall through the package backend, onboarding blob.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <avmigrate/plugin.h>

#include "mdatp-parse.h"
#include "plugin-util.h"

#define DEFAULT_MDATP "/usr/bin/mdatp"
#define DEFAULT_ONBOARDING "/etc/opt/microsoft/mdatp/mdatp_onboard.json"
#define ONBOARDING_MAX (1024 * 1024)

static const char *const packages[] = { "mdatp", NULL };

static int mdatp_run(AvmHost *host, uint64_t timeout, AvmRunResult *r, const char *const args[]) {
        const char *argv[12];
        char label[128];
        size_t k = 0;
        int ret;

        argv[k++] = plugin_cfg(host, "Mdatp", DEFAULT_MDATP);
        for (size_t i = 0; args[i] && k < 11; i++)
                argv[k++] = args[i];
        argv[k] = NULL;
        snprintf(label, sizeof label, "mdatp %s", args[0]);
        ret = plugin_run(host, label, argv, NULL, timeout, MDATP_OUTPUT_MAX, r);
        if (ret == -ETIME) /* names the subcommand too */
                avm_host_error(host, "mdatp %s %s timed out", args[0], args[1] ? args[1] : "");
        return ret;
}

static int run_ok(AvmHost *host, const char *const args[]) {
        _cleanup_run_result_ AvmRunResult r = { 0 };
        int ret;

        ret = mdatp_run(host, avm_host_config_usec(host, "MdatpTimeoutSec"), &r, args);
        if (ret < 0)
                return ret;
        if (r.exit_status != 0) {
                avm_host_error(host, "mdatp %s %s failed with exit status %d%s%.160s", args[0], args[1] ? args[1] : "",
                               r.exit_status, r.output && *r.output ? ": " : "", r.output ? r.output : "");
                return -EIO;
        }
        return 0;
}

/* The product version for messages: from the last health, else "unknown version". */
static char last_version[64] = "unknown version";

static int parse_error(AvmHost *host, const char *what, const PluginParseError *e) {
        if (e->line > 0)
                avm_host_error(host, "%s (Defender %s): line %u not understood: '%s'", what, last_version, e->line, e->text);
        else
                avm_host_error(host, "%s (Defender %s): %s", what, last_version, e->text);
        return -EBADMSG;
}

static int health_field(AvmHost *host, const char *field, char *buf, size_t size, bool *managed) {
        const char *args[] = { "health", "--field", field, NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 };
        PluginParseError e = { 0 };
        char what[96];
        int ret;

        ret = mdatp_run(host, avm_host_config_usec(host, "MdatpTimeoutSec"), &r, args);
        if (ret < 0)
                return ret;
        if (r.exit_status != 0) {
                avm_host_error(host, "mdatp health --field %s failed with exit status %d", field, r.exit_status);
                return -EIO;
        }
        snprintf(what, sizeof what, "mdatp health --field %s", field);
        if (mdatp_parse_field(r.output, r.output_size, buf, size, managed, &e) < 0)
                return parse_error(host, what, &e);
        return 0;
}

static int health_bool(AvmHost *host, const char *field) {
        char v[64];
        int r;

        r = health_field(host, field, v, sizeof v, NULL);
        if (r < 0)
                return r;
        r = mdatp_parse_bool(v);
        if (r < 0)
                avm_host_error(host, "mdatp health --field %s (Defender %s): expected true/false, got '%s'", field, last_version,
                               v);
        return r;
}

/* `health --output json`; older versions (or output it cannot read): the human `health` table. */
static int health(AvmHost *host, MdatpHealth *h) {
        const char *json[] = { "health", "--output", "json", NULL };
        const char *text[] = { "health", NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 }, t = { 0 };
        PluginParseError e = { 0 };
        int ret;

        ret = mdatp_run(host, avm_host_config_usec(host, "MdatpTimeoutSec"), &r, json);
        if (ret < 0)
                return ret;
        if (r.exit_status == 0 && mdatp_parse_health_json(r.output, r.output_size, h, &e) == 0)
                goto done;
        avm_host_log(host, LOG_INFO, "mdatp health --output json unusable (exit %d%s%s), reading the health table", r.exit_status,
                     e.text[0] ? ": " : "", e.text);
        ret = mdatp_run(host, avm_host_config_usec(host, "MdatpTimeoutSec"), &t, text);
        if (ret < 0)
                return ret;
        if (t.exit_status != 0) {
                avm_host_error(host, "mdatp health failed with exit status %d", t.exit_status);
                return -EIO;
        }
        e = (PluginParseError){ 0 };
        if (mdatp_parse_health_text(t.output, t.output_size, h, &e) < 0)
                return parse_error(host, "mdatp health", &e);
        if (h->healthy < 0 || h->realtime < 0) {
                static const char what[] = "no healthy or real_time_protection_enabled line";
                e = (PluginParseError){ 0 };
                (void) plugin_parse_fail(&e, 0, what, sizeof what - 1);
                return parse_error(host, "mdatp health", &e);
        }
done:
        if (h->app_version[0])
                snprintf(last_version, sizeof last_version, "%s", h->app_version);
        return 0;
}

/* Onboarded: `licensed` is true (mde_installer.sh's own test; org_id is
 * "unavailable" before onboarding). */
static bool onboarded(const MdatpHealth *h) {
        return h->licensed == 1;
}

static int mdatp_detect(AvmHost *host, AvmDetection *ret) {
        int r;

        *ret = (AvmDetection){ 0 };
        r = avm_host_package_query(host, "mdatp", ret->version, sizeof ret->version);
        if (r < 0)
                return r;
        ret->installed = r > 0;
        if (ret->installed && access(plugin_cfg(host, "Mdatp", DEFAULT_MDATP), X_OK) == 0) {
                char v[64];
                if (health_field(host, "app_version", v, sizeof v, NULL) == 0 && strspn(v, "0123456789.") == strlen(v))
                        snprintf(ret->version, sizeof ret->version, "%s", v);
        }
        return 0;
}

static int mdatp_status(AvmHost *host, AvmStatus *ret) {
        MdatpHealth h;
        int r;

        *ret = (AvmStatus){ .definitions_age_sec = -1 };
        if (access(plugin_cfg(host, "Mdatp", DEFAULT_MDATP), X_OK) < 0) {
                snprintf(ret->detail, sizeof ret->detail, "mdatp not found");
                return 0;
        }
        r = health(host, &h);
        if (r < 0)
                return r;
        ret->running = true;
        /* Real-time protection counts only on an onboarded device (licensed): an
         * unlicensed Defender says "No license found" and does not detect (alexverboon/MDATP#3). */
        ret->realtime = h.realtime == 1 && onboarded(&h);
        ret->passive = h.passive == 1;
        ret->healthy = h.healthy == 1 && onboarded(&h);
        if (h.definitions_minutes_ago >= 0)
                ret->definitions_age_sec = h.definitions_minutes_ago * 60;
        else if (h.definitions_updated > 0)
                ret->definitions_age_sec = plugin_age_sec(h.definitions_updated);
        if (h.n_conflicting > 0)
                avm_host_log(host, LOG_WARNING, "Defender reports conflicting applications: %s", h.conflicting);
        snprintf(ret->detail, sizeof ret->detail, "Defender %s, %s%s%s%s%s%.100s", h.app_version[0] ? h.app_version : "?",
                 h.passive == 1          ? "passive mode" :
                         h.realtime == 1 ? "real-time on" :
                                           "real-time off",
                 h.realtime_managed == 1 ? " [managed]" : "",
                 onboarded(&h)           ? ", onboarded" :
                         h.licensed == 0 ? ", NOT onboarded (licensed=false, org_id unavailable): real-time protection not trusted" :
                                           ", onboarding unknown: real-time protection not trusted",
                 h.n_conflicting ? ", " : "", h.n_conflicting ? "conflicting: " : "", h.n_conflicting ? h.conflicting : "");
        return 0;
}

static int install_onboarding(AvmHost *host, const char *src) {
        const char *dst = plugin_cfg(host, "OnboardingPath", DEFAULT_ONBOARDING);
        char tmp[PATH_MAX], dir[PATH_MAX], *buf = NULL, *slash;
        struct stat st;
        ssize_t n;
        int in = -1, out = -1, r = 0;

        if (snprintf(tmp, sizeof tmp, "%s.tmp", dst) >= (int) sizeof tmp || snprintf(dir, sizeof dir, "%s", dst) >= (int) sizeof dir)
                return -ENAMETOOLONG;
        in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (in < 0 || fstat(in, &st) < 0) {
                r = -errno;
                avm_host_error(host, "Cannot open onboarding file %s: %s", src, strerror(-r));
                goto finish;
        }
        if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > ONBOARDING_MAX) {
                avm_host_error(host, "Onboarding file %s is not a regular file of at most 1 MiB", src);
                r = -EBADMSG;
                goto finish;
        }
        buf = malloc((size_t) st.st_size + 1);
        if (!buf) {
                r = -ENOMEM;
                goto finish;
        }
        n = read(in, buf, (size_t) st.st_size + 1);
        if (n != st.st_size) {
                avm_host_error(host, "Short read on onboarding file %s", src);
                r = -EIO;
                goto finish;
        }
        buf[n] = '\0';
        if (strlen(buf) != (size_t) n || buf[strspn(buf, " \t\r\n")] != '{') {
                avm_host_error(host, "Onboarding file %s is not a JSON object (the .py onboarding script is not supported)", src);
                r = -EBADMSG;
                goto finish;
        }
        slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                        r = -errno;
                        avm_host_error(host, "Cannot create %s: %s", dir, strerror(-r));
                        goto finish;
                }
        }
        out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (out < 0 || write(out, buf, (size_t) n) != n || fsync(out) < 0 || rename(tmp, dst) < 0) {
                r = errno ? -errno : -EIO;
                avm_host_error(host, "Cannot install onboarding file to %s: %s", dst, strerror(-r));
                (void) unlink(tmp);
                goto finish;
        }
        avm_host_log(host, LOG_INFO, "Installed onboarding file %s", dst);
finish:
        free(buf);
        if (in >= 0)
                close(in);
        if (out >= 0)
                close(out);
        return r;
}

static int mdatp_set_realtime(AvmHost *host, bool enable) {
        const char *passive[] = { "config", "passive-mode", "--value", enable ? "disabled" : "enabled", NULL };
        const char *rtp[] = { "config", "real-time-protection", "--value", enable ? "enabled" : "disabled", NULL };
        MdatpHealth h;
        int r;

        if (enable) {
                r = health(host, &h);
                if (r < 0)
                        return r;
                /* Do not trust real-time protection of a device that is not onboarded. */
                if (!onboarded(&h)) {
                        avm_host_error(host,
                                       "Defender %s is not onboarded (licensed=%s, org_id %s): onboard it first "
                                       "(OnboardingFile=, Microsoft's onboarding package) before relying on its protection",
                                       last_version, h.licensed == 0 ? "false" : "unknown", h.org_id[0] ? h.org_id : "unavailable");
                        return -EACCES;
                }
                if (h.n_conflicting > 0)
                        avm_host_log(host, LOG_WARNING,
                                     "Enabling real-time protection while Defender lists conflicting applications: %s",
                                     h.conflicting);
                r = run_ok(host, passive);
                if (r < 0)
                        return r;
                r = run_ok(host, rtp);
        } else {
                r = run_ok(host, rtp);
                if (r < 0)
                        return r;
                r = run_ok(host, passive);
        }
        if (r < 0)
                return r;
        r = health(host, &h);
        if (r < 0)
                return r;
        if (h.realtime != (int) enable) {
                avm_host_error(host, "Defender %s real-time protection is still %s%s", last_version, h.realtime ? "on" : "off",
                               h.realtime_managed == 1 ? " [managed]: a managed setting (/etc/opt/microsoft/mdatp/managed/"
                                                         "mdatp_managed.json, antivirusEngine.enforcementLevel) overrides the CLI" :
                                                         "");
                return -EPERM;
        }
        return 0;
}

static int mdatp_install(AvmHost *host) {
        const char *art = avm_host_artifact(host);
        const char *onboarding = avm_host_config(host, "OnboardingFile");
        uint64_t wait, deadline;
        int r;

        avm_host_progress(host, 10, "Installing Microsoft Defender");
        /* The artifact is either the package itself or the onboarding blob. */
        if (art && (strstr(art, ".deb") || strstr(art, ".rpm")))
                r = avm_host_package_install(host, NULL, art);
        else {
                r = avm_host_package_install(host, packages, NULL);
                if (art && !onboarding)
                        onboarding = art;
        }
        if (r < 0)
                return r;
        if (onboarding) {
                avm_host_progress(host, 50, "Onboarding");
                r = install_onboarding(host, onboarding);
                if (r < 0)
                        return r;
        }
        avm_host_progress(host, 70, "Switching to passive mode");
        r = mdatp_set_realtime(host, false);
        if (r < 0)
                return r;
        /* mde_installer.sh polls `licensed` every 10 s after onboarding. */
        /* Declared without a default: it depends on whether there was an onboarding. */
        wait = avm_host_config(host, "LicensedWaitSec") ? avm_host_config_usec(host, "LicensedWaitSec") :
                                                          (onboarding ? 80 : 0) * USEC_PER_SEC;
        deadline = plugin_now_usec() + wait;
        for (;;) {
                int lic = health_bool(host, "licensed");
                if (lic == 1)
                        break;
                if (plugin_now_usec() >= deadline) {
                        avm_host_log(host, LOG_WARNING, "Defender is installed but not licensed (not onboarded)");
                        break;
                }
                sleep(2);
        }
        return 0;
}

/* Offboarding before removal (mde_installer.sh --offboard): runs the portal's
 * offboarding script (OffboardingScript=, .py with python3, .sh with sh), then
 * waits for licensed=false. */
static int offboard(AvmHost *host) {
        const char *script = avm_host_config(host, "OffboardingScript");
        _cleanup_run_result_ AvmRunResult r = { 0 };
        uint64_t wait, deadline;
        MdatpHealth h;
        size_t n;
        int ret;

        if (health(host, &h) < 0 || !onboarded(&h))
                return 0; /* not onboarded (or mdatp not answering): nothing to offboard */
        if (!script || !*script) {
                if (avm_host_config_bool(host, "RequireOffboarding")) {
                        avm_host_error(host, "Defender is onboarded and RequireOffboarding=yes, but no OffboardingScript= is set");
                        return -EPERM;
                }
                avm_host_log(host, LOG_WARNING,
                             "Defender is onboarded and no OffboardingScript= is set: it is removed without offboarding, "
                             "the device stays listed in the Microsoft Defender portal");
                return 0;
        }
        n = strlen(script);
        {
                const char *py[] = { plugin_cfg(host, "Python", "/usr/bin/python3"), script, NULL };
                const char *sh[] = { "/bin/sh", script, NULL };
                const char *const *argv = n > 3 && strcmp(script + n - 3, ".py") == 0 ? py :
                        n > 3 && strcmp(script + n - 3, ".sh") == 0                   ? sh :
                                                                                        NULL;
                if (!argv) {
                        avm_host_error(host, "OffboardingScript=%s is neither .py nor .sh", script);
                        return -EINVAL;
                }
                avm_host_progress(host, 5, "Offboarding Microsoft Defender");
                ret = plugin_run(host, "offboarding script", argv, NULL, avm_host_config_usec(host, "MdatpTimeoutSec"),
                                 MDATP_OUTPUT_MAX, &r);
        }
        if (ret < 0)
                return ret;
        if (r.exit_status != 0) {
                avm_host_error(host, "Offboarding script %s failed with exit status %d", script, r.exit_status);
                return -EIO;
        }
        /* mde_installer.sh checks licensed every 10 s, 15 times */
        wait = avm_host_config_usec(host, "OffboardWaitSec");
        deadline = plugin_now_usec() + wait;
        for (;;) {
                if (health_bool(host, "licensed") == 0) {
                        avm_host_log(host, LOG_INFO, "Defender offboarded");
                        return 0;
                }
                if (plugin_now_usec() >= deadline) {
                        avm_host_error(host, "Defender still licensed %llu s after the offboarding script",
                                       (unsigned long long) (wait / USEC_PER_SEC));
                        return -ETIMEDOUT;
                }
                sleep(2);
        }
}

static int mdatp_uninstall(AvmHost *host) {
        int r;

        if (access(plugin_cfg(host, "Mdatp", DEFAULT_MDATP), X_OK) == 0) {
                r = offboard(host);
                if (r < 0)
                        return r;
        }
        r = avm_host_package_remove(host, packages, true);
        if (r < 0)
                return r;
        r = avm_host_package_query(host, "mdatp", NULL, 0);
        if (r < 0)
                return r;
        if (r > 0) {
                avm_host_error(host, "Package mdatp is still installed");
                return -EBUSY;
        }
        r = avm_host_unit_is_active(host, "mdatp.service");
        if (r > 0) {
                avm_host_error(host, "mdatp.service is still active after removal");
                return -EBUSY;
        }
        return r < 0 ? r : 0;
}

static int threat_list(AvmHost *host, MdatpThreats *ret) {
        const char *args[] = { "threat", "list", "--output", "json", NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 };
        PluginParseError e = { 0 };
        int ret2;

        ret2 = mdatp_run(host, avm_host_config_usec(host, "MdatpTimeoutSec"), &r, args);
        if (ret2 < 0)
                return ret2;
        if (r.exit_status != 0) {
                avm_host_error(host, "mdatp threat list failed with exit status %d", r.exit_status);
                return -EIO;
        }
        ret2 = mdatp_parse_threats(r.output, r.output_size, ret, &e);
        if (ret2 < 0)
                return parse_error(host, "mdatp threat list --output json", &e);
        return 0;
}

/* On demand: `scan custom` prints "<N> threat(s) detected" (alexverboon/MDATP#3);
 * the threat's name comes from the threat list, compared before and after
 * [INF: its shape is inferred]. Defender in active mode remediates what it
 * finds (quarantine): a probe it removed is reported as such, never as "not
 * detected"; passive mode does not remediate (Microsoft's passive mode doc). */
static int mdatp_scan_file(AvmHost *host, const char *path, AvmScanResult *ret) {
        const char *args[] = { "scan", "custom", "--path", path, NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 };
        MdatpThreats *before = NULL, *after = NULL;
        PluginParseError e = { 0 };
        const MdatpThreat *t = NULL;
        unsigned files = 0, threats = 0;
        bool counted;
        int rr;

        *ret = (AvmScanResult){ 0 };
        before = calloc(1, sizeof *before);
        after = calloc(1, sizeof *after);
        if (!before || !after) {
                rr = -ENOMEM;
                goto finish;
        }
        rr = threat_list(host, before);
        if (rr < 0)
                goto finish;
        rr = mdatp_run(host, avm_host_config_usec(host, "ScanTimeoutSec"), &r, args);
        if (rr < 0)
                goto finish;
        counted = r.exit_status == 0 && mdatp_parse_scan(r.output, r.output_size, &files, &threats, &e) == 0;
        rr = threat_list(host, after);
        if (rr < 0)
                goto finish;
        t = mdatp_threat_new(before, after);
        if (!counted && !t) {
                /* neither a count nor a new threat: never read that as "clean" */
                if (r.exit_status != 0)
                        avm_host_error(host, "mdatp scan custom --path %s (Defender %s) failed with exit status %d", path,
                                       last_version, r.exit_status);
                else
                        (void) parse_error(host, "mdatp scan custom", &e);
                rr = r.exit_status != 0 ? -EIO : -EBADMSG;
                goto finish;
        }
        if (t || threats > 0) {
                ret->detected = true;
                if (t)
                        snprintf(ret->threat, sizeof ret->threat, "%s%s%s%s", t->name, t->status[0] ? " (" : "", t->status,
                                 t->status[0] ? ")" : "");
                else
                        snprintf(ret->threat, sizeof ret->threat, "Defender: %u threat(s) detected", threats);
                if (access(path, F_OK) < 0) {
                        char tmp[128];
                        snprintf(tmp, sizeof tmp, "%s", ret->threat);
                        snprintf(ret->threat, sizeof ret->threat, "%.90s [probe quarantined/removed by Defender]", tmp);
                        avm_host_log(host, LOG_WARNING, "Defender removed the probe %s: %s", path, ret->threat);
                }
        }
        rr = 0;
finish:
        free(before);
        free(after);
        return rr;
}

/* The keys of [Product microsoft-mdatp] (plugin.h: validated before anything runs). */
static const AvmConfigKey config_keys[] = {
        { "Mdatp", AVM_CONFIG_PATH, DEFAULT_MDATP, 0, 0, NULL },
        { "OnboardingPath", AVM_CONFIG_PATH, DEFAULT_ONBOARDING, 0, 0, NULL },
        { "OnboardingFile", AVM_CONFIG_PATH, NULL, 0, 0, NULL },
        { "OffboardingScript", AVM_CONFIG_PATH, NULL, 0, 0, NULL },
        { "RequireOffboarding", AVM_CONFIG_BOOL, "no", 0, 0, NULL },
        { "Python", AVM_CONFIG_PATH, "/usr/bin/python3", 0, 0, NULL },
        { "MdatpTimeoutSec", AVM_CONFIG_SECONDS, "120", 0, 86400, NULL },
        { "ScanTimeoutSec", AVM_CONFIG_SECONDS, "600", 0, 86400, NULL },
        { "LicensedWaitSec", AVM_CONFIG_SECONDS, NULL, 0, 86400, NULL }, /* default: 80 after onboarding, else 0 */
        { "OffboardWaitSec", AVM_CONFIG_SECONDS, "150", 0, 86400, NULL },
        {},
};

__attribute__((visibility("default"))) const AvmPlugin avm_plugin = {
        .api_version = AVM_PLUGIN_API_VERSION,
        .struct_size = sizeof(AvmPlugin),
        .id = "microsoft-mdatp",
        .vendor = "Microsoft",
        .product = "Microsoft Defender for Endpoint on Linux",
        .capabilities = AVM_CAP_ON_ACCESS | AVM_CAP_BLOCKING_FANOTIFY | AVM_CAP_INSTALL | AVM_CAP_UNINSTALL,
        .detect = mdatp_detect,
        .status = mdatp_status,
        .install = mdatp_install,
        .set_realtime = mdatp_set_realtime,
        .uninstall = mdatp_uninstall,
        .scan_file = mdatp_scan_file,
        .config_keys = config_keys,
};
