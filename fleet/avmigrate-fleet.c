/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * avmigrate-fleet: the admin's tool for the fleet rollout (docs/avmigrate-fleet.1).
 *   sign     write MANIFEST.p7s, a detached CMS signature
 *   check    verify signature and schema, print what the fleet will do
 *   phase    is one machine in the rollout at a percentage?
 *   wave     at which percentage does one machine join?
 *   summary  the fleet's state from the central journal or a report directory
 * Exit codes: 0 ok (phase: in the rollout), 1 refused/failed (phase: not in
 * it), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "phasing.h"
#include "rfc3339.h"
#include "serial.h"
#include "signature.h"
#include "summary-sources.h"
#include "util.h"

#define EXIT_USAGE 2
#define MACHINE_ID_FILE_MAX 64

static int usage(FILE *f) {
        fprintf(f,
                "Usage:\n"
                "  avmigrate-fleet sign --key KEY --cert CERT [--chain FILE] [--output SIG] MANIFEST\n"
                "  avmigrate-fleet check --ca CA [--sig SIG] [--now TIME] [--last-serial N] MANIFEST\n"
                "  avmigrate-fleet phase --salt SALT --percentage P [--machine-id ID]\n"
                "  avmigrate-fleet wave --salt SALT [--machine-id ID]\n"
                "  avmigrate-fleet summary (--journal-dir DIR | --reports DIR) [--json]\n"
                "See avmigrate-fleet(1).\n");
        return f == stdout ? 0 : EXIT_USAGE;
}

static int fail(const char *what, int r, const char *reason) {
        fprintf(stderr, "%s: %s\n", what, !isempty(reason) ? reason : strerror(-r));
        return 1;
}

static int read_input(const char *path, size_t max, char **ret, size_t *ret_size) {
        int r = read_file_bounded(path, max, ret, ret_size);

        if (r == -EFBIG)
                fprintf(stderr, "%s: larger than the %zu bytes desktops accept\n", path, max);
        else if (r < 0)
                fprintf(stderr, "%s: %s\n", path, strerror(-r));
        return r;
}

static int verb_sign(int argc, char **argv) {
        static const struct option opts[] = {
                { "key", required_argument, NULL, 'k' },   { "cert", required_argument, NULL, 'c' },
                { "chain", required_argument, NULL, 'C' }, { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },        {},
        };
        const char *key = NULL, *cert = NULL, *chain = NULL, *out = NULL;
        char reason[FLEET_REASON_MAX] = "", outbuf[4096];
        _cleanup_free_ char *data = NULL;
        _cleanup_free_ void *sig = NULL;
        size_t n, sn;
        FleetManifest m;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                switch (c) {
                case 'k':
                        key = optarg;
                        break;
                case 'c':
                        cert = optarg;
                        break;
                case 'C':
                        chain = optarg;
                        break;
                case 'o':
                        out = optarg;
                        break;
                case 'h':
                        return usage(stdout);
                default:
                        return usage(stderr);
                }
        if (!key || !cert || optind != argc - 1)
                return usage(stderr);
        if (read_input(argv[optind], FLEET_MANIFEST_MAX, &data, &n) < 0)
                return 1;
        /* Never sign what desktops would refuse: schema first. */
        r = fleet_manifest_parse(data, n, &m, reason, sizeof(reason));
        if (r < 0)
                return fail(argv[optind], r, reason);
        r = fleet_signature_sign(data, n, key, cert, chain, &sig, &sn, reason, sizeof(reason));
        if (r < 0)
                return fail("sign", r, reason);
        if (!out) {
                snprintf(outbuf, sizeof(outbuf), "%s.p7s", argv[optind]);
                out = outbuf;
        }
        r = write_file_atomic(out, sig, sn, 0644);
        if (r < 0)
                return fail(out, r, NULL);
        printf("Signed serial %" PRIu64 ": %s\n", m.serial, out);
        return 0;
}

static void print_manifest(const FleetManifest *m, uint64_t now) {
        char t[RFC3339_LEN + 1];

        printf("Serial:    %" PRIu64 "\n", m->serial);
        printf("Expires:   %s\n", rfc3339_format(m->expires_usec, t, sizeof(t)));
        printf("Migrate:   %s → %s\n", m->from, m->to);
        if (m->artifact.repository)
                printf("Artifact:  from the package repository\n");
        else {
                printf("Artifact:  %s\n           %" PRIu64 " bytes, sha256 ", m->artifact.url, m->artifact.size);
                for (size_t i = 0; i < sizeof(m->artifact.sha256); i++)
                        printf("%02x", m->artifact.sha256[i]);
                printf("\n");
        }
        printf("Phases:\n");
        for (size_t i = 0; i < m->n_phases; i++)
                printf("  from %s  %u.%02u%%%s\n", rfc3339_format(m->phases[i].start_usec, t, sizeof(t)),
                       m->phases[i].percentage_bp / 100, m->phases[i].percentage_bp % 100,
                       m->phases[i].start_usec <= now && (i + 1 == m->n_phases || m->phases[i + 1].start_usec > now) ? "  ← now" :
                                                                                                                       "");
        printf("Now:       %u.%02u%% of the fleet%s\n", fleet_manifest_percentage_bp(m, now) / 100,
               fleet_manifest_percentage_bp(m, now) % 100, m->paused ? ", PAUSED: no new migration starts" : "");
        printf("Salt:      %s\n", m->salt);
        for (size_t i = 0; i < m->n_windows; i++)
                printf("%s%s\n", i == 0 ? "Windows:   " : "           ", m->windows[i]);
        if (m->deadline_usec)
                printf("Deadline:  %s\n", rfc3339_format(m->deadline_usec, t, sizeof(t)));
        printf("Reports:   journal %s, prometheus %s%s%s\n", m->report.journal ? "yes" : "no",
               m->report.prometheus ? "yes" : "no", m->report.upload_url[0] ? ", upload to " : "", m->report.upload_url);
}

static int verb_check(int argc, char **argv) {
        static const struct option opts[] = {
                { "ca", required_argument, NULL, 'a' },  { "sig", required_argument, NULL, 's' },
                { "now", required_argument, NULL, 'n' }, { "last-serial", required_argument, NULL, 'l' },
                { "help", no_argument, NULL, 'h' },      {},
        };
        const char *ca = NULL, *sigpath = NULL;
        char reason[FLEET_REASON_MAX] = "", sigbuf[4096];
        _cleanup_free_ char *data = NULL, *sig = NULL;
        uint64_t now = now_usec(CLOCK_REALTIME), last = 0;
        FleetManifest m;
        size_t n, sn;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                switch (c) {
                case 'a':
                        ca = optarg;
                        break;
                case 's':
                        sigpath = optarg;
                        break;
                case 'n':
                        if (rfc3339_parse(optarg, &now) < 0)
                                return fail("--now", -EINVAL, "expects a time like 2026-12-01T18:00:00Z");
                        break;
                case 'l':
                        if (parse_uint64(optarg, &last) < 0)
                                return fail("--last-serial", -EINVAL, "expects a number");
                        break;
                case 'h':
                        return usage(stdout);
                default:
                        return usage(stderr);
                }
        if (!ca || optind != argc - 1)
                return usage(stderr);
        if (!sigpath) {
                snprintf(sigbuf, sizeof(sigbuf), "%s.p7s", argv[optind]);
                sigpath = sigbuf;
        }
        if (read_input(argv[optind], FLEET_MANIFEST_MAX, &data, &n) < 0 || read_input(sigpath, FLEET_SIGNATURE_MAX, &sig, &sn) < 0)
                return 1;
        r = fleet_manifest_verify(data, n, sig, sn, ca, now, last, &m, reason, sizeof(reason));
        if (r < 0)
                return fail(argv[optind], r, reason);
        printf("%s: signature and schema OK\n", argv[optind]);
        print_manifest(&m, now);
        return 0;
}

/* "10", "10.5", "0.25": hundredths of a percent, as the manifest. */
static int parse_percentage(const char *s, unsigned *ret) {
        char *end = NULL;
        double p;

        errno = 0;
        p = strtod(s, &end);
        if (errno || end == s || *end || !isfinite(p) || p < 0 || p > 100 || fabs(p * 100 - round(p * 100)) > 1e-6)
                return -EINVAL;
        *ret = (unsigned) lround(p * 100);
        return 0;
}

static int machine_id_arg(const char *arg, char ret[FLEET_MACHINE_ID_LEN + 1]) {
        _cleanup_free_ char *buf = NULL;
        int r;

        if (!arg) {
                r = read_file_bounded("/etc/machine-id", MACHINE_ID_FILE_MAX, &buf, NULL);
                if (r < 0) {
                        (void) fail("/etc/machine-id", r, NULL);
                        return -EINVAL;
                }
                buf[strcspn(buf, "\n")] = 0;
                arg = buf;
        }
        if (!fleet_machine_id_valid(arg)) {
                fprintf(stderr, "machine id \"%.64s\" is not 32 lowercase hex characters\n", arg);
                return -EINVAL;
        }
        memcpy(ret, arg, FLEET_MACHINE_ID_LEN + 1);
        return 0;
}

static int verb_phase(int argc, char **argv, bool wave_only) {
        static const struct option opts[] = {
                { "salt", required_argument, NULL, 's' },
                { "percentage", required_argument, NULL, 'p' },
                { "machine-id", required_argument, NULL, 'm' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *salt = NULL, *id_arg = NULL;
        char id[FLEET_MACHINE_ID_LEN + 1];
        unsigned bp = 0;
        bool have_p = false;
        int c, wave;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                switch (c) {
                case 's':
                        salt = optarg;
                        break;
                case 'p':
                        if (parse_percentage(optarg, &bp) < 0)
                                return fail("--percentage", -EINVAL, "expects 0..100 with at most two decimals");
                        have_p = true;
                        break;
                case 'm':
                        id_arg = optarg;
                        break;
                case 'h':
                        return usage(stdout);
                default:
                        return usage(stderr);
                }
        if (!salt || optind != argc || have_p == wave_only)
                return usage(stderr);
        if (strlen(salt) > FLEET_SALT_MAX)
                return fail("--salt", -EINVAL, "longer than 64 characters");
        if (machine_id_arg(id_arg, id) < 0)
                return 1;
        wave = fleet_phase_wave(salt, id);
        if (wave < 0)
                return fail("wave", wave, NULL);
        if (wave_only) {
                printf("%s: wave %d%% (in the rollout from %d.%02d%% on)\n", id, (wave + 99) / 100, wave / 100, wave % 100);
                return 0;
        }
        printf("%s: %s at %u.%02u%% (wave %d%%)\n", id, fleet_phase_eligible(salt, id, bp) ? "in the rollout" : "not yet",
               bp / 100, bp % 100, (wave + 99) / 100);
        return fleet_phase_eligible(salt, id, bp) ? 0 : 1;
}

static int verb_summary(int argc, char **argv) {
        static const struct option opts[] = {
                { "journal-dir", required_argument, NULL, 'j' },
                { "reports", required_argument, NULL, 'r' },
                { "json", no_argument, NULL, 'J' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *journal = NULL, *reports = NULL;
        Summary s = {};
        bool json = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                switch (c) {
                case 'j':
                        journal = optarg;
                        break;
                case 'r':
                        reports = optarg;
                        break;
                case 'J':
                        json = true;
                        break;
                case 'h':
                        return usage(stdout);
                default:
                        return usage(stderr);
                }
        if (!journal == !reports || optind != argc)
                return usage(stderr);
        r = journal ? summary_read_journal(&s, journal) : summary_read_reports(&s, reports);
        if (r >= 0)
                r = summary_print(&s, stdout, json);
        summary_done(&s);
        if (r < 0)
                return fail(journal ?: reports, r, NULL);
        return 0;
}

int main(int argc, char **argv) {
        const char *verb = argc > 1 ? argv[1] : NULL;

        if (!verb)
                return usage(stderr);
        /* Each verb parses its own options: argv[1] becomes argv[0]. */
        argc--;
        argv++;
        if (streq(verb, "sign"))
                return verb_sign(argc, argv);
        if (streq(verb, "check"))
                return verb_check(argc, argv);
        if (streq(verb, "phase"))
                return verb_phase(argc, argv, false);
        if (streq(verb, "wave"))
                return verb_phase(argc, argv, true);
        if (streq(verb, "summary"))
                return verb_summary(argc, argv);
        if (streq(verb, "--help") || streq(verb, "-h") || streq(verb, "help"))
                return usage(stdout);
        fprintf(stderr, "Unknown verb \"%s\".\n", verb);
        return usage(stderr);
}
