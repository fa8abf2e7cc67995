/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>

#include "process-id.h"
#include "util.h"

#define STAT_MAX 4096

/* Field 3 (state) and field 22 (starttime) of /proc/PID/stat. The command
 * name (field 2) may contain spaces and parentheses: fields are counted from
 * the last ')'. */
static int read_stat(pid_t pid, char *ret_state, uint64_t *ret_start) {
        char path[64];
        _cleanup_free_ char *stat = NULL;
        const char *p;
        unsigned field = 3;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        r = read_file_bounded(path, STAT_MAX, &stat, NULL);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        p = strrchr(stat, ')');
        if (!p || p[1] != ' ')
                return -EBADMSG;
        p += 2;
        *ret_state = *p;
        while (field < 22) {
                p = strchr(p, ' ');
                if (!p)
                        return -EBADMSG;
                p++;
                field++;
        }
        return sscanf(p, "%" SCNu64, ret_start) == 1 ? 0 : -EBADMSG;
}

/* 32 hex digits, or the 36 characters of the UUID form (the kernel's
 * boot_id). Ours, not sd_id128_from_string(): avmigrate-worker records its
 * pid at every start and links libsystemd only when a plugin asks for a
 * unit (worker-lazy.c). */
static int id128_parse(const char *s, size_t len, sd_id128_t *ret) {
        sd_id128_t id = {};
        size_t n = 0;

        if (len != 32 && len != 36)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                int v;

                if (len == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
                        if (s[i] != '-')
                                return -EINVAL;
                        continue;
                }
                if (s[i] >= '0' && s[i] <= '9')
                        v = s[i] - '0';
                else if (s[i] >= 'a' && s[i] <= 'f')
                        v = s[i] - 'a' + 10;
                else if (s[i] >= 'A' && s[i] <= 'F')
                        v = s[i] - 'A' + 10;
                else
                        return -EINVAL;
                id.bytes[n / 2] = (uint8_t) (id.bytes[n / 2] << 4 | v);
                n++;
        }
        *ret = id;
        return 0;
}

/* /proc/sys/kernel/random/boot_id, read once: it cannot change while we run. */
static int boot_id_get(sd_id128_t *ret) {
        static sd_id128_t cached;
        static bool have;
        _cleanup_free_ char *s = NULL;
        size_t len;
        int r;

        if (!have) {
                r = read_file_bounded("/proc/sys/kernel/random/boot_id", 64, &s, &len);
                if (r < 0)
                        return r;
                while (len > 0 && s[len - 1] == '\n')
                        len--;
                r = id128_parse(s, len, &cached);
                if (r < 0)
                        return r;
                have = true;
        }
        *ret = cached;
        return 0;
}

int process_id_get(pid_t pid, ProcessId *ret) {
        char state;
        int r;

        if (pid == 0)
                pid = getpid();
        if (pid <= 0)
                return -EINVAL;
        *ret = (ProcessId){ .pid = pid };
        r = boot_id_get(&ret->boot_id);
        if (r < 0)
                return r;
        return read_stat(pid, &state, &ret->start_time);
}

int process_id_format(const ProcessId *id, char *buf, size_t size) {
        int r = snprintf(buf, size, "%d %" PRIu64 " " SD_ID128_FORMAT_STR "\n", (int) id->pid, id->start_time,
                         SD_ID128_FORMAT_VAL(id->boot_id));
        return r < 0 || (size_t) r >= size ? -ENOBUFS : 0;
}

int process_id_parse(const char *s, ProcessId *ret) {
        char boot[SD_ID128_STRING_MAX + 1];
        uint64_t start;
        int pid, n = 0;

        if (sscanf(s, "%d %" SCNu64 " %32s%n", &pid, &start, boot, &n) != 3 || pid <= 1)
                return -EBADMSG;
        if (s[n] != 0 && s[n] != '\n')
                return -EBADMSG;
        if (id128_parse(boot, strlen(boot), &ret->boot_id) < 0)
                return -EBADMSG;
        ret->pid = pid;
        ret->start_time = start;
        return 0;
}

bool process_id_alive(const ProcessId *id) {
        sd_id128_t boot;
        uint64_t start;
        char state;

        if (id->pid <= 1 || boot_id_get(&boot) < 0 || !sd_id128_equal(boot, id->boot_id))
                return false;
        if (read_stat(id->pid, &state, &start) < 0)
                return false;
        return start == id->start_time && state != 'Z' && state != 'X';
}

int process_id_record(const char *path, pid_t pid) {
        char tmp[PATH_MAX], buf[96];
        ProcessId id;
        _cleanup_close_ int fd = -EBADF;
        size_t len;
        int r;

        r = process_id_get(pid, &id);
        if (r < 0)
                return r;
        r = process_id_format(&id, buf, sizeof(buf));
        if (r < 0)
                return r;
        r = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        if (r < 0 || (size_t) r >= sizeof(tmp))
                return -ENAMETOOLONG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        len = strlen(buf);
        if (write(fd, buf, len) != (ssize_t) len)
                return -EIO;
        return rename(tmp, path) < 0 ? -errno : 0;
}

int process_id_load(const char *path, ProcessId *ret) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = read_file_bounded(path, 128, &s, NULL);
        if (r < 0)
                return r;
        return process_id_parse(s, ret);
}
