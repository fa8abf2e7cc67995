/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* clamd replies and clamd.conf (plugins/clamav/clamav-proto.c). The reply
 * parsers take a length and no terminator, so they get an exact-size copy
 * (any read past it is an ASan error); clamav_conf_get() gets the input as
 * the clamav plugin reads a file: NUL-terminated. */
#include "clamav-proto.h"
#include "fuzz.h"

static const char *const scope[] = { "/home", "/var/tmp", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *reply = malloc(size ? size : 1), *text = fuzz_strndup(data, size);
        char threat[256], buf[1024], conf[8192];
        ClamavVersion v;
        ClamavVerdict verdict;
        int r;

        if (!reply || !text)
                goto finish;
        if (size > 0)
                memcpy(reply, data, size);
        (void) clamav_parse_ping(reply, size);
        if (clamav_parse_version(reply, size, &v) == 0)
                FUZZ_ASSERT(v.version[0] && strlen(v.version) < sizeof(v.version));
        r = clamav_parse_scan(reply, size, &verdict, threat, sizeof(threat));
        if (r == 0 && verdict == CLAMAV_FOUND)
                FUZZ_ASSERT(threat[0] && !strchr(threat, ' '));
        (void) clamav_parse_scan(reply, size, &verdict, NULL, 0);
        (void) clamav_parse_scan(reply, size, &verdict, threat, 8);

        if (clamav_conf_get(text, size, "LocalSocket", buf, sizeof(buf)) == 0 && clamav_conf_value_ok(buf) && buf[0] == '/' &&
            clamav_onacc_config(conf, sizeof(conf),
                                &(ClamavOnaccSpec){ .socket_path = buf, .include = scope, .exclude_uid = 65534 }) == 0) {
                char back[1024];
                /* what we generate from a socket path reads back as that path */
                FUZZ_ASSERT(clamav_conf_get(conf, strlen(conf), "LocalSocket", back, sizeof(back)) == 0);
                FUZZ_ASSERT(strcmp(back, buf) == 0);
        }
        if (clamav_conf_get(text, size, "User", buf, 64) == 0)
                (void) clamav_onacc_config(
                        conf, sizeof(conf),
                        &(ClamavOnaccSpec){ .socket_path = "/run/clamav/clamd.ctl", .include = scope, .exclude_uname = buf });
        {
                AvmScope sc;
                if (clamav_conf_scope(text, size, &sc) == 0 && sc.known)
                        FUZZ_ASSERT(sc.n_include >= 1 && sc.n_include <= AVM_SCOPE_MAX_PATHS && sc.include[0][0] == '/');
        }
        (void) clamav_cannot_protect(text, "/tmp");
        (void) clamav_conf_value_ok(text);
finish:
        free(reply);
        free(text);
        return 0;
}
