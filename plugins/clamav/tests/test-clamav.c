/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the clamd reply parsers and the generated clamonacc configuration. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avm-test.h"

#include "../clamav-proto.h"

#define REPLY_FILE_MAX 65534 /* captured replies are read into a 64 KiB buffer */

static int scan_file(const char *name, ClamavVerdict *v, char *threat, size_t size) {
        size_t n;
        char *b = load_file(TEST_DATA_DIR, name, REPLY_FILE_MAX, &n);
        int r = clamav_parse_scan(b, n, v, threat, size);
        free(b);
        return r;
}

int main(void) {
        ClamavVerdict v;
        ClamavVersion ver;
        char threat[128], buf[8192], sock[256];
        size_t n;
        char *b;

        /* PING */
        b = load_file(TEST_DATA_DIR, "ping.reply", REPLY_FILE_MAX, &n);
        CHECK(clamav_parse_ping(b, n) == 0);
        free(b);
        CHECK(clamav_parse_ping("PONGX", 5) == -EBADMSG);
        CHECK(clamav_parse_ping("", 0) == -EBADMSG);
        CHECK(clamav_parse_ping(NULL, 0) == -EBADMSG);

        /* VERSION */
        b = load_file(TEST_DATA_DIR, "version-custom-db.reply", REPLY_FILE_MAX, &n);
        CHECK(clamav_parse_version(b, n, &ver) == 0);
        CHECK(strcmp(ver.version, "1.4.6") == 0 && ver.db_version == 0 && ver.db_time == (time_t) -1);
        free(b);
        b = load_file(TEST_DATA_DIR, "version-official.reply", REPLY_FILE_MAX, &n);
        CHECK(clamav_parse_version(b, n, &ver) == 0);
        CHECK(strcmp(ver.version, "1.4.6") == 0 && ver.db_version == 27829 && ver.db_time > 1700000000);
        free(b);
        CHECK(clamav_parse_version("ClamAV 1.4.6/abc/Sat Nov 22 08:30:02 2025", 41, &ver) == -EBADMSG);
        CHECK(clamav_parse_version("ClamAV 1.4.6/1/yesterday", 24, &ver) == -EBADMSG);
        CHECK(clamav_parse_version("ClamAV 1.4.6/1", 14, &ver) == -EBADMSG);
        CHECK(clamav_parse_version("Clam", 4, &ver) == -EBADMSG);
        CHECK(clamav_parse_version("ClamAV \x01\x02", 9, &ver) == -EBADMSG);
        CHECK(clamav_parse_version("ClamAV 1.0\0junk", 15, &ver) == -EBADMSG); /* embedded NUL */

        /* scan replies */
        CHECK(scan_file("instream-found.reply", &v, threat, sizeof threat) == 0);
        CHECK(v == CLAMAV_FOUND && strcmp(threat, "Eicar-Test-Signature.UNOFFICIAL") == 0);
        CHECK(scan_file("instream-clean.reply", &v, threat, sizeof threat) == 0 && v == CLAMAV_CLEAN);
        CHECK(scan_file("instream-clean-n.reply", &v, threat, sizeof threat) == 0 && v == CLAMAV_CLEAN);
        CHECK(scan_file("instream-limit.reply", &v, threat, sizeof threat) == -EIO);
        CHECK(scan_file("scan-error.reply", &v, threat, sizeof threat) == -EIO);
        CHECK(scan_file("unknown.reply", &v, threat, sizeof threat) == -EBADMSG);
        CHECK(clamav_parse_scan("stream: FOUND", 13, &v, threat, sizeof threat) == -EBADMSG);
        CHECK(clamav_parse_scan("stream:  FOUND", 14, &v, threat, sizeof threat) == -EBADMSG);
        CHECK(clamav_parse_scan("stream: a b FOUND", 17, &v, threat, sizeof threat) == -EBADMSG);
        CHECK(clamav_parse_scan("stream: OK\nstream: X FOUND", 26, &v, threat, sizeof threat) == -EBADMSG);
        /* truncated reply */
        CHECK(clamav_parse_scan("stream: Eicar-Test-Sig", 22, &v, threat, sizeof threat) == -EBADMSG);
        /* oversized reply */
        {
                char *big = malloc(CLAMAV_REPLY_MAX + 10);
                memset(big, 'A', CLAMAV_REPLY_MAX + 10);
                memcpy(big, "stream: ", 8);
                memcpy(big + CLAMAV_REPLY_MAX + 4, " FOUND", 6);
                CHECK(clamav_parse_scan(big, CLAMAV_REPLY_MAX + 10, &v, threat, sizeof threat) == -EBADMSG);
                free(big);
        }
        /* threat name longer than the buffer is cut, not overflowed */
        CHECK(clamav_parse_scan("stream: Very-Long-Threat-Name.UNOFFICIAL FOUND", 46, &v, threat, 8) == 0 && strlen(threat) == 7);
        /* garbage bytes */
        {
                char garbage[512];
                for (size_t i = 0; i < sizeof garbage; i++)
                        garbage[i] = (char) (i * 131 + 7);
                CHECK(clamav_parse_scan(garbage, sizeof garbage, &v, threat, sizeof threat) < 0);
                CHECK(clamav_parse_version(garbage, sizeof garbage, &ver) < 0);
                CHECK(clamav_parse_ping(garbage, sizeof garbage) < 0);
        }

        /* clamd.conf parsing */
        {
                const char *conf = "# comment\nForeground yes\n  LocalSocket /tmp/a.sock  \nUser clamav\nLocalSocketGroup x\n";
                CHECK(clamav_conf_get(conf, strlen(conf), "LocalSocket", sock, sizeof sock) == 0 &&
                      strcmp(sock, "/tmp/a.sock") == 0);
                CHECK(clamav_conf_get(conf, strlen(conf), "User", sock, sizeof sock) == 0 && strcmp(sock, "clamav") == 0);
                CHECK(clamav_conf_get(conf, strlen(conf), "TCPSocket", sock, sizeof sock) == -ENOENT);
                CHECK(clamav_conf_get(conf, strlen(conf), "LocalSocket", sock, 4) == -EBADMSG);
        }

        /* generated clamonacc configuration */
        {
                const char *const inc[] = { "/home", "/tmp", "/media/anna/USB STICK", NULL };
                const char *const exc[] = { "/opt/kaspersky", NULL };
                const char *const root[] = { "/", NULL };
                const char *const rel[] = { "relative", NULL };
                ClamavOnaccSpec spec = { .socket_path = "/run/clamav/clamd.ctl",
                                         .include = inc,
                                         .exclude = exc,
                                         .temporary_dir = "/var/lib/clamav/tmp",
                                         .exclude_uname = "clamav" };
                AvmScope sc;

                CHECK(clamav_onacc_config(buf, sizeof buf, &spec) == 0);
                CHECK(strstr(buf, "\nOnAccessPrevention yes\n") && strstr(buf, "\nOnAccessIncludePath /home\n") &&
                      strstr(buf, "\nOnAccessIncludePath /tmp\n") && strstr(buf, "\nOnAccessIncludePath /media/anna/USB STICK\n") &&
                      strstr(buf, "\nOnAccessExcludePath /opt/kaspersky\n") &&
                      strstr(buf, "\nTemporaryDirectory /var/lib/clamav/tmp\n") &&
                      strstr(buf, "\nLocalSocket /run/clamav/clamd.ctl\n") && strstr(buf, "\nOnAccessExcludeUname clamav\n"));
                /* What we write reads back as the scope we asked for. */
                CHECK(clamav_conf_scope(buf, strlen(buf), &sc) == 0 && sc.known && sc.n_include == 3 && sc.n_exclude == 1 &&
                      strcmp(sc.include[2], "/media/anna/USB STICK") == 0 && strcmp(sc.exclude[0], "/opt/kaspersky") == 0);
                spec.exclude_uname = NULL;
                spec.exclude_uid = 65534;
                CHECK(clamav_onacc_config(buf, sizeof buf, &spec) == 0 && strstr(buf, "\nOnAccessExcludeUID 65534\n"));
                spec.include = root;
                CHECK(clamav_onacc_config(buf, sizeof buf, &spec) == -EINVAL);
                spec.include = rel;
                CHECK(clamav_onacc_config(buf, sizeof buf, &spec) == -EINVAL);
                spec.include = inc;
                spec.socket_path = "/s\nOnAccessPrevention no";
                CHECK(clamav_onacc_config(buf, sizeof buf, &spec) == -EINVAL);
                spec.socket_path = "/s";
                CHECK(clamav_onacc_config(buf, 16, &spec) == -ENAMETOOLONG);

                /* Debian's clamd.conf as shipped (no on-access lines): unknown; OnAccessMountPath: no prevention, unknown. */
                CHECK(clamav_conf_scope("LocalSocket /var/run/clamav/clamd.ctl\nUser clamav\n", 47, &sc) == 0 && !sc.known);
                CHECK(clamav_conf_scope("OnAccessMountPath /\nOnAccessIncludePath /home\n", 46, &sc) == 0 && !sc.known);
                CHECK(clamav_conf_scope("OnAccessIncludePath relative\n", 29, &sc) == -EBADMSG);
                CHECK(clamav_cannot_protect("/", NULL) && clamav_cannot_protect("/proc/1", NULL) &&
                      clamav_cannot_protect("/tmp", "/tmp") && !clamav_cannot_protect("/tmp", "/var/lib/clamav/tmp") &&
                      !clamav_cannot_protect("/home", NULL));
        }

        return avm_test_finish();
}
