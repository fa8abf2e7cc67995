/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The fleet manifest: a static JSON document, signed with a detached CMS
 * signature (signature.h), that tells a fleet what to migrate to, from where,
 * and who goes when. Schema (docs/avmigrate-fleet.1, policy/manifest.example.json):
 *
 *   version   1 (required; any other value is refused)
 *   serial    unsigned integer (required); never lower than the last accepted
 *   expires   RFC 3339 UTC (required); refused from that instant on
 *   from, to  product ids [a-z0-9._-]{1,63} (required), different
 *   artifact  "repository" or {"url": https URL, "sha256": 64 hex, "size": bytes}
 *   phases    [{"start": RFC 3339, "percentage": 0..100, at most 2 decimals}],
 *             1..FLEET_PHASES_MAX, starts strictly increasing, percentages
 *             non-decreasing (raising the percentage only ever adds machines)
 *   salt      1..64 printable ASCII characters (required)
 *   paused    bool (default false): no new migration starts
 *   windows   [MaintenanceWindow= syntax, "Mon..Fri 18:00-23:00"] (default: none
 *             of its own; the desktop's configuration applies)
 *   deadline  RFC 3339 UTC (optional): from then on windows no longer hold back
 *   report    {"journal": bool (default true), "prometheus": bool (default
 *             false), "upload_url": https URL (optional)}
 *
 * Unknown fields are refused, at every level: the document is signed policy,
 * and a desktop that silently ignores a field the admin relies on ("paused" in
 * a newer spelling) would do the opposite of what was signed. New fields come
 * with a new "version".
 *
 * Every function that refuses writes a one-line human-readable reason into
 * reason (if not NULL), e.g. "field phases[2].percentage: 140 is out of range
 * 0..100", and returns a negative errno:
 *   -EBADMSG  not valid JSON, or the schema is not met
 *   -EFBIG    the document or signature is larger than its cap
 *   -EKEYREJECTED  signature does not verify / signer not trusted / no code-signing EKU
 *   -EKEYEXPIRED   the manifest has expired
 *   -ESTALE   serial lower than the last accepted one
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLEET_MANIFEST_MAX (256u * 1024u) /* bytes of JSON */
#define FLEET_ID_MAX 63
#define FLEET_URL_MAX 2048
#define FLEET_SALT_MAX 64
#define FLEET_PHASES_MAX 32
#define FLEET_WINDOWS_MAX 8
#define FLEET_WINDOW_MAX 64
#define FLEET_REASON_MAX 512 /* a good size for reason buffers */

typedef struct FleetArtifact {
        bool repository; /* from the desktop's package repository; url/sha256/size unset */
        char url[FLEET_URL_MAX + 1];
        uint8_t sha256[32];
        uint64_t size;
} FleetArtifact;

typedef struct FleetPhase {
        uint64_t start_usec;    /* CLOCK_REALTIME µs */
        unsigned percentage_bp; /* hundredths of a percent, 0..10000 */
} FleetPhase;

typedef struct FleetReport {
        bool journal;
        bool prometheus;
        char upload_url[FLEET_URL_MAX + 1]; /* "" = none */
} FleetReport;

/* Plain data, no pointers: copy it, keep it on the stack, free nothing. */
typedef struct FleetManifest {
        uint64_t serial;
        uint64_t expires_usec;
        char from[FLEET_ID_MAX + 1];
        char to[FLEET_ID_MAX + 1];
        FleetArtifact artifact;
        FleetPhase phases[FLEET_PHASES_MAX];
        size_t n_phases;
        char salt[FLEET_SALT_MAX + 1];
        bool paused;
        char windows[FLEET_WINDOWS_MAX][FLEET_WINDOW_MAX + 1];
        size_t n_windows;
        uint64_t deadline_usec; /* 0 = none */
        FleetReport report;
} FleetManifest;

/* Schema only: parses size bytes of JSON (no signature check, no clock). */
int fleet_manifest_parse(const char *data, size_t size, FleetManifest *ret, char *reason, size_t reason_size);

/* -EKEYEXPIRED with "expired at …" once now_usec >= expires. */
int fleet_manifest_check_expiry(const FleetManifest *m, uint64_t now_usec, char *reason, size_t reason_size);

/* -ESTALE with "serial 4 is lower than the last accepted 7" if serial < last.
 * An equal serial is accepted: the same manifest fetched again. */
int fleet_manifest_check_serial(uint64_t serial, uint64_t last_accepted, char *reason, size_t reason_size);

/* Everything a desktop does with a fetched manifest, in this order: size
 * caps, the signature against the CA bundle in ca_file (signer with the
 * code-signing EKU, certificates valid at now_usec), the schema, expiry, then
 * the serial against last_accepted (persist ret->serial with
 * fleet_serial_save() once acted upon). ret is written only on success. */
int fleet_manifest_verify(const void *data, size_t size, const void *sig, size_t sig_size, const char *ca_file, uint64_t now_usec,
                          uint64_t last_accepted, FleetManifest *ret, char *reason, size_t reason_size);

/* The percentage (hundredths) in force at now_usec: the last phase that has
 * started, 0 before the first. Ignores paused: see fleet_manifest_eligible(). */
unsigned fleet_manifest_percentage_bp(const FleetManifest *m, uint64_t now_usec);

/* Whether this machine may start its migration now: not paused and inside the
 * rollout at the current percentage (phasing.h). machine_id: 32 hex chars. */
bool fleet_manifest_eligible(const FleetManifest *m, const char *machine_id, uint64_t now_usec);
