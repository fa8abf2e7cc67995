/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "gap.h"
#include "handover.h"
#include "log.h"
#include "configuration.h"
#include "diskspace.h"
#include "host.h"
#include "plugin-loader.h"
#include "paths.h"
#include "probe.h"
#include "steps.h"
#include "util.h"

#define UNINSTALL_ATTEMPTS 2
#define ARTIFACT_MAX_SIZE (2ull * 1024 * 1024 * 1024)

static int check_scope_after(OpContext *c, Product *to, json_object **ret);

static void send_data(int fd, const char *key, bool value, json_object *extra) {
        json_object *o = extra ? extra : json_object_new_object();
        json_object_object_add(o, key, json_object_new_boolean(value));
        worker_send_json(fd, "DATA", o);
        json_object_put(o);
}

/* The file systems an install writes to: /, /var (apt, dpkg), /opt (vendors). */
static int check_disk_space(OpContext *c, uint64_t min_mb) {
        char why[256];
        int r = disk_space_check(disk_space_default_paths, min_mb, why, sizeof(why));
        return r < 0 ? op_fail(c, r, "%s", why) : 0;
}

/* Desktops without any battery are on mains; with one, require "online". */
static int check_ac_power(OpContext *c) {
        DIR *d = opendir("/sys/class/power_supply");
        struct dirent *de;
        bool mains_seen = false, online = false;

        if (!d)
                return 0;
        while ((de = readdir(d))) {
                char path[PATH_MAX];
                _cleanup_free_ char *type = NULL, *on = NULL;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/class/power_supply/%s/type", de->d_name);
                if (read_file_bounded(path, 64, &type, NULL) < 0 || strncmp(type, "Mains", 5) != 0)
                        continue;
                mains_seen = true;
                snprintf(path, sizeof(path), "/sys/class/power_supply/%s/online", de->d_name);
                if (read_file_bounded(path, 16, &on, NULL) >= 0 && on[0] == '1')
                        online = true;
        }
        closedir(d);
        if (mains_seen && !online)
                return op_fail(c, -ENOTCONN, "the machine runs on battery and RequireACPower=yes");
        return 0;
}

static void read_scope(OpContext *c, Product *p, AvmScope *ret) {
        *ret = (AvmScope){ 0 };
        if (!p->plugin->scope)
                return;
        p->host.progress_fd = c->fd;
        p->host.error[0] = 0;
        if (p->plugin->scope(&p->host, ret) < 0) {
                op_event(c, "scope-unknown", p->plugin->id, p->host.error[0] ? p->host.error : "cannot read its scope");
                *ret = (AvmScope){ 0 };
        }
        ret->n_include = ret->n_include > AVM_SCOPE_MAX_PATHS ? AVM_SCOPE_MAX_PATHS : ret->n_include;
        ret->n_exclude = ret->n_exclude > AVM_SCOPE_MAX_PATHS ? AVM_SCOPE_MAX_PATHS : ret->n_exclude;
        for (unsigned i = 0; i < ret->n_include; i++)
                ret->include[i][AVM_SCOPE_PATH_MAX - 1] = 0;
        for (unsigned i = 0; i < ret->n_exclude; i++)
                ret->exclude[i][AVM_SCOPE_PATH_MAX - 1] = 0;
        ret->source[sizeof(ret->source) - 1] = 0;
}

/* The machine's scope, what the old product covered of it, and whether the
 * replacement can cover that: refused (-EXDEV, NotEligible) before anything
 * changes when it cannot. ret_roots: what the replacement will protect. */
static int preflight_scope(OpContext *c, const AvmConfig *cfg, Product *from, Product *to, json_object *report,
                           ScopeList *ret_roots) {
        ScopeList roots, absent, required, cannot = { 0 }, coverable = { 0 }, uncovered_required = { 0 };
        char list[1024], why[600] = "";
        AvmScope old;

        scope_resolve(&cfg->protected_paths, &cfg->protected_exclude, cfg->protect_mounts, &roots, &absent);
        read_scope(c, from, &old);
        scope_required(&roots, &old, &required);
        for (size_t i = 0; i < roots.n; i++) {
                int r = 0;

                if (to->plugin->can_protect) {
                        to->host.error[0] = 0;
                        r = to->plugin->can_protect(&to->host, roots.path[i]);
                }
                if (r < 0) {
                        (void) scope_list_add(&cannot, roots.path[i]);
                        if (!why[0])
                                snprintf(why, sizeof(why), "%s", to->host.error[0] ? to->host.error : strerror(-r));
                        op_event(c, "scope-not-coverable", to->plugin->id, roots.path[i]);
                } else
                        (void) scope_list_add(&coverable, roots.path[i]);
        }
        for (size_t i = 0; i < required.n; i++)
                if (scope_list_contains_under(&cannot, required.path[i]))
                        (void) scope_list_add(&uncovered_required, required.path[i]);

        json_object_object_add(report, "paths", scope_list_to_json(&roots));
        json_object_object_add(report, "absent", scope_list_to_json(&absent));
        json_object_object_add(report, "excluded", scope_list_to_json(&cfg->protected_exclude));
        json_object_object_add(report, "before", scope_avm_to_json(&old));
        json_object_object_add(report, "required", scope_list_to_json(&required));
        json_object_object_add(report, "not_coverable", scope_list_to_json(&cannot));
        scope_list_join(&roots, list, sizeof(list));
        op_event(c, "scope", NULL, list);

        if (uncovered_required.n > 0) {
                json_object *o = json_object_new_object();

                json_object_object_add(o, "scope_report", json_object_get(report));
                worker_send_json(c->fd, "DATA", o);
                json_object_put(o);
                scope_list_join(&uncovered_required, list, sizeof(list));
                return op_fail(c, -EXDEV, "%s cannot protect %s, which %s protects now (%s); not migrating", to->plugin->id, list,
                               from->plugin->id, why);
        }
        if (coverable.n == 0 && roots.n > 0)
                return op_fail(c, -EXDEV, "%s can protect none of the protection scope (%s)", to->plugin->id, why);
        *ret_roots = coverable;
        return 0;
}

/* A preflight refusal r (< 0, from op_fail): returned as it is, the step
 * ends at the first blocker; for the readiness census (all_blockers) kept in
 * blockers as {errno, message} instead, and the independent checks go on.
 * *first keeps the first one, what the step fails with in the end. */
static int refusal(OpContext *c, json_object *blockers, int *first, int r) {
        json_object *o;

        if (r >= 0)
                return 0;
        if (!c->all_blockers || !blockers)
                return r;
        if (*first == 0)
                *first = r;
        o = json_object_new_object();
        if (o) {
                json_object_object_add(o, "errno", json_object_new_int(-r));
                json_object_object_add(o, "message", json_object_new_string(c->failure));
                json_object_array_add(blockers, o);
        }
        return 0;
}

static int step_preflight(OpContext *c, const AvmConfig *cfg, Product *from, Product *to) {
        AvmDetection df, dt;
        AvmStatus st;
        json_object *o, *scope, *blockers = NULL;
        ScopeList roots = { 0 };
        bool replacement;
        int r, first = 0;

        /* Without both detections there is nothing to check against. */
        r = op_detect(c, from, &df);
        if (r < 0)
                return r;
        if (!df.installed)
                return op_fail(c, -ENOENT, "%s is not installed: nothing to migrate", from->plugin->id);
        r = op_detect(c, to, &dt);
        if (r < 0)
                return r;
        if (c->all_blockers && !(blockers = json_object_new_array()))
                return op_fail(c, -ENOMEM, "out of memory");
        replacement = dt.installed || (to->plugin->capabilities & AVM_CAP_INSTALL);
        if (!replacement)
                r = refusal(c, blockers, &first,
                            op_fail(c, -EOPNOTSUPP, "%s is not installed and cannot be installed by avmigrate", to->plugin->id));
        if (r >= 0)
                r = refusal(c, blockers, &first, check_disk_space(c, cfg->min_disk_space_mb));
        if (r >= 0 && cfg->require_ac_power)
                r = refusal(c, blockers, &first, check_ac_power(c));
        scope = json_object_new_object();
        /* What the replacement could cover means nothing if there is none. */
        if (r >= 0 && replacement)
                r = refusal(c, blockers, &first, preflight_scope(c, cfg, from, to, scope, &roots));
        if (r >= 0 && first < 0) {
                /* The census: every blocker, then the first one's error. */
                o = json_object_new_object();
                json_object_object_add(o, "blockers", json_object_get(blockers));
                worker_send_json(c->fd, "DATA", o);
                json_object_put(o);
                r = first;
        }
        json_object_put(blockers);
        if (r < 0) {
                json_object_put(scope);
                return r;
        }
        if (op_status(c, from, &st) >= 0 && !st.realtime)
                op_event(c, "old-product-not-protecting", from->plugin->id, st.detail);
        else if (from->plugin->capabilities & AVM_CAP_ON_ACCESS) {
                /* The "before" detection test: where does the old product block EICAR on access? */
                OpContext before = *c;
                int blocked;

                before.scope = &roots;
                blocked = op_probe_scope(&before, from, 2 * USEC_PER_SEC);
                op_event(c, blocked > 0 ? "probe-on-access-blocked" : "probe-on-access-missed", from->plugin->id, "before");
        }
        o = json_object_new_object();
        json_object_object_add(o, "scope", scope_list_to_json(&roots));
        json_object_object_add(o, "scope_report", scope);
        json_object_object_add(o, "from_version", json_object_new_string(df.version));
        json_object_object_add(o, "to_installed", json_object_new_boolean(dt.installed));
        send_data(c->fd, "skipped", false, o);
        return 0;
}

static int sha256_file(const char *path, char hex[65], uint64_t *size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        EVP_MD_CTX *ctx;
        unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
        unsigned mdlen = 0;
        ssize_t n;
        int r = 0;

        if (fd < 0)
                return -errno;
        ctx = EVP_MD_CTX_new();
        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(ctx);
                return -ENOMEM;
        }
        *size = 0;
        while ((n = read(fd, buf, sizeof(buf))) > 0) {
                *size += (uint64_t) n;
                if (*size > ARTIFACT_MAX_SIZE) {
                        r = -EFBIG;
                        break;
                }
                EVP_DigestUpdate(ctx, buf, (size_t) n);
        }
        if (n < 0)
                r = -errno;
        if (r >= 0)
                EVP_DigestFinal_ex(ctx, md, &mdlen);
        EVP_MD_CTX_free(ctx);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < mdlen && i < 32; i++)
                snprintf(hex + 2 * i, 3, "%02x", md[i]);
        hex[64] = 0;
        return 0;
}

/* Copies src into $STATE_DIRECTORY/artifacts/<sha256>/<name> (root-only)
 * while hashing it, and keeps the copy only if it has the expected hash:
 * what install installs is that copy, so a file changed at its source
 * after the check cannot be what gets installed. */
static int copy_verified(OpContext *c, const char *src, const char *want, char *ret, size_t ret_size) {
        char dir[PATH_MAX], tmp[PATH_MAX], hex[65];
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
        unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        uint64_t size = 0;
        EVP_MD_CTX *ctx;
        ssize_t n;
        int r = 0;

        if (!base[0] || base[0] == '.' || strlen(base) > 128)
                return op_fail(c, -EINVAL, "artifact %s: unusable file name", src);
        if (state_path(dir, sizeof(dir), "artifacts") < 0 || mkdir_p(dir, 0700) < 0)
                return op_fail(c, -EIO, "cannot create the artifact directory %s", dir);
        snprintf(tmp, sizeof(tmp), "%s/.fetch.XXXXXX", dir);
        in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return op_fail(c, -errno, "cannot read artifact %s: %m", src);
        out = mkostemp(tmp, O_CLOEXEC);
        if (out < 0)
                return op_fail(c, -errno, "cannot write into %s: %m", dir);
        ctx = EVP_MD_CTX_new();
        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
                r = -ENOMEM;
        while (r >= 0 && (n = read(in, buf, sizeof(buf))) != 0) {
                if (n < 0) {
                        r = errno == EINTR ? 0 : -errno;
                        continue;
                }
                size += (uint64_t) n;
                if (size > ARTIFACT_MAX_SIZE)
                        r = -EFBIG;
                else if (EVP_DigestUpdate(ctx, buf, (size_t) n) != 1 || write(out, buf, (size_t) n) != n)
                        r = -EIO;
        }
        if (r >= 0 && (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < 32 || fsync(out) < 0))
                r = -EIO;
        EVP_MD_CTX_free(ctx);
        for (unsigned i = 0; r >= 0 && i < 32; i++)
                snprintf(hex + 2 * i, 3, "%02x", md[i]);
        if (r >= 0 && strcasecmp(hex, want) != 0)
                r = op_fail(c, -EBADMSG, "artifact %s has SHA-256 %s, expected %s", src, hex, want);
        else if (r < 0)
                r = op_fail(c, r, "cannot copy artifact %s: %s", src, strerror(-r));
        if (r >= 0) {
                snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/%s", hex);
                if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || snprintf(ret, ret_size, "%s/%s", dir, base) >= (int) ret_size ||
                    rename(tmp, ret) < 0)
                        r = op_fail(c, -errno, "cannot keep the artifact in %s: %m", dir);
        }
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

/* The fleet manifest's artifact, downloaded by the daemon (rollout-artifact.c)
 * into the same place copy_verified() keeps a local one, with the hash the
 * signed manifest named: checked once more here. */
static int check_downloaded(OpContext *c, Job *j, Product *to) {
        char hex[65];
        uint64_t size;
        int r;

        r = sha256_file(j->artifact, hex, &size);
        if (r < 0)
                return op_fail(c, r, "cannot read the downloaded artifact %s: %s", j->artifact, strerror(-r));
        if (!streq(hex, j->artifact_sha256))
                return op_fail(c, -EBADMSG, "the downloaded artifact %s has SHA-256 %s, expected %s", j->artifact, hex,
                               j->artifact_sha256);
        op_event(c, "artifact-verified", to->plugin->id, j->artifact);
        send_data(c->fd, "skipped", false, NULL);
        return 0;
}

/* Artifacts given locally ([Product <id>] Artifact=, ArtifactSHA256=) are
 * verified here, and so is the one the daemon downloaded for a fleet
 * manifest. Without an artifact the product comes from the package
 * repositories. */
static int step_fetch(OpContext *c, Job *j, Product *to) {
        const char *artifact = avm_host_config(&to->host, "Artifact");
        const char *want = avm_host_config(&to->host, "ArtifactSHA256");
        char path[PATH_MAX];
        json_object *o;
        int r;

        if (isempty(artifact) && j->artifact[0])
                return check_downloaded(c, j, to);
        if (isempty(artifact)) {
                send_data(c->fd, "skipped", true, NULL);
                return 0;
        }
        if (isempty(want) || strlen(want) != 64 || strspn(want, "0123456789abcdefABCDEF") != 64)
                return op_fail(c, -EINVAL, "Artifact= for %s needs ArtifactSHA256= (64 hex digits)", to->plugin->id);
        r = copy_verified(c, artifact, want, path, sizeof(path));
        if (r < 0)
                return r;
        op_event(c, "artifact-verified", to->plugin->id, artifact);
        o = json_object_new_object();
        json_object_object_add(o, "artifact", json_object_new_string(path));
        json_object_object_add(o, "artifact_sha256", json_object_new_string(strrchr(path, '/') - 64));
        send_data(c->fd, "skipped", false, o);
        return 0;
}

/* The copy fetch verified, checked again (it sat on disk between the steps)
 * and handed to the plugin (avm_host_artifact()). */
static int use_artifact(OpContext *c, Job *j, Product *to) {
        char hex[65];
        uint64_t size;
        int r;

        if (!j->artifact[0])
                return 0;
        r = sha256_file(j->artifact, hex, &size);
        if (r < 0)
                return op_fail(c, r, "cannot read the fetched artifact %s: %s", j->artifact, strerror(-r));
        if (!streq(hex, j->artifact_sha256))
                return op_fail(c, -EBADMSG, "the fetched artifact %s changed since it was verified (SHA-256 %s, expected %s)",
                               j->artifact, hex, j->artifact_sha256);
        free(to->host.artifact);
        to->host.artifact = strdup(j->artifact);
        if (!to->host.artifact)
                return op_fail(c, -ENOMEM, "out of memory");
        op_event(c, "artifact-used", to->plugin->id, j->artifact);
        return 0;
}

static int step_install(OpContext *c, Job *j, Product *to) {
        AvmDetection d;
        AvmStatus st;
        int r;

        r = use_artifact(c, j, to);
        if (r < 0)
                return r;
        r = op_detect(c, to, &d);
        if (r < 0)
                return r;
        if (!d.installed) {
                r = op_install(c, to);
                if (r < 0)
                        return r;
                r = op_detect(c, to, &d);
                if (r < 0)
                        return r;
                if (!d.installed)
                        return op_fail(c, -ENOENT, "%s reports success but is not installed", to->plugin->id);
        } else
                op_event(c, "already-installed", to->plugin->id, d.version);

        /* Real-time protection stays off until the handover (passive mode). */
        r = op_status(c, to, &st);
        if (r < 0)
                return r;
        if (st.realtime) {
                r = op_set_realtime(c, to, false);
                if (r < 0)
                        return r;
        }
        send_data(c->fd, "skipped", false, NULL);
        return 0;
}

static int step_verify_replacement(OpContext *c, Product *to) {
        AvmStatus st;
        int r;

        r = op_status(c, to, &st);
        if (r < 0)
                return r;
        if (!st.running || !st.healthy)
                return op_fail(c, -EHOSTDOWN, "%s is not healthy: %s", to->plugin->id,
                               st.detail[0] ? st.detail : (st.running ? "unhealthy" : "service not running"));
        if (host_definitions_too_old(&to->host, st.definitions_age_sec))
                return op_fail(c, -ESTALE, "%s definitions are %" PRId64 " days old", to->plugin->id,
                               st.definitions_age_sec / 86400);
        r = op_verify_detects(c, to);
        if (r < 0)
                return r;
        send_data(c->fd, "skipped", false, NULL);
        return 0;
}

/* After the handover the replacement must protect before anything else
 * happens — also when the job resumes after a reboot that did not bring its
 * real-time protection back. */
static int ensure_protecting(OpContext *c, Product *to) {
        AvmStatus st;
        int r;

        r = op_status(c, to, &st);
        if (r < 0)
                return r;
        if (st.realtime)
                return 0;
        op_event(c, "replacement-not-protecting", to->plugin->id, st.detail);
        r = op_set_realtime(c, to, true);
        if (r < 0)
                return r;
        return op_verify_protecting(c, to);
}

static int step_remove(OpContext *c, Product *from, Product *to) {
        AvmDetection d;
        int r;

        r = ensure_protecting(c, to);
        if (r < 0)
                return r;

        for (unsigned attempt = 1; attempt <= UNINSTALL_ATTEMPTS; attempt++) {
                r = op_detect(c, from, &d);
                if (r < 0)
                        continue;
                if (!d.installed) {
                        send_data(c->fd, "skipped", attempt == 1, NULL);
                        return 0;
                }
                r = op_uninstall(c, from);
                if (r >= 0 && op_detect(c, from, &d) >= 0 && !d.installed) {
                        send_data(c->fd, "skipped", false, NULL);
                        return 0;
                }
                op_event(c, "uninstall-retry", from->plugin->id, NULL);
        }
        return op_fail(c, r < 0 ? r : -EBUSY, "old-product-remains: %s is still installed", from->plugin->id);
}

/* The replacement protected the whole scope at the handover but not any more
 * (clamonacc's recursive watch lost /opt when KESL's removal deleted
 * /opt/kaspersky under it — seen in the system tier): switch its real-time
 * protection off and on once. Nothing protects in between, so that is a gap
 * window of its own. */
static int rearm(OpContext *c, Product *to) {
        Gap g;
        int r;

        op_event(c, "rearm", to->plugin->id, "protection no longer covers the scope; restarting it once");
        r = gap_begin(c, "re-arming the replacement", &g);
        if (r < 0)
                return r;
        (void) op_set_realtime(c, to, false);
        r = op_set_realtime(c, to, true);
        if (r >= 0)
                r = op_verify_protecting(c, to);
        if (r >= 0)
                gap_end(c, &g, NULL);
        return r;
}

static int step_verify_final(OpContext *c, Product *from, Product *to) {
        AvmDetection d;
        AvmStatus st;
        int r;

        r = ensure_protecting(c, to);
        if (r < 0)
                return r;
        r = op_detect(c, from, &d);
        if (r < 0)
                return r;
        if (d.installed)
                return op_fail(c, -EBUSY, "%s is still installed", from->plugin->id);
        r = op_verify_protecting(c, to);
        if (r < 0) {
                r = rearm(c, to);
                if (r < 0)
                        return r;
        }
        r = check_scope_after(c, to, NULL);
        if (r < 0)
                return r;
        r = op_status(c, to, &st);
        if (r < 0)
                return r;
        if (!st.healthy)
                return op_fail(c, -EHOSTDOWN, "%s is not healthy: %s", to->plugin->id, st.detail);
        r = op_verify_detects(c, to);
        if (r < 0)
                return r;
        send_data(c->fd, "skipped", false, NULL);
        return 0;
}

/* The replacement's own configuration must cover the scope it was set to;
 * an unknown scope is left to the on-access probes. */
static int check_scope_after(OpContext *c, Product *to, json_object **ret) {
        ScopeList uncovered;
        char list[1024];
        AvmScope after;

        read_scope(c, to, &after);
        if (ret)
                *ret = scope_avm_to_json(&after);
        if (!after.known || !c->scope)
                return 0;
        scope_uncovered(c->scope, &after, &uncovered);
        if (uncovered.n == 0)
                return 0;
        scope_list_join(&uncovered, list, sizeof(list));
        return op_fail(c, -EXDEV, "%s's configuration (%s) does not cover %s", to->plugin->id, after.source, list);
}

static int step_handover(OpContext *c, Job *j, Product *from, Product *to) {
        json_object *after = NULL, *o;
        int r;

        r = handover_run(c, from, to, j->overlap);
        if (r < 0)
                return r;
        r = check_scope_after(c, to, &after);
        o = json_object_new_object();
        json_object_object_add(o, "scope_after", after);
        worker_send_json(c->fd, "DATA", o);
        json_object_put(o);
        return r;
}

/* Pointers into the job's scope for the plugins (avm_host_protected_paths()),
 * and the exclusions: the admin's, plus the other product's own files while
 * both scan side by side (mutual exclusions). Lives as long as the worker. */
static const char *protected_ptrs[SCOPE_MAX_PATHS + 1];
static const char *excluded_from[2 * SCOPE_MAX_PATHS + 1], *excluded_to[2 * SCOPE_MAX_PATHS + 1];

/* The other product's files are excluded only when the two run side by side
 * (an overlapping handover): a stop-first handover never has both scanning,
 * and an exclusion that outlives its directory is not harmless — clamonacc
 * stopped guarding /opt after /opt/kaspersky, excluded, was deleted by the
 * removal of KESL (seen in the system tier). */
static void set_excluded(const char **out, const AvmConfig *cfg, const AvmPlugin *other, bool overlap) {
        size_t n = 0;

        for (size_t i = 0; i < cfg->protected_exclude.n; i++)
                out[n++] = cfg->protected_exclude.path[i];
        for (size_t i = 0; overlap && other->own_paths && other->own_paths[i] && n < 2 * SCOPE_MAX_PATHS; i++)
                out[n++] = other->own_paths[i];
        out[n] = NULL;
}

static void set_host_scope(Job *j, const AvmConfig *cfg, Product *from, Product *to) {
        if (j->scope.n == 0 && j->step > STEP_PREFLIGHT) {
                ScopeList absent; /* a job from before scopes were recorded */
                scope_resolve(&cfg->protected_paths, &cfg->protected_exclude, cfg->protect_mounts, &j->scope, &absent);
        }
        for (size_t i = 0; i < j->scope.n; i++)
                protected_ptrs[i] = j->scope.path[i];
        protected_ptrs[j->scope.n] = NULL;
        set_excluded(excluded_from, cfg, to->plugin, j->overlap);
        set_excluded(excluded_to, cfg, from->plugin, j->overlap);
        from->host.protected_paths = protected_ptrs;
        to->host.protected_paths = protected_ptrs;
        from->host.excluded_paths = excluded_from;
        to->host.excluded_paths = excluded_to;
}

/* The job's two products, with the scope set for them. */
static int job_products(OpContext *c, Job *j, const AvmConfig *cfg, ProductSet *products, Product **ret_from, Product **ret_to) {
        Product *from = plugins_find(products, j->from), *to = plugins_find(products, j->to);

        if (!from || !to)
                return op_fail(c, -ENOENT, "plugin %s is not loaded", from ? j->to : j->from);
        set_host_scope(j, cfg, from, to);
        c->scope = &j->scope;
        *ret_from = from;
        *ret_to = to;
        return 0;
}

int steps_run(int fd, Job *j, const AvmConfig *cfg, ProductSet *products, bool all_blockers) {
        OpContext c = {
                .fd = fd,
                .step = step_to_string(j->step),
                .verify_timeout_usec = cfg->verify_timeout_usec,
                /* Only a dry run's preflight: a job that may change the
                 * machine stops at its first refusal. */
                .all_blockers = all_blockers && j->dry_run && j->step == STEP_PREFLIGHT,
        };
        Product *from, *to;
        int r;

        r = job_products(&c, j, cfg, products, &from, &to);
        if (r < 0)
                return r;
        switch (j->step) {
        case STEP_PREFLIGHT:
                return step_preflight(&c, cfg, from, to);
        case STEP_FETCH:
                return step_fetch(&c, j, to);
        case STEP_INSTALL:
                return step_install(&c, j, to);
        case STEP_VERIFY_REPLACEMENT:
                return step_verify_replacement(&c, to);
        case STEP_HANDOVER:
                return step_handover(&c, j, from, to);
        case STEP_REMOVE:
                return step_remove(&c, from, to);
        case STEP_VERIFY_FINAL:
                return step_verify_final(&c, from, to);
        default:
                return op_fail(&c, -EINVAL, "step %s does not run in a worker", c.step);
        }
}

int steps_rollback(int fd, Job *j, const AvmConfig *cfg, ProductSet *products) {
        OpContext c = { .fd = fd, .step = "rollback", .verify_timeout_usec = cfg->verify_timeout_usec };
        Product *from, *to;
        int r;

        r = job_products(&c, j, cfg, products, &from, &to);
        if (r < 0)
                return r;
        return rollback_run(&c, from, to, j->overlap, j->installed_by_us);
}

int steps_restore(int fd, Job *j, const AvmConfig *cfg, ProductSet *products) {
        OpContext c = { .fd = fd, .step = "restore", .verify_timeout_usec = cfg->verify_timeout_usec };
        Product *from, *to;
        int r;

        r = job_products(&c, j, cfg, products, &from, &to);
        if (r < 0)
                return r;
        return restore_protection(&c, from, to, j->step > STEP_HANDOVER);
}
