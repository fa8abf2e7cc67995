/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>

#include "log.h"
#include "report-spool.h"
#include "util.h"

#define MACHINE_ID_LEN 32

int report_spool_name(const char *machine_id, uint64_t job_id, char *buf, size_t size) {
        int r;

        if (!machine_id || strlen(machine_id) != MACHINE_ID_LEN || strspn(machine_id, "0123456789abcdef") != MACHINE_ID_LEN)
                return -EINVAL;
        r = snprintf(buf, size, "%s-%" PRIu64 ".json", machine_id, job_id);
        return r < 0 || (size_t) r >= size ? -ENAMETOOLONG : 0;
}

bool report_spool_name_valid(const char *name) {
        const char *p = name + MACHINE_ID_LEN + 1;
        size_t digits;

        if (strlen(name) >= REPORT_SPOOL_NAME_MAX || strspn(name, "0123456789abcdef") != MACHINE_ID_LEN ||
            name[MACHINE_ID_LEN] != '-')
                return false;
        digits = strspn(p, "0123456789");
        return digits > 0 && digits <= 20 && streq(p + digits, ".json");
}

int report_spool_add(const char *dir, const char *name, const void *data, size_t size) {
        char path[PATH_MAX];
        int r;

        if (!report_spool_name_valid(name))
                return -EINVAL;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        r = snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (r < 0 || (size_t) r >= sizeof(path))
                return -ENAMETOOLONG;
        return write_file_atomic(path, data, size, 0600);
}

/* "<valid name>.tmp.<n>": write_file_atomic()'s temporary file. Nothing else
 * writes into the spool while the loop lists it, so one seen now is left over
 * from a crash. */
static bool stale_temporary(const char *name) {
        const char *t = strstr(name, ".json.tmp.");
        char base[REPORT_SPOOL_NAME_MAX];
        size_t n;

        if (!t)
                return false;
        n = (size_t) (t - name) + strlen(".json");
        if (n >= sizeof(base))
                return false;
        memcpy(base, name, n);
        base[n] = 0;
        return report_spool_name_valid(base);
}

static int entry_compare(const void *a, const void *b) {
        const SpoolEntry *x = a, *y = b;

        if (x->mtime_usec != y->mtime_usec)
                return x->mtime_usec < y->mtime_usec ? -1 : 1;
        return strcmp(x->name, y->name);
}

int report_spool_list(const char *dir, SpoolEntry **ret, size_t *ret_n) {
        _cleanup_free_ SpoolEntry *l = NULL;
        size_t n = 0, allocated = 0;
        DIR *d;
        struct dirent *de;

        d = opendir(dir);
        if (!d) {
                if (errno != ENOENT)
                        return -errno;
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        while ((de = readdir(d)) && n < REPORT_SPOOL_SCAN_MAX) {
                struct stat st;

                if (stale_temporary(de->d_name)) {
                        (void) unlinkat(dirfd(d), de->d_name, 0);
                        continue;
                }
                if (!report_spool_name_valid(de->d_name) || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISREG(st.st_mode))
                        continue;
                if (n == allocated) {
                        size_t a = allocated ? allocated * 2 : 16;
                        SpoolEntry *k = realloc(l, a * sizeof(SpoolEntry));

                        if (!k) {
                                closedir(d);
                                return -ENOMEM;
                        }
                        l = k;
                        allocated = a;
                }
                snprintf(l[n].name, sizeof(l[n].name), "%s", de->d_name);
                l[n].mtime_usec = (uint64_t) st.st_mtim.tv_sec * USEC_PER_SEC + (uint64_t) st.st_mtim.tv_nsec / 1000;
                l[n].size = (uint64_t) st.st_size;
                n++;
        }
        closedir(d);
        if (n > 0) /* l is NULL for an empty spool */
                qsort(l, n, sizeof(SpoolEntry), entry_compare);
        *ret = l;
        l = NULL;
        *ret_n = n;
        return 0;
}

int report_spool_remove(const char *dir, const char *name) {
        char path[PATH_MAX];
        int r;

        if (!report_spool_name_valid(name))
                return -EINVAL;
        r = snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (r < 0 || (size_t) r >= sizeof(path))
                return -ENAMETOOLONG;
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int report_spool_enforce(const char *dir, unsigned max_files, uint64_t max_bytes) {
        _cleanup_free_ SpoolEntry *l = NULL;
        uint64_t bytes = 0;
        size_t n = 0, first = 0;
        int r, dropped = 0;

        r = report_spool_list(dir, &l, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                bytes += l[i].size;
        while (first < n && (n - first > max_files || bytes > max_bytes)) {
                r = report_spool_remove(dir, l[first].name);
                if (r < 0)
                        return log_error_errno(r, "Cannot remove %s/%s from the report spool: %m", dir, l[first].name);
                log_warning("Report spool full (%zu reports, %" PRIu64 " bytes; ReportSpoolMaxFiles=%u, ReportSpoolMaxBytes=%" PRIu64
                            "): dropped the oldest report %s undelivered.",
                            n - first, bytes, max_files, max_bytes, l[first].name);
                bytes -= l[first].size;
                first++;
                dropped++;
        }
        return dropped;
}
