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

static bool abs_path_ok(const char *p) {
        return clamav_conf_value_ok(p) && p[0] == '/';
}

int clamav_onacc_config(char *buf, size_t size, const ClamavOnaccSpec *spec) {
        size_t used = 0;
        int n;

#define EMIT(...)                                                   \
        do {                                                        \
                n = snprintf(buf + used, size - used, __VA_ARGS__); \
                if (n < 0 || (size_t) n >= size - used)             \
                        return -ENAMETOOLONG;                       \
                used += (size_t) n;                                 \
        } while (0)

        if (!spec || !abs_path_ok(spec->socket_path) || !spec->include || !spec->include[0])
                return -EINVAL;
        if (spec->exclude_uname && !clamav_conf_value_ok(spec->exclude_uname))
                return -EINVAL;
        if (spec->temporary_dir && !abs_path_ok(spec->temporary_dir))
                return -EINVAL;
        for (size_t i = 0; spec->include[i]; i++)
                if (!abs_path_ok(spec->include[i]) || strcmp(spec->include[i], "/") == 0)
                        return -EINVAL;
        for (size_t i = 0; spec->exclude && spec->exclude[i]; i++)
                if (!abs_path_ok(spec->exclude[i]))
                        return -EINVAL;
        if (size == 0)
                return -ENAMETOOLONG;
        EMIT("# Generated by avmigrate (clamav plugin). Do not edit: rewritten on every real-time switch.\n"
             "# Configuration for clamonacc only; clamd keeps its own configuration.\n"
             "LocalSocket %s\n",
             spec->socket_path);
        for (size_t i = 0; spec->include[i]; i++)
                EMIT("OnAccessIncludePath %s\n", spec->include[i]);
        for (size_t i = 0; spec->exclude && spec->exclude[i]; i++)
                EMIT("OnAccessExcludePath %s\n", spec->exclude[i]);
        if (spec->temporary_dir)
                EMIT("TemporaryDirectory %s\n", spec->temporary_dir);
        EMIT("OnAccessPrevention yes\n"
             "OnAccessExtraScanning no\n"
             "OnAccessMaxFileSize 25M\n"
             "OnAccessMaxThreads 5\n"
             "OnAccessCurlTimeout 10000\n"
             "OnAccessRetryAttempts 2\n"
             "OnAccessDenyOnError yes\n");
        if (spec->exclude_uname)
                EMIT("OnAccessExcludeUname %s\n", spec->exclude_uname);
        else
                EMIT("OnAccessExcludeUID %u\n", spec->exclude_uid);
#undef EMIT
        return 0;
}

static bool under(const char *path, const char *root) {
        size_t l = strlen(root);
        return strncmp(path, root, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

const char *clamav_cannot_protect(const char *path, const char *tmpdir) {
        if (!path || path[0] != '/')
                return "not an absolute path";
        if (strcmp(path, "/") == 0)
                /* clamonacc/inotif/inotif.c refuses "/" while DDD is on; OnAccessMountPath
                 * turns prevention off (clamonacc/fanotif/fanotif.c). */
                return "clamonacc cannot watch \"/\" recursively with prevention on (only OnAccessMountPath can, "
                       "and it turns prevention off); name the directories instead";
        if (under(path, "/proc") || under(path, "/sys") || under(path, "/dev"))
                return "clamonacc does not watch pseudo file systems";
        if (tmpdir && strcmp(path, tmpdir) == 0)
                return "clamonacc never watches clamd's TemporaryDirectory; set TemporaryDirectory in clamd.conf elsewhere";
        return NULL;
}

static int scope_add(char (*list)[AVM_SCOPE_PATH_MAX], unsigned *n, const char *v, size_t vl) {
        if (*n >= AVM_SCOPE_MAX_PATHS || vl == 0 || vl >= AVM_SCOPE_PATH_MAX || v[0] != '/')
                return -EBADMSG;
        memcpy(list[*n], v, vl);
        list[*n][vl] = '\0';
        (*n)++;
        return 0;
}

int clamav_conf_scope(const char *text, size_t size, AvmScope *ret) {
        const char *p, *end;
        bool mount = false;

        *ret = (AvmScope){ 0 };
        if (!text)
                return -EINVAL;
        p = text;
        end = text + size;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p)), *le = nl ? nl : end, *v;
                size_t len = (size_t) (le - p), vl;
                int r = 0;

                if (len > 4096)
                        return -EBADMSG;
                while (len > 0 && (*p == ' ' || *p == '\t')) {
                        p++;
                        len--;
                }
                v = memchr(p, ' ', len);
                if (!v)
                        v = memchr(p, '\t', len);
                if (v && p[0] != '#') {
                        size_t kl = (size_t) (v - p);
                        while (v < le && (*v == ' ' || *v == '\t'))
                                v++;
                        vl = (size_t) (le - v);
                        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
                                vl--;
                        if (kl == 19 && strncmp(p, "OnAccessIncludePath", 19) == 0)
                                r = scope_add(ret->include, &ret->n_include, v, vl);
                        else if (kl == 19 && strncmp(p, "OnAccessExcludePath", 19) == 0)
                                r = scope_add(ret->exclude, &ret->n_exclude, v, vl);
                        else if (kl == 17 && strncmp(p, "OnAccessMountPath", 17) == 0)
                                mount = true;
                }
                if (r < 0)
                        return r;
                p = nl ? nl + 1 : end;
        }
        ret->known = ret->n_include > 0 && !mount;
        if (!ret->known)
                ret->n_include = ret->n_exclude = 0;
        return 0;
}
