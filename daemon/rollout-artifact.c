/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The manifest's artifact ({"url", "sha256", "size"}): downloaded into
 * $STATE_DIRECTORY/fleet/<sha256>.part, resumed from what is there after an
 * interruption (Range; the hash is seeded from those bytes), SHA-256 and size
 * checked while streaming, then moved to $STATE_DIRECTORY/artifacts/<sha256>/
 * where the worker's fetch step checks it again and install hands it to the
 * plugin, exactly like a local Artifact=.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "paths.h"
#include "rollout.h"
#include "util.h"

typedef struct ArtifactFetch {
        RolloutArtifactDone done;
        char hex[65];
        char part[PATH_MAX];
        bool restarted; /* once after the server ignored Range */
} ArtifactFetch;

static ArtifactFetch current;

/* The URL's last path component when it is a plain file name, else "artifact". */
static void artifact_name(const char *url, char *ret, size_t size) {
        const char *s = strrchr(url, '/') ? strrchr(url, '/') + 1 : url;
        size_t n = strcspn(s, "?#");

        if (n == 0 || n > 128 || s[0] == '.' || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-") < n)
                snprintf(ret, size, "artifact");
        else
                snprintf(ret, size, "%.*s", (int) n, s);
}

static int start(Manager *m);

static void finish(Manager *m, int error, const char *path, const char *why) {
        Rollout *r = m->rollout;

        r->artifact_fd = safe_close_fd(r->artifact_fd);
        current.done(m, error, path, current.hex, why);
}

static void on_done(FleetFetch *f, int error, FleetFetchResult *result, void *userdata) {
        Manager *m = userdata;
        Rollout *r = m->rollout;
        char dir[PATH_MAX], path[PATH_MAX], name[130], why[FLEET_REASON_MAX + 64], reason[FLEET_REASON_MAX];

        /* result lives in f: keep its reason before freeing f. */
        snprintf(reason, sizeof(reason), "%s", result->reason);
        r->artifact_fetch = fleet_fetch_free(r->artifact_fetch);
        if (error == -ERANGE && !current.restarted) {
                /* Range ignored: start over. */
                (void) ftruncate(r->artifact_fd, 0);
                current.restarted = true;
                r->artifact_fd = safe_close_fd(r->artifact_fd);
                if (start(m) >= 0)
                        return;
        }
        if (error == -EBADMSG && unlink(current.part) < 0 && errno != ENOENT) {
                /* Wrong hash or size: the bytes we have are not the artifact;
                 * never resume from them. */
                log_warning_errno(-errno, "Cannot remove %s: %m", current.part);
                (void) ftruncate(r->artifact_fd, 0);
        }
        if (error < 0) {
                /* result->reason names the URL. */
                snprintf(why, sizeof(why), "%s%s",
                         error == -EBADMSG ? "the downloaded file is not the artifact (removed, never installed): " : "", reason);
                finish(m, error, NULL, why);
                return;
        }
        artifact_name(m->manifest->artifact.url, name, sizeof(name));
        if (state_path(dir, sizeof(dir), "artifacts") < 0 ||
            snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/%s", current.hex) >= (int) sizeof(dir) - 1 ||
            mkdir_p(dir, 0700) < 0 || snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int) sizeof(path) ||
            fsync(r->artifact_fd) < 0 || rename(current.part, path) < 0) {
                snprintf(why, sizeof(why), "cannot keep the artifact in %s: %s", dir, strerror(errno));
                finish(m, -EIO, NULL, why);
                return;
        }
        log_info("Fleet artifact %s downloaded and verified (SHA-256 %s).", m->manifest->artifact.url, current.hex);
        finish(m, 0, path, NULL);
}

static int start(Manager *m) {
        Rollout *r = m->rollout;
        const FleetManifest *fm = m->manifest;
        const AvmConfig *c = m->config;
        struct stat st;
        FleetFetchOptions o = {
                .url = fm->artifact.url,
                .ca_file = empty_to_null(c->manifest_server_ca),
                .client_cert = empty_to_null(c->client_certificate),
                .client_key = empty_to_null(c->client_key),
                .max_size = fm->artifact.size,
                .sha256 = fm->artifact.sha256,
                .expected_size = fm->artifact.size,
                .stall_sec = rollout_stall_sec(c),
        };

        r->artifact_fd = open(current.part, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (r->artifact_fd < 0 || fstat(r->artifact_fd, &st) < 0)
                return -errno;
        /* A complete or longer copy left behind is not resumed: start over. */
        if ((uint64_t) st.st_size >= fm->artifact.size && ftruncate(r->artifact_fd, 0) < 0)
                return -errno;
        o.output_fd = r->artifact_fd;
        o.resume_from = (uint64_t) st.st_size >= fm->artifact.size ? 0 : (uint64_t) st.st_size;
        if (o.resume_from)
                log_info("Resuming the fleet artifact download at %ju bytes.", (uintmax_t) o.resume_from);
        return fleet_fetch_start(m->event, &o, on_done, m, &r->artifact_fetch);
}

/* Partial downloads of other artifacts: the manifest in force names one
 * artifact, and the others would only fill the disk (up to their size each). */
static void remove_other_parts(const char *dir, const char *keep) {
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n;

        if (!d)
                return;
        while ((de = readdir(d))) {
                n = strlen(de->d_name);
                if (n != 64 + strlen(".part") || !streq(de->d_name + 64, ".part") || strncmp(de->d_name, keep, 64) == 0)
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0)
                        log_warning_errno(-errno, "Cannot remove the stale partial download %s/%s: %m", dir, de->d_name);
                else
                        log_info("Removed the partial download of an artifact no longer in the manifest: %s/%s.", dir, de->d_name);
        }
        closedir(d);
}

int rollout_artifact_fetch(Manager *m, RolloutArtifactDone done) {
        const FleetManifest *fm = m->manifest;
        char dir[PATH_MAX];
        int k;

        if (!fm || fm->artifact.repository || m->rollout->artifact_fetch)
                return -EINVAL;
        current = (ArtifactFetch){ .done = done };
        for (unsigned i = 0; i < 32; i++)
                snprintf(current.hex + 2 * i, 3, "%02x", fm->artifact.sha256[i]);
        k = state_path(dir, sizeof(dir), "fleet");
        if (k >= 0)
                k = mkdir_p(dir, 0700);
        if (k < 0)
                return k;
        if (snprintf(current.part, sizeof(current.part), "%s/%s.part", dir, current.hex) >= (int) sizeof(current.part))
                return -ENAMETOOLONG;
        remove_other_parts(dir, current.hex);
        k = start(m);
        if (k < 0)
                m->rollout->artifact_fd = safe_close_fd(m->rollout->artifact_fd);
        return k;
}
