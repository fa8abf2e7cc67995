/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clamav-proto.h"

/* Copies a reply into buf, dropping one trailing NUL/newline; refuses
 * oversized replies, embedded NULs and control characters. */
static int reply_normalize(const char *reply, size_t size, char *buf, size_t buf_size) {
        if (!reply)
                return -EBADMSG;
        if (size > 0 && (reply[size - 1] == '\0' || reply[size - 1] == '\n'))
                size--;
        if (size == 0 || size >= buf_size)
                return -EBADMSG;
        for (size_t i = 0; i < size; i++) {
                unsigned char c = (unsigned char) reply[i];
                if (c < 0x20 && c != '\t')
                        return -EBADMSG;
        }
        memcpy(buf, reply, size);
        buf[size] = '\0';
        return 0;
}

int clamav_parse_ping(const char *reply, size_t size) {
        char buf[CLAMAV_REPLY_MAX];
        int r;

        r = reply_normalize(reply, size, buf, sizeof buf);
        if (r < 0)
                return r;
        return strcmp(buf, "PONG") == 0 ? 0 : -EBADMSG;
}

int clamav_parse_version(const char *reply, size_t size, ClamavVersion *ret) {
        char buf[CLAMAV_REPLY_MAX];
        char *p, *slash, *slash2, *end;
        unsigned long dbver;
        int r;

        r = reply_normalize(reply, size, buf, sizeof buf);
        if (r < 0)
                return r;
        if (strncmp(buf, "ClamAV ", 7) != 0)
                return -EBADMSG;
        p = buf + 7;
        *ret = (ClamavVersion){ .db_time = (time_t) -1 };

        slash = strchr(p, '/');
        if (slash)
                *slash = '\0';
        if (!*p || strlen(p) >= sizeof ret->version || strspn(p, "0123456789.-abcdefghijklmnopqrstuvwxyz+~") != strlen(p))
                return -EBADMSG;
        strcpy(ret->version, p);
        if (!slash)
                return 0; /* no official database loaded */

        slash2 = strchr(slash + 1, '/');
        if (!slash2)
                return -EBADMSG;
        *slash2 = '\0';
        errno = 0;
        dbver = strtoul(slash + 1, &end, 10);
        if (errno != 0 || end == slash + 1 || *end != '\0' || dbver > UINT32_MAX)
                return -EBADMSG;
        ret->db_version = (unsigned) dbver;

        /* ctime() format: "Sat Nov 22 08:30:00 2025" (local time). */
        {
                struct tm tm = { 0 };
                const char *e = strptime(slash2 + 1, "%a %b %d %H:%M:%S %Y", &tm);
                if (!e || *e != '\0')
                        return -EBADMSG;
                tm.tm_isdst = -1;
                ret->db_time = mktime(&tm);
        }
        return 0;
}

int clamav_parse_scan(const char *reply, size_t size, ClamavVerdict *ret_verdict, char *threat, size_t threat_size) {
        char buf[CLAMAV_REPLY_MAX];
        char *colon, *v;
        size_t n;
        int r;

        r = reply_normalize(reply, size, buf, sizeof buf);
        if (r < 0)
                return r;
        if (threat && threat_size > 0)
                threat[0] = '\0';
        n = strlen(buf);
        if (n > 6 && strcmp(buf + n - 6, " ERROR") == 0)
                return -EIO;
        /* "stream: OK", "stream: Name FOUND", "stream: msg ERROR", "/path: ..." */
        colon = strrchr(buf, ':');
        if (!colon || colon[1] != ' ')
                return -EBADMSG;
        v = colon + 2;
        n = strlen(v);
        if (strcmp(v, "OK") == 0) {
                *ret_verdict = CLAMAV_CLEAN;
                return 0;
        }
        if (n > 6 && strcmp(v + n - 6, " FOUND") == 0) {
                v[n - 6] = '\0';
                if (!*v || strchr(v, ' '))
                        return -EBADMSG;
                *ret_verdict = CLAMAV_FOUND;
                if (threat && threat_size > 0)
                        snprintf(threat, threat_size, "%s", v);
                return 0;
        }
        return -EBADMSG;
}

bool clamav_conf_value_ok(const char *v) {
        if (!v || !*v || strlen(v) > 1024)
                return false;
        for (const char *p = v; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

int clamav_conf_get(const char *text, size_t size, const char *key, char *buf, size_t buf_size) {
        size_t kl = key ? strlen(key) : 0;

        const char *p, *end;
        bool found = false;

        if (!text || kl == 0)
                return -EINVAL;
        p = text;
        end = text + size;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *le = nl ? nl : end;
                size_t len = (size_t) (le - p);

                if (len > 4096)
                        return -EBADMSG;
                while (len > 0 && (*p == ' ' || *p == '\t')) {
                        p++;
                        len--;
                }
                if (len > kl + 1 && strncmp(p, key, kl) == 0 && (p[kl] == ' ' || p[kl] == '\t')) {
                        const char *v = p + kl + 1;
                        size_t vl = (size_t) (le - v);
                        while (vl > 0 && (*v == ' ' || *v == '\t')) {
                                v++;
                                vl--;
                        }
                        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
                                vl--;
                        if (vl == 0 || vl >= buf_size || memchr(v, '\0', vl))
                                return -EBADMSG;
                        memcpy(buf, v, vl);
                        buf[vl] = '\0';
                        found = true;
                }
                p = nl ? nl + 1 : end;
        }
        return found ? 0 : -ENOENT;
}

int clamav_onacc_config(char *buf, size_t size, const char *socket_path, const char *probe_dir, const char *exclude_uname,
                        unsigned exclude_uid) {
        char uidbuf[16];
        int n;

        snprintf(uidbuf, sizeof uidbuf, "%u", exclude_uid);
        if (!clamav_conf_value_ok(socket_path) || !clamav_conf_value_ok(probe_dir) || socket_path[0] != '/' ||
            probe_dir[0] != '/' || strcmp(probe_dir, "/") == 0)
                return -EINVAL;
        if (exclude_uname && !clamav_conf_value_ok(exclude_uname))
                return -EINVAL;
        n = snprintf(buf, size,
                     "# Generated by avmigrate (clamav plugin). Do not edit: rewritten on every real-time switch.\n"
                     "# Configuration for clamonacc only; clamd keeps its own configuration.\n"
                     "LocalSocket %s\n"
                     "OnAccessIncludePath %s\n"
                     "OnAccessPrevention yes\n"
                     "OnAccessExtraScanning no\n"
                     "OnAccessMaxFileSize 25M\n"
                     "OnAccessMaxThreads 5\n"
                     "OnAccessCurlTimeout 10000\n"
                     "OnAccessRetryAttempts 2\n"
                     "OnAccessDenyOnError yes\n"
                     "%s %s\n",
                     socket_path, probe_dir, exclude_uname ? "OnAccessExcludeUname" : "OnAccessExcludeUID",
                     exclude_uname ? exclude_uname : uidbuf);
        if (n < 0 || (size_t) n >= size)
                return -ENAMETOOLONG;
        return 0;
}
