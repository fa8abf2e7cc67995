/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fleet/fetch.c against real servers (test-fleet-fetch.sh): nginx over TLS
 * with a server certificate of the run-time test PKI, serving a signed
 * manifest and an artifact; a misbehaving server (stall-server) for stalls
 * and truncation.
 *   test-fleet-fetch PKIDIR DOCROOT https://127.0.0.1:PORT https://127.0.0.1:STALLPORT
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/avm-test.h"
#include "fetch.h"
#include "manifest.h"
#include "signature.h"
#include "util.h"

static const char *pki, *docroot, *base, *stall_base;
static char ca_file[4096];

static const char *path(const char *dir, const char *name) {
        static char buf[4][4096];
        static int i;

        i = (i + 1) % 4;
        snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
        return buf[i];
}

static FleetFetchOptions opts(const char *b, const char *name, uint64_t max) {
        static char url[4][1024];
        static int i;

        i = (i + 1) % 4;
        snprintf(url[i], sizeof(url[i]), "%s/%s", b, name);
        return (FleetFetchOptions){ .url = url[i], .ca_file = ca_file, .max_size = max, .output_fd = -1 };
}

static int expect(const FleetFetchOptions *o, int error, const char *want, FleetFetchResult *ret) {
        FleetFetchResult res;
        int r = fleet_fetch(o, &res);

        CHECK(r == error);
        CHECK(!want || strstr(res.reason, want));
        if (r != error || (want && !strstr(res.reason, want)))
                fprintf(stderr, "  %s: want %d \"%s\", got %d \"%s\"\n", o->url, error, want ?: "", r, res.reason);
        if (ret)
                *ret = res;
        else
                free(res.data);
        return r;
}

static void sha256_file(const char *p, uint8_t md[32], uint64_t *size) {
        size_t n;
        char *d = load_file(docroot, p, 8 * 1024 * 1024, &n);

        EVP_Digest(d, n, md, NULL, EVP_sha256(), NULL);
        *size = n;
        free(d);
}

static void test_manifest(void) {
        FleetFetchOptions o = opts(base, "manifest.json", FLEET_MANIFEST_MAX),
                          os = opts(base, "manifest.json.p7s", FLEET_SIGNATURE_MAX);
        FleetFetchResult m = {}, s = {}, again = {};
        char reason[FLEET_REASON_MAX] = "";
        FleetManifest man;

        /* Good: fetched, then verified with the library the daemon uses. */
        CHECK(expect(&o, 0, NULL, &m) == 0);
        CHECK(expect(&os, 0, NULL, &s) == 0);
        CHECK(m.http_code == 200 && m.size > 0 && m.etag[0] == '"');
        CHECK(fleet_manifest_verify(m.data, m.size, s.data, s.size, path(pki, "ca.pem"), now_usec(CLOCK_REALTIME), 0, &man,
                                    reason, sizeof(reason)) == 0);
        if (reason[0])
                fprintf(stderr, "  %s\n", reason);
        CHECK(man.serial == 5);
        /* 304: the copy we have is current; no body. */
        o.etag = m.etag;
        CHECK(expect(&o, 0, NULL, &again) == 0);
        CHECK(again.not_modified && again.http_code == 304 && again.size == 0 && !again.data);
        /* Another ETag: the full document again. */
        o.etag = "\"stale\"";
        CHECK(expect(&o, 0, NULL, &again) == 0);
        CHECK(!again.not_modified && again.size == m.size);
        free(again.data);
        free(m.data);
        free(s.data);
}

static void test_refusals(void) {
        FleetFetchOptions o = opts(base, "manifest.json", FLEET_MANIFEST_MAX);

        /* The server's certificate does not chain to the configured CA. */
        o.ca_file = path(pki, "ca2.pem");
        expect(&o, -EPERM, "TLS verification failed", NULL);
        /* Over the cap (Content-Length tells before the body). */
        o = opts(base, "artifact.bin", 1000);
        expect(&o, -EFBIG, "more than the 1000 bytes allowed", NULL);
        o = opts(base, "missing.json", 1000);
        expect(&o, -ENOENT, "HTTP 404", NULL);
        /* Plain http is never tried. */
        o.url = "http://127.0.0.1:1/manifest.json";
        expect(&o, -EINVAL, NULL, NULL);
        /* mTLS: /private needs a client certificate of the CA. */
        o = opts(base, "private/manifest.json", FLEET_MANIFEST_MAX);
        expect(&o, -EIO, "HTTP 403", NULL);
        o.client_cert = path(pki, "client.pem");
        o.client_key = path(pki, "client.key");
        expect(&o, 0, NULL, NULL);
}

static int artifact_fd(const char *name) {
        int fd = open(path(docroot, name), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        CHECK(fd >= 0);
        return fd;
}

static void test_artifact(void) {
        FleetFetchOptions o = opts(base, "artifact.bin", 8 * 1024 * 1024);
        FleetFetchResult res = {};
        uint8_t md[32], wrong[32] = {};
        uint64_t size;
        char *head;
        size_t n;
        int fd;

        sha256_file("artifact.bin", md, &size);
        /* Good: streamed to a file, hash and size as the manifest says. */
        o.output_fd = fd = artifact_fd("out-good");
        o.sha256 = md;
        o.expected_size = size;
        CHECK(expect(&o, 0, NULL, &res) == 0);
        CHECK(res.total == size && memcmp(res.sha256, md, 32) == 0 && !res.data);
        close(fd);
        /* Wrong hash. */
        o.output_fd = fd = artifact_fd("out-wrong");
        o.sha256 = wrong;
        expect(&o, -EBADMSG, "SHA-256 does not match", NULL);
        close(fd);
        /* Wrong size. */
        o.output_fd = fd = artifact_fd("out-size");
        o.sha256 = NULL;
        o.expected_size = size + 1;
        expect(&o, -EBADMSG, "expected", NULL);
        close(fd);
        /* Resumed: the first third is already there (an interrupted download);
         * Range fetches the rest and the hash covers the whole. */
        o.output_fd = fd = artifact_fd("out-resume");
        head = load_file(docroot, "artifact.bin", size, &n);
        CHECK(write(fd, head, size / 3) == (ssize_t) (size / 3));
        free(head);
        o.resume_from = size / 3;
        o.sha256 = md;
        o.expected_size = size;
        CHECK(expect(&o, 0, NULL, &res) == 0);
        CHECK(res.http_code == 206 && res.total == size && lseek(fd, 0, SEEK_END) == (off_t) size);
        close(fd);
}

static void test_misbehaving(void) {
        FleetFetchOptions o = opts(stall_base, "stall", 1000000);

        /* Stalled: 10 bytes, then silence; given up after 2 s below 1 byte/s. */
        o.stall_sec = 2;
        expect(&o, -ETIMEDOUT, "stalled", NULL);
        /* Truncated: the connection closes before Content-Length. */
        o = opts(stall_base, "truncated", 1000000);
        expect(&o, -EPIPE, "transfer ended early after 100 bytes", NULL);
}

int main(int argc, char **argv) {
        if (argc != 5) {
                fprintf(stderr, "usage: %s PKIDIR DOCROOT BASEURL STALLURL (see test-fleet-fetch.sh)\n", argv[0]);
                return 2;
        }
        pki = argv[1];
        docroot = argv[2];
        base = argv[3];
        stall_base = argv[4];
        snprintf(ca_file, sizeof(ca_file), "%s/ca.pem", pki);
        test_manifest();
        test_refusals();
        test_artifact();
        test_misbehaving();
        return avm_test_finish();
}
