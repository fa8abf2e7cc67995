/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <sys/statvfs.h>

#include "handover.h"
#include "log.h"
#include "manager.h"
#include "paths.h"
#include "probe.h"
#include "steps.h"
#include "util.h"

#define UNINSTALL_ATTEMPTS 2
#define ARTIFACT_MAX_SIZE (2ull * 1024 * 1024 * 1024)

static void send_data(int fd, const char *key, bool value, json_object *extra) {
        json_object *o = extra ? extra : json_object_new_object();
        json_object_object_add(o, key, json_object_new_boolean(value));
        worker_send_json(fd, "DATA", o);
        json_object_put(o);
}

static int check_disk_space(OpContext *c, uint64_t min_mb) {
        struct statvfs sv;
        uint64_t avail;

        if (min_mb == 0)
                return 0;
        if (statvfs("/", &sv) < 0)
                return op_fail(c, errno, "cannot query free disk space: %m");
        avail = (uint64_t) sv.f_bavail * sv.f_frsize / (1024 * 1024);
        if (avail < min_mb)
                return op_fail(c, -ENOSPC, "only %" PRIu64 " MB free on /, %" PRIu64 " MB required", avail, min_mb);
        return 0;
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

static int step_preflight(OpContext *c, Job *j, Product *from, Product *to) {
        Manager *m = j->manager;
        AvmDetection df, dt;
        AvmStatus st;
        json_object *o;
        int r;

        r = op_detect(c, from, &df);
        if (r < 0)
                return r;
        if (!df.installed)
                return op_fail(c, -ENOENT, "%s is not installed: nothing to migrate", from->plugin->id);
        r = op_detect(c, to, &dt);
        if (r < 0)
                return r;
        if (!dt.installed && !(to->plugin->capabilities & AVM_CAP_INSTALL))
                return op_fail(c, -EOPNOTSUPP, "%s is not installed and cannot be installed by avmigrate", to->plugin->id);
        if (op_status(c, from, &st) >= 0 && !st.realtime)
                op_event(c, "old-product-not-protecting", from->plugin->id, st.detail);
        else if (from->plugin->capabilities & AVM_CAP_ON_ACCESS) {
                /* The "before" detection test: the old product blocks EICAR on access. */
                r = probe_on_access(avm_host_probe_dir(&from->host));
                op_event(c, r == 1 ? "probe-on-access-blocked" : "probe-on-access-missed", from->plugin->id, "before");
        }
        r = check_disk_space(c, m->config->min_disk_space_mb);
        if (r < 0)
                return r;
        if (m->config->require_ac_power) {
                r = check_ac_power(c);
                if (r < 0)
                        return r;
        }
        o = json_object_new_object();
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

/* Artifacts given locally ([Product <id>] Artifact=, ArtifactSHA256=) are
 * verified here; downloads from the fleet manifest arrive with the fleet
 * work. Without an artifact the product comes from the package repositories. */
static int step_fetch(OpContext *c, Job *j, Product *to) {
        const char *artifact = avm_host_config(&to->host, "Artifact");
        const char *want = avm_host_config(&to->host, "ArtifactSHA256");
        char hex[65];
        uint64_t size;
        int r;

        if (isempty(artifact)) {
                send_data(c->fd, "skipped", true, NULL);
                return 0;
        }
        if (isempty(want) || strlen(want) != 64)
                return op_fail(c, -EINVAL, "Artifact= for %s needs ArtifactSHA256= (64 hex digits)", to->plugin->id);
        r = sha256_file(artifact, hex, &size);
        if (r < 0)
                return op_fail(c, r, "cannot read artifact %s: %s", artifact, strerror(-r));
        if (strcasecmp(hex, want) != 0)
                return op_fail(c, -EBADMSG, "artifact %s has SHA-256 %s, expected %s", artifact, hex, want);
        op_event(c, "artifact-verified", to->plugin->id, artifact);
        send_data(c->fd, "skipped", false, NULL);
        return 0;
}

static int step_install(OpContext *c, Product *to) {
        AvmDetection d;
        AvmStatus st;
        int r;

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
        if (st.definitions_age_sec > 7 * 24 * 3600)
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

int steps_run_child(int fd, void *userdata) {
        Job *j = userdata;
        Manager *m = j->manager;
        Product *from = plugins_find(&m->products, j->from), *to = plugins_find(&m->products, j->to);
        OpContext c = { .fd = fd, .step = step_to_string(j->step), .verify_timeout_usec = m->config->verify_timeout_usec };

        if (!from || !to)
                return op_fail(&c, -ENOENT, "plugin %s is not loaded", from ? j->to : j->from);

        switch (j->step) {
        case STEP_PREFLIGHT:
                return step_preflight(&c, j, from, to);
        case STEP_FETCH:
                return step_fetch(&c, j, to);
        case STEP_INSTALL:
                return step_install(&c, to);
        case STEP_VERIFY_REPLACEMENT:
                return step_verify_replacement(&c, to);
        case STEP_HANDOVER:
                return handover_run(&c, from, to, j->overlap);
        case STEP_REMOVE:
                return step_remove(&c, from, to);
        case STEP_VERIFY_FINAL:
                return step_verify_final(&c, from, to);
        default:
                return op_fail(&c, -EINVAL, "step %s does not run in a worker", c.step);
        }
}

int steps_rollback_child(int fd, void *userdata) {
        Job *j = userdata;
        Manager *m = j->manager;
        Product *from = plugins_find(&m->products, j->from), *to = plugins_find(&m->products, j->to);
        OpContext c = { .fd = fd, .step = "rollback", .verify_timeout_usec = m->config->verify_timeout_usec };

        if (!from || !to)
                return op_fail(&c, -ENOENT, "plugin %s is not loaded", from ? j->to : j->from);
        return rollback_run(&c, from, to, j->overlap, j->installed_by_us);
}
