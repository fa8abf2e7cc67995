/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fleet/manifest.c, signature.c, serial.c: every field's bounds and each
 * rejection reason, and signatures against a test PKI made at run time
 * (with-pki → make-pki): good, tampered, expired, lower serial, oversize,
 * wrong CA, wrong EKU, CLI-made signatures.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/avm-test.h"
#include "manifest.h"
#include "phasing.h"
#include "rfc3339.h"
#include "serial.h"
#include "signature.h"
#include "util.h"

static const char *pki;

static const char base[] =
        "{ \"version\": 1, \"serial\": 7, \"expires\": \"2027-01-01T00:00:00Z\","
        "  \"from\": \"kaspersky-kesl\", \"to\": \"clamav\","
        "  \"artifact\": { \"url\": \"https://cdn.example.org/clamav.deb\","
        "                \"sha256\": \"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\", \"size\": 1234 },"
        "  \"phases\": [ { \"start\": \"2026-12-01T00:00:00Z\", \"percentage\": 1 },"
        "               { \"start\": \"2026-12-08T00:00:00Z\", \"percentage\": 10.5 },"
        "               { \"start\": \"2026-12-15T00:00:00Z\", \"percentage\": 100 } ],"
        "  \"salt\": \"winter-2026\", \"paused\": false, \"windows\": [ \"Mon..Fri 18:00-23:00\", \"Sat,Sun 00:00-23:59\" ],"
        "  \"deadline\": \"2026-12-31T00:00:00Z\","
        "  \"report\": { \"journal\": true, \"prometheus\": true, \"upload_url\": \"https://reports.example.org/dav/\" } }";

/* base with one member set (value: JSON text) or removed (NULL); path is
 * "key" or "key.sub" or "phases[i].sub". */
static char *doc_with(const char *path, const char *value) {
        json_object *root = json_tokener_parse(base), *o = root, *v = value ? json_tokener_parse(value) : NULL;
        char key[64], *dot, *br, *s;

        snprintf(key, sizeof(key), "%s", path);
        br = strchr(key, '[');
        dot = strchr(key, '.');
        if (br && dot) {
                *br = 0;
                json_object_object_get_ex(root, key, &o);
                o = json_object_array_get_idx(o, (size_t) atoi(br + 1));
                memmove(key, dot + 1, strlen(dot + 1) + 1);
        } else if (dot) {
                *dot = 0;
                json_object_object_get_ex(root, key, &o);
                memmove(key, dot + 1, strlen(dot + 1) + 1);
        }
        if (value && !v) {
                fprintf(stderr, "bad test value %s\n", value);
                exit(2);
        }
        if (v)
                json_object_object_add(o, key, v);
        else
                json_object_object_del(o, key);
        s = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
        json_object_put(root);
        return s;
}

static void refused_text(const char *doc, size_t size, int error, const char *want) {
        char reason[FLEET_REASON_MAX] = "";
        FleetManifest m;
        int r = fleet_manifest_parse(doc, size, &m, reason, sizeof(reason));

        CHECK(r == error);
        CHECK(strstr(reason, want) != NULL);
        if (r != error || !strstr(reason, want))
                fprintf(stderr, "  %.200s\n  want %d \"%s\", got %d \"%s\"\n", doc, error, want, r, reason);
}

static void refused(const char *path, const char *value, const char *want) {
        char *doc = doc_with(path, value);

        refused_text(doc, strlen(doc), -EBADMSG, want);
        free(doc);
}

static void accepted(const char *path, const char *value) {
        char reason[FLEET_REASON_MAX] = "";
        char *doc = doc_with(path, value);
        FleetManifest m;

        CHECK(fleet_manifest_parse(doc, strlen(doc), &m, reason, sizeof(reason)) == 0);
        if (reason[0])
                fprintf(stderr, "  %s=%s refused: %s\n", path, value ?: "(removed)", reason);
        free(doc);
}

static uint64_t t(const char *s) {
        uint64_t u = 0;

        CHECK(rfc3339_parse(s, &u) == 0);
        return u;
}

static void test_good(void) {
        char reason[FLEET_REASON_MAX] = "";
        FleetManifest m;
        char *doc;

        CHECK(fleet_manifest_parse(base, strlen(base), &m, reason, sizeof(reason)) == 0);
        CHECK(m.serial == 7);
        CHECK(m.expires_usec == t("2027-01-01T00:00:00Z"));
        CHECK(streq(m.from, "kaspersky-kesl") && streq(m.to, "clamav"));
        CHECK(!m.artifact.repository && m.artifact.size == 1234 && m.artifact.sha256[1] == 0x11 && m.artifact.sha256[31] == 0xff);
        CHECK(m.n_phases == 3 && m.phases[1].percentage_bp == 1050 && m.phases[2].percentage_bp == 10000);
        CHECK(streq(m.salt, "winter-2026") && !m.paused);
        CHECK(m.n_windows == 2 && streq(m.windows[1], "Sat,Sun 00:00-23:59"));
        CHECK(m.deadline_usec == t("2026-12-31T00:00:00Z"));
        CHECK(m.report.journal && m.report.prometheus && streq(m.report.upload_url, "https://reports.example.org/dav/"));

        /* The percentage over time. */
        CHECK(fleet_manifest_percentage_bp(&m, t("2026-11-30T23:59:59Z")) == 0);
        CHECK(fleet_manifest_percentage_bp(&m, t("2026-12-01T00:00:00Z")) == 100);
        CHECK(fleet_manifest_percentage_bp(&m, t("2026-12-10T00:00:00Z")) == 1050);
        CHECK(fleet_manifest_percentage_bp(&m, t("2027-06-01T00:00:00Z")) == 10000);
        CHECK(fleet_manifest_eligible(&m, "0123456789abcdef0123456789abcdef", t("2026-12-20T00:00:00Z")));
        m.paused = true;
        CHECK(!fleet_manifest_eligible(&m, "0123456789abcdef0123456789abcdef", t("2026-12-20T00:00:00Z")));

        /* Defaults of the optional fields; the package repository as source. */
        doc = doc_with("report", NULL);
        CHECK(fleet_manifest_parse(doc, strlen(doc), &m, NULL, 0) == 0);
        CHECK(m.report.journal && !m.report.prometheus && m.report.upload_url[0] == 0);
        free(doc);
        doc = doc_with("artifact", "\"repository\"");
        CHECK(fleet_manifest_parse(doc, strlen(doc), &m, NULL, 0) == 0);
        CHECK(m.artifact.repository);
        free(doc);
        accepted("paused", NULL);
        accepted("windows", NULL);
        accepted("windows", "[]");
        accepted("deadline", NULL);
        accepted("phases[0].percentage", "0");
        accepted("phases[0].percentage", "0.01");
        accepted("from", "\"a.b_c-9\"");
        accepted("salt", "\"0123456789012345678901234567890123456789012345678901234567890123\"");
        accepted("serial", "0");
}

/* path, value (JSON text, NULL: removed), the reason expected. */
static const struct {
        const char *path, *value, *want;
} field_cases[] = {
        { "version", "2", "field version: 2 is not supported" },
        { "version", NULL, "field version: missing" },
        { "serial", "-1", "field serial: -1 is negative" },
        { "serial", "\"7\"", "field serial: must be int" },
        { "serial", "7.5", "field serial: must be int" },
        { "expires", "\"2026-13-01T00:00:00Z\"", "field expires: \"2026-13-01T00:00:00Z\" is not an RFC 3339" },
        { "expires", "\"2026-02-30T00:00:00Z\"", "is not an RFC 3339" },
        { "expires", "\"2026-12-01T18:00:00+01:00\"", "field expires: length must be" },
        { "expires", "\"2026-12-01 18:00:00Z\"", "is not an RFC 3339" },
        { "expires", NULL, "field expires: missing" },
        { "deadline", "\"tomorrow\"", "field deadline:" },
        { "from", "\"Kaspersky\"", "field from: \"Kaspersky\" is not a product id" },
        { "from", "\"a/b\"", "is not a product id" },
        { "from", "\"0123456789012345678901234567890123456789012345678901234567890123\"", "field from: length must be 1..63" },
        { "to", "\"\"", "field to: length must be 1..63" },
        { "to", "\"kaspersky-kesl\"", "fields from and to: both are \"kaspersky-kesl\"" },
        { "artifact", "\"cdn\"", "field artifact: must be \"repository\" or an object" },
        { "artifact", NULL, "field artifact: missing" },
        { "artifact.url", "\"http://cdn.example.org/x.deb\"",
          "field artifact.url: \"http://cdn.example.org/x.deb\" is not an https:// URL" },
        { "artifact.url", "\"https://user:pw@cdn.example.org/x.deb\"", "is not an https:// URL" },
        { "artifact.url", "\"https:///x.deb\"", "is not an https:// URL" },
        { "artifact.url", "\"https://cdn.example.org/a b\"", "is not an https:// URL" },
        { "artifact.sha256", "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeef\"",
          "field artifact.sha256: must be 64" },
        { "artifact.sha256", "\"00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\"",
          "field artifact.sha256: must be 64" },
        { "artifact.size", "0", "field artifact.size: 0 must be a positive number" },
        { "artifact.size", "-5", "field artifact.size: -5 must be" },
        { "artifact.mirror", "\"x\"", "unknown field artifact.mirror" },
        { "phases", "[]", "field phases: must have 1..32 entries, has 0" },
        { "phases", "{}", "field phases: must be array" },
        { "phases[2].percentage", "140", "field phases[2].percentage: 140 is out of range 0..100" },
        { "phases[0].percentage", "-1", "field phases[0].percentage: -1 is out of range 0..100" },
        { "phases[1].percentage", "10.555", "field phases[1].percentage: 10.555 has more than two decimals" },
        { "phases[1].percentage", "\"10\"", "field phases[1].percentage: must be double" },
        { "phases[2].percentage", "5", "field phases[2].percentage: must not be lower than phases[1].percentage" },
        { "phases[1].start", "\"2026-12-01T00:00:00Z\"", "field phases[1].start: must be later than phases[0].start" },
        { "phases[0].start", NULL, "field phases[0].start: missing" },
        { "phases[0].until", "\"x\"", "unknown field phases[0].until" },
        { "salt", "\"\"", "field salt: length must be 1..64" },
        { "salt", "\"01234567890123456789012345678901234567890123456789012345678901234\"", "field salt: length must be 1..64" },
        { "salt", "\"two words\"", "field salt: only printable ASCII" },
        { "salt", NULL, "field salt: missing" },
        { "paused", "1", "field paused: must be boolean" },
        { "windows", "[\"Mon..Fri 25:00-23:00\"]", "field windows[0]: \"Mon..Fri 25:00-23:00\" is not a window" },
        { "windows", "[\"Mon..Fri 18:00-23:00; Sat 10:00-12:00\"]", "field windows[0]: must be one window" },
        { "windows", "[1]", "field windows[0]: must be one window" },
        { "windows", "[\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\"]", "field windows: at most 8 entries, has 9" },
        { "report.upload_url", "\"http://reports.example.org/\"", "field report.upload_url:" },
        { "report.journal", "\"yes\"", "field report.journal: must be boolean" },
        { "report.syslog", "true", "unknown field report.syslog" },
        { "rollback", "true", "unknown field rollback" },
};

static void test_fields(void) {
        for (size_t i = 0; i < ELEMENTSOF(field_cases); i++)
                refused(field_cases[i].path, field_cases[i].value, field_cases[i].want);
}

static void test_documents(void) {
        char big[40 * 1024], *doc;
        size_t n;

        refused_text("[]", 2, -EBADMSG, "the manifest must be a JSON object");
        refused_text("{\"version\": 1", 13, -EBADMSG, "not valid JSON");
        refused_text("{} {}", 5, -EBADMSG, "not valid JSON: trailing data");
        refused_text("{}\n", 3, -EBADMSG, "field version: missing");
        refused_text("{\"a\":\0}", 7, -EBADMSG, "NUL byte");
        refused_text("[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]", 40, -EBADMSG, "not valid JSON");
        /* Over the cap: refused by size before any parsing. */
        doc = malloc(FLEET_MANIFEST_MAX + 2);
        memset(doc, ' ', FLEET_MANIFEST_MAX + 1);
        doc[0] = '{';
        doc[FLEET_MANIFEST_MAX] = '}';
        doc[FLEET_MANIFEST_MAX + 1] = 0;
        refused_text(doc, FLEET_MANIFEST_MAX + 1, -EFBIG, "more than the 262144 allowed");
        /* Exactly at the cap: fine as far as size goes. */
        doc[FLEET_MANIFEST_MAX - 1] = '}';
        doc[FLEET_MANIFEST_MAX] = 0;
        refused_text(doc, FLEET_MANIFEST_MAX, -EBADMSG, "field version: missing");
        free(doc);
        /* A long field is cut in the reason, not overflowing it. */
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        n = strlen(base);
        doc = malloc(n + sizeof(big) + 16);
        snprintf(doc, n + sizeof(big) + 16, "{\"%s\": 1, %s", big, base + 1);
        refused_text(doc, strlen(doc), -EBADMSG, "unknown field xxxx");
        free(doc);
}

static void test_clock_and_serial(const char *tmpdir) {
        char reason[FLEET_REASON_MAX] = "", path[4096];
        FleetManifest m;
        uint64_t s = 99;
        FILE *f;

        CHECK(fleet_manifest_parse(base, strlen(base), &m, NULL, 0) == 0);
        CHECK(fleet_manifest_check_expiry(&m, t("2026-12-31T23:59:59Z"), reason, sizeof(reason)) == 0);
        CHECK(fleet_manifest_check_expiry(&m, t("2027-01-01T00:00:00Z"), reason, sizeof(reason)) == -EKEYEXPIRED);
        CHECK(streq(reason, "manifest expired at 2027-01-01T00:00:00Z"));
        CHECK(fleet_manifest_check_serial(7, 7, reason, sizeof(reason)) == 0);
        CHECK(fleet_manifest_check_serial(8, 7, reason, sizeof(reason)) == 0);
        CHECK(fleet_manifest_check_serial(4, 7, reason, sizeof(reason)) == -ESTALE);
        CHECK(streq(reason, "serial 4 is lower than the last accepted 7"));

        snprintf(path, sizeof(path), "%s/manifest-serial", tmpdir);
        CHECK(fleet_serial_load(path, &s) == 0 && s == 0);
        CHECK(fleet_serial_save(path, 7) == 0);
        CHECK(fleet_serial_load(path, &s) == 0 && s == 7);
        f = fopen(path, "we");
        fputs("7x\n", f);
        fclose(f);
        CHECK(fleet_serial_load(path, &s) == -EBADMSG);
        f = fopen(path, "we");
        fputs("123456789012345678901234567890123456789\n", f);
        fclose(f);
        CHECK(fleet_serial_load(path, &s) == -EBADMSG);
}

static char *pki_file(const char *name) {
        static char buf[8][4096];
        static int i;

        i = (i + 1) % 8;
        snprintf(buf[i], sizeof(buf[i]), "%s/%s", pki, name);
        return buf[i];
}

static void *load(const char *name, size_t *n) {
        return load_file(pki, name, 1024 * 1024, n);
}

static void verify_fails(const void *data, size_t n, const void *sig, size_t sn, const char *ca, uint64_t now, int error,
                         const char *want) {
        char reason[FLEET_REASON_MAX] = "";
        int r = fleet_signature_verify(data, n, sig, sn, pki_file(ca), now, reason, sizeof(reason));

        CHECK(r == error);
        CHECK(strstr(reason, want) != NULL);
        if (r != error || !strstr(reason, want))
                fprintf(stderr, "  want %d \"%s\", got %d \"%s\"\n", error, want, r, reason);
}

static void test_signatures(void) {
        char reason[FLEET_REASON_MAX] = "";
        uint64_t now = now_usec(CLOCK_REALTIME); /* the PKI was made just now */
        size_t n, sn, cn;
        char *data = load("data.txt", &n), *sig, *garbage;
        void *ours = NULL;
        size_t on = 0;

        /* Made by the openssl CLI, verified by us. */
        sig = load("data-signer.p7s", &sn);
        CHECK(fleet_signature_verify(data, n, sig, sn, pki_file("ca.pem"), now, reason, sizeof(reason)) == 0);
        /* Tampered document: one byte. */
        data[0] ^= 1;
        verify_fails(data, n, sig, sn, "ca.pem", now, -EKEYREJECTED, "signature does not verify: ");
        data[0] ^= 1;
        /* Trusted CA is another one. */
        verify_fails(data, n, sig, sn, "ca2.pem", now, -EKEYREJECTED, "unable to get local issuer certificate");
        /* Certificates not valid at that time (before the CA existed / after 10 years). */
        verify_fails(data, n, sig, sn, "ca.pem", t("2000-01-01T00:00:00Z"), -EKEYREJECTED, "certificate is not yet valid");
        verify_fails(data, n, sig, sn, "ca.pem", t("2099-01-01T00:00:00Z"), -EKEYREJECTED, "certificate has expired");
        /* Missing CA bundle. */
        verify_fails(data, n, sig, sn, "nope.pem", now, -ENOENT, "cannot read");
        verify_fails(data, n, sig, sn, "data.txt", now, -EINVAL, "holds no PEM certificate");
        free(sig);

        /* A certificate of the right CA but without the code-signing EKU. */
        sig = load("data-tls.p7s", &sn);
        verify_fails(data, n, sig, sn, "ca.pem", now, -EKEYREJECTED, "lacks the code-signing extended key usage");
        free(sig);
        sig = load("data-noeku.p7s", &sn);
        verify_fails(data, n, sig, sn, "ca.pem", now, -EKEYREJECTED, "lacks the code-signing extended key usage");
        free(sig);
        /* A code-signing certificate of another CA. */
        sig = load("data-other.p7s", &sn);
        verify_fails(data, n, sig, sn, "ca.pem", now, -EKEYREJECTED, "unable to get local issuer certificate");
        CHECK(fleet_signature_verify(data, n, sig, sn, pki_file("ca2.pem"), now, NULL, 0) == 0);
        free(sig);

        /* Not a signature; over the cap. */
        garbage = calloc(1, FLEET_SIGNATURE_MAX + 1);
        verify_fails(data, n, garbage, 100, "ca.pem", now, -EKEYREJECTED, "not a DER CMS signature");
        verify_fails(data, n, garbage, FLEET_SIGNATURE_MAX + 1, "ca.pem", now, -EFBIG, "signature is 65537 bytes");
        free(garbage);

        /* Our signer; the openssl CLI agrees (tested in test-fleet-tool.sh). */
        CHECK(fleet_signature_sign(data, n, pki_file("signer.key"), pki_file("signer.pem"), NULL, &ours, &on, reason,
                                   sizeof(reason)) == 0);
        CHECK(fleet_signature_verify(data, n, ours, on, pki_file("ca.pem"), now, reason, sizeof(reason)) == 0);
        free(ours);
        ours = NULL;
        /* It refuses a key that desktops would refuse, and a mismatched pair. */
        CHECK(fleet_signature_sign(data, n, pki_file("tls.key"), pki_file("tls.pem"), NULL, &ours, &on, reason, sizeof(reason)) ==
              -EKEYREJECTED);
        CHECK(strstr(reason, "lacks the code-signing extended key usage") != NULL);
        CHECK(fleet_signature_sign(data, n, pki_file("tls.key"), pki_file("signer.pem"), NULL, &ours, &on, reason,
                                   sizeof(reason)) == -EINVAL);
        CHECK(strstr(reason, "does not belong to the key") != NULL);
        /* A chain file is carried along: other's signature verifies with ca2
         * even when ca2 itself rides in the CMS (untrusted) — trust comes only
         * from the bundle. */
        CHECK(fleet_signature_sign(data, n, pki_file("other.key"), pki_file("other.pem"), pki_file("ca2.pem"), &ours, &on, reason,
                                   sizeof(reason)) == 0);
        verify_fails(data, n, ours, on, "ca.pem", now, -EKEYREJECTED, "signature does not verify: ");
        free(ours);
        (void) cn;
        free(data);
}

static void *sign(const char *doc, size_t *ret_size) {
        char reason[FLEET_REASON_MAX] = "";
        void *sig = NULL;

        CHECK(fleet_signature_sign(doc, strlen(doc), pki_file("signer.key"), pki_file("signer.pem"), NULL, &sig, ret_size, reason,
                                   sizeof(reason)) == 0);
        return sig;
}

static int verify(const char *doc, size_t size, const void *sig, size_t sn, uint64_t now, uint64_t last, FleetManifest *m,
                  char *reason) {
        return fleet_manifest_verify(doc, size, sig, sn, pki_file("ca.pem"), now, last, m, reason, FLEET_REASON_MAX);
}

static void test_signed_manifest(void) {
        char reason[FLEET_REASON_MAX] = "", *doc, *p;
        uint64_t now = now_usec(CLOCK_REALTIME); /* the PKI was made just now */
        FleetManifest m = {};
        size_t sn = 0;
        void *sig;

        doc = doc_with("expires", "\"2099-01-01T00:00:00Z\"");
        sig = sign(doc, &sn);
        CHECK(verify(doc, strlen(doc), sig, sn, now, 7, &m, reason) == 0);
        CHECK(m.serial == 7);
        /* Rollback: a lower serial than the last accepted. */
        CHECK(verify(doc, strlen(doc), sig, sn, now, 8, &m, reason) == -ESTALE);
        CHECK(streq(reason, "serial 7 is lower than the last accepted 8"));
        /* Tampered: the signature is checked before the schema. */
        p = strstr(doc, "false");
        memcpy(p, "true ", 5);
        CHECK(verify(doc, strlen(doc), sig, sn, now, 0, &m, reason) == -EKEYREJECTED);
        CHECK(strstr(reason, "signature does not verify") == reason);
        /* Oversize: refused before the signature. */
        CHECK(verify(doc, FLEET_MANIFEST_MAX + 1, sig, sn, now, 0, &m, reason) == -EFBIG);
        free(doc);
        free(sig);

        /* Freeze: a replayed manifest past its expiry. */
        doc = doc_with("expires", "\"2020-01-01T00:00:00Z\"");
        sig = sign(doc, &sn);
        CHECK(verify(doc, strlen(doc), sig, sn, now, 0, &m, reason) == -EKEYEXPIRED);
        CHECK(streq(reason, "manifest expired at 2020-01-01T00:00:00Z"));
        free(doc);
        free(sig);

        /* Signed properly, but not a valid manifest. */
        doc = doc_with("phases[2].percentage", "140");
        sig = sign(doc, &sn);
        CHECK(verify(doc, strlen(doc), sig, sn, now, 0, &m, reason) == -EBADMSG);
        CHECK(streq(reason, "field phases[2].percentage: 140 is out of range 0..100"));
        free(doc);
        free(sig);
}

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: %s PKIDIR (see with-pki)\n", argv[0]);
                return 2;
        }
        pki = argv[1];
        test_good();
        test_fields();
        test_documents();
        test_clock_and_serial(pki);
        test_signatures();
        test_signed_manifest();
        return avm_test_finish();
}
