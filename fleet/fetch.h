/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Fetching the manifest, its signature and artifacts over HTTPS with
 * libcurl's multi interface inside sd-event: TLS verified against ca_file
 * (TrustedCA=), an optional client certificate (mTLS), http(s)_proxy/no_proxy
 * honoured (libcurl's default, kept on purpose), ETag/If-None-Match (304:
 * nothing to do), a size cap, a stall timeout, SHA-256 computed while
 * streaming, and resuming an interrupted download with Range. https only,
 * redirects too.
 *
 * The same transfer uploads: with put_data set it is an HTTP PUT of those
 * bytes (the fleet reports, to a WebDAV-capable server), the response body
 * capped by max_size like a download's. A PUT follows no redirect (it would
 * send the body again to wherever it points): a 3xx comes back as success
 * with its http_code, and the caller decides (report-upload.c wants a 2xx).
 *
 * Errors (the callback's error, with result->reason):
 *   -EPERM      TLS verification failed (wrong CA, name mismatch)
 *   -ENOENT     HTTP 404/410;  -EIO  any other HTTP error or transport failure
 *   -EFBIG      more than max_size bytes
 *   -ETIMEDOUT  stalled: less than stall_bytes_per_sec for stall_sec, or connect timeout
 *   -EPIPE      the server closed before Content-Length was reached (resume later)
 *   -ERANGE     the server ignored Range on a resume: truncate and start again
 *   -EBADMSG    the hash or size of the complete body is not the expected one
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "manifest.h"

#define FLEET_ETAG_MAX 255

typedef struct FleetFetchOptions {
        const char *url;         /* https:// only */
        const char *ca_file;     /* PEM bundle for the server; NULL: the system's */
        const char *client_cert; /* PEM, with client_key: mTLS; NULL: none */
        const char *client_key;
        const char *etag;             /* of the copy we have: If-None-Match; NULL: none */
        uint64_t max_size;            /* required: refuse bodies larger than this */
        int output_fd;                /* body appended here (artifacts); -1: kept in memory */
        uint64_t resume_from;         /* bytes already in output_fd: Range request, hash seeded from them */
        const uint8_t *sha256;        /* expected hash of the whole body (32 bytes); NULL: not checked */
        uint64_t expected_size;       /* 0: not checked */
        unsigned stall_sec;           /* 0: 30 s */
        unsigned stall_bytes_per_sec; /* 0: 1 */
        unsigned connect_timeout_sec; /* 0: 30 s */
        const void *put_data;         /* non-NULL: PUT these put_size bytes (copied) instead of GET */
        size_t put_size;
} FleetFetchOptions;

typedef struct FleetFetchResult {
        long http_code;
        bool not_modified;             /* 304: the copy we have is current */
        char etag[FLEET_ETAG_MAX + 1]; /* "" if the server sent none */
        char *data;                    /* in-memory body, NUL-terminated; see fleet_fetch_start() */
        size_t size;
        uint64_t total;     /* bytes of the body including resume_from */
        uint8_t sha256[32]; /* of the whole body (valid when !not_modified) */
        char reason[FLEET_REASON_MAX];
} FleetFetchResult;

typedef struct FleetFetch FleetFetch;

/* error: 0 or -errno as above. result->data is freed after the callback
 * returns, unless the callback takes it (result->data = NULL). The callback
 * may call fleet_fetch_free(f). */
typedef void (*fleet_fetch_done_t)(FleetFetch *f, int error, FleetFetchResult *result, void *userdata);

/* Starts a transfer on e; options are copied. */
int fleet_fetch_start(sd_event *e, const FleetFetchOptions *o, fleet_fetch_done_t done, void *userdata, FleetFetch **ret);

/* Cancels a running transfer (no callback) and frees; NULL-safe; returns NULL. */
FleetFetch *fleet_fetch_free(FleetFetch *f);

/* Synchronous convenience (its own event loop): for avmigrate-fleet and tests.
 * *ret is filled on success and failure; free ret->data. */
int fleet_fetch(const FleetFetchOptions *o, FleetFetchResult *ret);
