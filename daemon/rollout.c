/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Polling the fleet manifest: ManifestURL= and ManifestURL=.p7s fetched on
 * the event loop (fleet/fetch.h), verified as a whole (fleet_manifest_verify:
 * signature against TrustedCA= with the code-signing EKU, schema, expiry,
 * serial), then kept under $STATE_DIRECTORY/fleet/ so that a restart without
 * network keeps the policy. A rejected manifest changes nothing: the one we
 * had stays, and the journal and LastError say why.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>

#include "errors.h"
#include "log.h"
#include "paths.h"
#include "rollout.h"
#include "serial.h"
#include "signature.h"
#include "util.h"

#define FLEET_DIR "fleet"

static int fleet_path(char *buf, size_t size, const char *name) {
        char dir[PATH_MAX];
        int r = state_path(dir, sizeof(dir), FLEET_DIR);

        if (r < 0)
                return r;
        if (snprintf(buf, size, "%s/%s", dir, name) >= (int) size)
                return -ENAMETOOLONG;
        return 0;
}

void rollout_log(Manager *m, const char *message_id, int level, const char *const *fields, const char *format, ...) {
        const char *all[LOG_EVENT_MAX_FIELDS + 1];
        char serial[64], text[1024];
        size_t n = 0;
        va_list ap;

        va_start(ap, format);
        vsnprintf(text, sizeof(text), format, ap);
        va_end(ap);
        snprintf(serial, sizeof(serial), "AVMIGRATE_MANIFEST_SERIAL=%" PRIu64, m->manifest ? m->manifest->serial : 0);
        all[n++] = serial;
        for (size_t i = 0; fields && fields[i] && n < LOG_EVENT_MAX_FIELDS; i++)
                all[n++] = fields[i];
        all[n] = NULL;
        log_event_fields(message_id, level, 0, all, "%s", text);
}

static void poll_done(Rollout *r, int error, const char *why) {
        unsigned n = r->n_waiters;

        r->fetch = fleet_fetch_free(r->fetch);
        r->body = mfree(r->body);
        r->n_waiters = 0;
        for (unsigned i = 0; i < n; i++)
                if (r->waiters[i].cb)
                        r->waiters[i].cb(r->manager, error, why, r->waiters[i].userdata);
        /* The time, the percentage or paused may have changed even on a 304. */
        rollout_reschedule(r->manager);
}

/* LastError says what the rollout could not do, unless it holds a job's
 * error (kept until the next job: the admin must see that first); name NULL
 * clears the rollout's own. */
void rollout_set_error(Manager *m, const char *name, const char *format, ...) {
        Rollout *r = m->rollout;
        va_list ap;
        int k;

        /* Ours only while it still says what we wrote (a job may have
         * cleared it, or put its own there). */
        if (m->last_error[0] && !streq(m->last_error, r->error))
                return;
        if (!name)
                m->last_error[0] = 0;
        else {
                k = snprintf(m->last_error, sizeof(m->last_error), "%s: ", name);
                va_start(ap, format);
                vsnprintf(m->last_error + k, sizeof(m->last_error) - (size_t) k, format, ap);
                va_end(ap);
        }
        snprintf(r->error, sizeof(r->error), "%s", m->last_error);
        manager_changed(m);
}

/* As documented in org.avmigrate.Migrate1.xml: verification (signature,
 * signer, schema, expiry, serial) or download (network, TLS, HTTP, size). */
const char *rollout_error_name(int error) {
        if (error == -EKEYREJECTED || error == -EBADMSG || error == -EKEYEXPIRED || error == -ESTALE || error == -ENOKEY)
                return AVM_ERROR_SIGNATURE_INVALID;
        return AVM_ERROR_DOWNLOAD_FAILED;
}

unsigned rollout_stall_sec(const AvmConfig *c) {
        return (unsigned) ((c->download_stall_timeout_usec + USEC_PER_SEC - 1) / USEC_PER_SEC);
}

static bool fleet_artifact_equal(const FleetArtifact *a, const FleetArtifact *b) {
        return a->repository == b->repository &&
                (a->repository ||
                 (streq(a->url, b->url) && a->size == b->size && memcmp(a->sha256, b->sha256, sizeof(a->sha256)) == 0));
}

/* Changes nothing but LastError: the manifest we had stays in force. */
static void reject(Rollout *r, int error, const char *why) {
        Manager *m = r->manager;
        char field[FLEET_REASON_MAX + 32];

        snprintf(field, sizeof(field), "AVMIGRATE_REASON=%s", why);
        rollout_log(m, AVM_MID_MANIFEST_REJECTED, LOG_WARNING, (const char *const[]){ field, NULL },
                    "Fleet manifest from %s not used: %s", m->config->manifest_url, why);
        rollout_set_error(m, rollout_error_name(error), "fleet manifest not used: %s", why);
        poll_done(r, error, why);
}

static int save_file(const char *name, const void *data, size_t size) {
        char path[PATH_MAX];
        int r = fleet_path(path, sizeof(path), name);

        if (r >= 0)
                r = write_file_atomic(path, data, size, 0600);
        if (r < 0)
                log_warning_errno(r, "Cannot keep the fleet manifest's %s: %m", name);
        return r;
}

static int accept_manifest(Rollout *r, const FleetManifest *fm, const void *sig, size_t sig_size) {
        Manager *m = r->manager;
        char path[PATH_MAX], serial[32], dir[PATH_MAX];
        int k;

        if (state_path(dir, sizeof(dir), FLEET_DIR) < 0 || mkdir_p(dir, 0700) < 0)
                return -EIO;
        /* Document and signature first: a crash before the serial is saved
         * leaves a pair that verifies against the older serial. */
        k = save_file("manifest.json", r->body, r->body_size);
        if (k >= 0)
                k = save_file("manifest.json.p7s", sig, sig_size);
        if (k >= 0 && fleet_path(path, sizeof(path), "serial") >= 0)
                k = fleet_serial_save(path, fm->serial);
        if (k < 0)
                return k;
        /* The ETag only ever names the copy we keep. */
        snprintf(r->etag, sizeof(r->etag), "%s", r->body_etag);
        (void) save_file("manifest.etag", r->etag, strlen(r->etag));

        /* A failed start or download waits RETRY_USEC before the same
         * manifest is tried again; a new one (serial or artifact) is what
         * the admin published to fix it: try it at once. */
        if (m->manifest && (m->manifest->serial != fm->serial || !fleet_artifact_equal(&m->manifest->artifact, &fm->artifact)))
                r->retry_after = 0;
        r->manifest = *fm;
        m->manifest = &r->manifest;
        rollout_set_error(m, NULL, NULL);
        snprintf(serial, sizeof(serial), "%" PRIu64, fm->serial);
        rollout_log(m, AVM_MID_MANIFEST_ACCEPTED, LOG_INFO, NULL, "Fleet manifest %s accepted: %s → %s%s.", serial, fm->from,
                    fm->to, fm->paused ? " (paused)" : "");
        MANAGER_OBSERVE(m, manifest_changed, m);
        manager_changed(m);
        return 0;
}

static void on_signature(FleetFetch *f, int error, FleetFetchResult *result, void *userdata) {
        Rollout *r = userdata;
        Manager *m = r->manager;
        char why[FLEET_REASON_MAX + FLEET_URL_MAX + 64], path[PATH_MAX];
        FleetManifest fm;
        uint64_t last = 0;
        int k;

        if (error < 0) {
                snprintf(why, sizeof(why), "cannot fetch the signature %s.p7s: %s", m->config->manifest_url, result->reason);
                reject(r, error, why);
                return;
        }
        k = fleet_path(path, sizeof(path), "serial");
        if (k >= 0)
                k = fleet_serial_load(path, &last);
        if (k < 0) {
                snprintf(why, sizeof(why), "cannot read the last accepted serial (%s): %s", path, strerror(-k));
                reject(r, k, why);
                return;
        }
        k = fleet_manifest_verify(r->body, r->body_size, result->data, result->size, m->config->trusted_ca,
                                  now_usec(CLOCK_REALTIME), last, &fm, why, sizeof(why));
        if (k < 0) {
                reject(r, k, why);
                return;
        }
        k = accept_manifest(r, &fm, result->data, result->size);
        if (k < 0) {
                snprintf(why, sizeof(why), "cannot keep it under %s/%s: %s", state_dir(), FLEET_DIR, strerror(-k));
                reject(r, k, why);
                return;
        }
        poll_done(r, 0, NULL);
}

static int start_fetch(Rollout *r, bool signature);

static void on_manifest(FleetFetch *f, int error, FleetFetchResult *result, void *userdata) {
        Rollout *r = userdata;
        char why[FLEET_REASON_MAX + FLEET_URL_MAX + 32];
        int k;

        if (error < 0) {
                snprintf(why, sizeof(why), "cannot fetch %s: %s", r->manager->config->manifest_url, result->reason);
                reject(r, error, why);
                return;
        }
        if (result->not_modified) {
                log_debug("Fleet manifest %s: not modified.", r->manager->config->manifest_url);
                poll_done(r, 0, NULL);
                return;
        }
        r->body = result->data;
        result->data = NULL;
        r->body_size = result->size;
        snprintf(r->body_etag, sizeof(r->body_etag), "%s", result->etag);
        r->fetch = fleet_fetch_free(r->fetch);
        k = start_fetch(r, true);
        if (k < 0) {
                snprintf(why, sizeof(why), "cannot fetch the signature: %s", strerror(-k));
                reject(r, k, why);
        }
}

static int start_fetch(Rollout *r, bool signature) {
        const AvmConfig *c = r->manager->config;
        char url[FLEET_URL_MAX + 8];
        FleetFetchOptions o = {
                .url = url,
                .ca_file = empty_to_null(c->manifest_server_ca),
                .client_cert = empty_to_null(c->client_certificate),
                .client_key = empty_to_null(c->client_key),
                /* Only the copy we keep may be "not modified". */
                .etag = !signature && r->manager->manifest && r->etag[0] ? r->etag : NULL,
                .max_size = signature ? FLEET_SIGNATURE_MAX : FLEET_MANIFEST_MAX,
                .output_fd = -1,
                /* Both transfers within a D-Bus call's 25 s (Refresh waits
                 * for them): DownloadStallTimeoutSec=, at most 10 s here. */
                .connect_timeout_sec = 10,
                .stall_sec = rollout_stall_sec(c) < 10 ? rollout_stall_sec(c) : 10,
        };

        if (snprintf(url, sizeof(url), "%s%s", c->manifest_url, signature ? ".p7s" : "") >= (int) sizeof(url))
                return -ENAMETOOLONG;
        return fleet_fetch_start(r->manager->event, &o, signature ? on_signature : on_manifest, r, &r->fetch);
}

int rollout_poll(Manager *m, RolloutPollDone cb, void *userdata) {
        Rollout *r = m->rollout;
        int k;

        if (!r || isempty(m->config->manifest_url))
                return -ENOTCONN;
        if (r->n_waiters >= ROLLOUT_POLL_WAITERS_MAX)
                return -EBUSY;
        r->waiters[r->n_waiters].cb = cb;
        r->waiters[r->n_waiters].userdata = userdata;
        r->n_waiters++;
        if (r->fetch) /* joins the poll under way */
                return 0;
        if (isempty(m->config->trusted_ca)) {
                reject(r, -ENOKEY, "TrustedCA= is not set: no manifest can be verified");
                return 0;
        }
        k = start_fetch(r, false);
        if (k < 0) {
                char why[128];
                snprintf(why, sizeof(why), "cannot start the download: %s", strerror(-k));
                reject(r, k, why);
        }
        return 0;
}

/* The copy kept by an earlier run, verified again: the CA file, the clock
 * and the serial may all have changed since. */
static void load_kept(Rollout *r) {
        Manager *m = r->manager;
        _cleanup_free_ char *data = NULL, *sig = NULL, *etag = NULL;
        char path[PATH_MAX], why[FLEET_REASON_MAX];
        size_t size = 0, sig_size = 0;
        FleetManifest fm;
        uint64_t last = 0;
        int k;

        if (fleet_path(path, sizeof(path), "manifest.json") < 0 || read_file_bounded(path, FLEET_MANIFEST_MAX, &data, &size) < 0)
                return; /* none yet */
        k = fleet_path(path, sizeof(path), "manifest.json.p7s");
        if (k >= 0)
                k = read_file_bounded(path, FLEET_SIGNATURE_MAX, &sig, &sig_size);
        if (k >= 0)
                k = fleet_path(path, sizeof(path), "serial");
        if (k >= 0)
                k = fleet_serial_load(path, &last);
        if (k < 0) {
                log_warning_errno(k, "The kept fleet manifest is incomplete (%s): %m; waiting for the next poll.", path);
                return;
        }
        k = fleet_manifest_verify(data, size, sig, sig_size, m->config->trusted_ca, now_usec(CLOCK_REALTIME), last, &fm, why,
                                  sizeof(why));
        if (k < 0) {
                char field[FLEET_REASON_MAX + 32];
                snprintf(field, sizeof(field), "AVMIGRATE_REASON=%s", why);
                rollout_log(m, AVM_MID_MANIFEST_REJECTED, LOG_WARNING, (const char *const[]){ field, NULL },
                            "The kept fleet manifest is no longer used: %s", why);
                return;
        }
        r->manifest = fm;
        m->manifest = &r->manifest;
        if (fleet_path(path, sizeof(path), "manifest.etag") >= 0 && read_file_bounded(path, FLEET_ETAG_MAX, &etag, NULL) >= 0)
                snprintf(r->etag, sizeof(r->etag), "%s", etag);
        log_info("Fleet manifest %" PRIu64 " kept from an earlier run: %s → %s.", fm.serial, fm.from, fm.to);
}

static void on_manager_changed(Manager *m) {
        rollout_reschedule(m);
}

static const ManagerObserver rollout_observer = {
        .properties_changed = on_manager_changed,
};

int rollout_setup(Manager *m) {
        Rollout *r;
        int k;

        if (isempty(m->config->manifest_url))
                return 0;
        r = calloc(1, sizeof(Rollout));
        if (!r)
                return -ENOMEM;
        r->manager = m;
        r->artifact_fd = -EBADF;
        m->rollout = r;
        load_kept(r);
        k = manager_add_observer(m, &rollout_observer);
        if (k < 0)
                return k;
        if (m->manifest)
                MANAGER_OBSERVE(m, manifest_changed, m);
        return rollout_poll(m, NULL, NULL);
}

Rollout *rollout_free(Rollout *r) {
        if (!r)
                return NULL;
        /* Refresh calls still waiting get their answer. */
        for (unsigned i = 0; i < r->n_waiters; i++)
                if (r->waiters[i].cb)
                        r->waiters[i].cb(r->manager, -ECANCELED, "the daemon is stopping", r->waiters[i].userdata);
        fleet_fetch_free(r->fetch);
        fleet_fetch_free(r->artifact_fetch);
        safe_close_fd(r->artifact_fd);
        worker_free(r->census_worker);
        sd_event_source_disable_unref(r->timer);
        sd_event_source_disable_unref(r->defer);
        free(r->body);
        if (r->manager && r->manager->rollout == r) {
                r->manager->rollout = NULL;
                r->manager->manifest = NULL;
        }
        free(r);
        return NULL;
}
