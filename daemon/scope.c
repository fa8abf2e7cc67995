/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "scope.h"
#include "util.h"

int scope_path_normalize(char *path) {
        char out[SCOPE_PATH_MAX];
        size_t n = 0;
        const char *p = path;

        if (!path || path[0] != '/' || strlen(path) >= SCOPE_PATH_MAX)
                return -EINVAL;
        for (const char *c = path; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        return -EINVAL;
        while (*p) {
                const char *e;
                size_t len;

                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                e = strchrnul(p, '/');
                len = (size_t) (e - p);
                if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
                        return -EINVAL; /* never guess what the admin meant */
                out[n++] = '/';
                memcpy(out + n, p, len);
                n += len;
                p = e;
        }
        if (n == 0)
                out[n++] = '/';
        out[n] = '\0';
        memcpy(path, out, n + 1);
        return 0;
}

bool scope_path_under(const char *path, const char *root) {
        size_t l = strlen(root);

        if (streq(root, "/"))
                return path[0] == '/';
        return strncmp(path, root, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

int scope_list_add(ScopeList *l, const char *path) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->path[i], path))
                        return 0;
        if (l->n >= SCOPE_MAX_PATHS)
                return -E2BIG;
        if (strlen(path) >= SCOPE_PATH_MAX)
                return -ENAMETOOLONG;
        strcpy(l->path[l->n++], path);
        return 0;
}

bool scope_list_contains_under(const ScopeList *l, const char *path) {
        for (size_t i = 0; i < l->n; i++)
                if (scope_path_under(path, l->path[i]))
                        return true;
        return false;
}

int scope_list_parse(const char *value, ScopeList *l, char *error, size_t error_size) {
        char copy[SCOPE_MAX_PATHS * SCOPE_PATH_MAX], *save = NULL;
        ScopeList n = { 0 };
        int r;

        if (strlen(value) >= sizeof(copy)) {
                snprintf(error, error_size, "list too long");
                return -E2BIG;
        }
        strcpy(copy, value);
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                char p[SCOPE_PATH_MAX];

                if (strlen(w) >= sizeof(p) || (strcpy(p, w), scope_path_normalize(p) < 0)) {
                        snprintf(error, error_size, "'%.64s' is not an absolute path (no \".\" or \"..\", at most %d bytes)", w,
                                 SCOPE_PATH_MAX - 1);
                        return -EINVAL;
                }
                r = scope_list_add(&n, p);
                if (r < 0) {
                        snprintf(error, error_size, "more than %d paths", SCOPE_MAX_PATHS);
                        return r;
                }
        }
        *l = n;
        return 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s) {
        char *o = s;

        for (char *i = s; *i;) {
                if (i[0] == '\\' && i[1] >= '0' && i[1] <= '3' && i[2] >= '0' && i[2] <= '7' && i[3] >= '0' && i[3] <= '7') {
                        *o++ = (char) ((i[1] - '0') * 64 + (i[2] - '0') * 8 + (i[3] - '0'));
                        i += 4;
                } else
                        *o++ = *i++;
        }
        *o = '\0';
}

/* File systems where users keep files: local disks, removable media, network
 * shares. Pseudo file systems (proc, sysfs, cgroup, devtmpfs, overlay of
 * containers...) and tmpfs under /run are not places users download to; a
 * tmpfs on /tmp is covered because /tmp is in the default list. */
static bool fstype_user(const char *t) {
        static const char *const types[] = { "ext2", "ext3",  "ext4", "xfs",        "btrfs",   "f2fs",    "jfs",      "reiserfs",
                                             "vfat", "exfat", "ntfs", "ntfs3",      "fuseblk", "hfsplus", "udf",      "nfs",
                                             "nfs4", "cifs",  "smb3", "fuse.sshfs", "9p",      "zfs",     "bcachefs", NULL };
        for (size_t i = 0; types[i]; i++)
                if (streq(t, types[i]))
                        return true;
        return false;
}

/* The operating system's own directories: packages write there, users do not. */
static bool system_dir(const char *mp) {
        static const char *const dirs[] = { "/",    "/boot", "/efi",  "/usr", "/etc", "/var",     "/proc", "/sys",
                                            "/dev", "/run",  "/snap", "/nix", "/gnu", "/sysroot", NULL };

        if (scope_path_under(mp, "/var/tmp") || scope_path_under(mp, "/run/media"))
                return false;
        for (size_t i = 0; dirs[i]; i++)
                if (streq(dirs[i], "/") ? streq(mp, "/") : scope_path_under(mp, dirs[i]))
                        return true;
        return false;
}

int scope_user_mounts(const char *mountinfo, size_t size, ScopeList *ret) {
        const char *p = mountinfo, *end = mountinfo + size;

        *ret = (ScopeList){ 0 };
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t len = (size_t) ((nl ? nl : end) - p);
                char line[4096], *f[16], *save = NULL, *sep;
                size_t nf = 0;

                if (len < sizeof(line)) {
                        memcpy(line, p, len);
                        line[len] = '\0';
                        /* id parent major:minor root mountpoint options [optional...] - fstype source superoptions */
                        sep = strstr(line, " - ");
                        if (sep) {
                                *sep = '\0';
                                for (char *w = strtok_r(line, " ", &save); w && nf < 6; w = strtok_r(NULL, " ", &save))
                                        f[nf++] = w;
                                save = NULL;
                                if (nf == 6) {
                                        char *fstype = strtok_r(sep + 3, " ", &save);
                                        char mp[SCOPE_PATH_MAX];
                                        bool rw = strncmp(f[5], "rw", 2) == 0 && (f[5][2] == ',' || f[5][2] == '\0');

                                        if (fstype && rw && fstype_user(fstype) && strlen(f[4]) < sizeof(mp)) {
                                                strcpy(mp, f[4]);
                                                unescape_octal(mp);
                                                if (scope_path_normalize(mp) >= 0 && !system_dir(mp))
                                                        (void) scope_list_add(ret, mp);
                                        }
                                }
                        }
                }
                p = nl ? nl + 1 : end;
        }
        return 0;
}

int scope_resolve(const ScopeList *include, const ScopeList *exclude, bool protect_mounts, ScopeList *ret, ScopeList *absent) {
        ScopeList all = *include;
        struct stat st;

        if (protect_mounts) {
                _cleanup_free_ char *text = NULL;
                size_t size = 0;
                ScopeList mounts;

                if (read_file_bounded("/proc/self/mountinfo", 4 * 1024 * 1024, &text, &size) >= 0 &&
                    scope_user_mounts(text, size, &mounts) >= 0)
                        for (size_t i = 0; i < mounts.n; i++)
                                if (!scope_list_contains_under(&all, mounts.path[i]))
                                        (void) scope_list_add(&all, mounts.path[i]);
        }
        *ret = (ScopeList){ 0 };
        if (absent)
                *absent = (ScopeList){ 0 };
        for (size_t i = 0; i < all.n; i++) {
                if (scope_list_contains_under(exclude, all.path[i]))
                        continue;
                if (stat(all.path[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
                        if (absent)
                                (void) scope_list_add(absent, all.path[i]);
                        continue;
                }
                (void) scope_list_add(ret, all.path[i]);
        }
        return 0;
}

static bool avm_scope_covers(const AvmScope *s, const char *path) {
        bool in = false;

        if (!s->known)
                return false;
        for (unsigned i = 0; i < s->n_include && i < AVM_SCOPE_MAX_PATHS; i++)
                if (scope_path_under(path, s->include[i]))
                        in = true;
        for (unsigned i = 0; in && i < s->n_exclude && i < AVM_SCOPE_MAX_PATHS; i++)
                if (scope_path_under(path, s->exclude[i]))
                        in = false;
        return in;
}

void scope_required(const ScopeList *scope, const AvmScope *old_scope, ScopeList *ret) {
        *ret = (ScopeList){ 0 };
        for (size_t i = 0; i < scope->n; i++) {
                const char *root = scope->path[i];

                if (!old_scope->known || avm_scope_covers(old_scope, root)) {
                        (void) scope_list_add(ret, root);
                        continue;
                }
                /* The old product covered only part of this root: that part. */
                for (unsigned k = 0; k < old_scope->n_include && k < AVM_SCOPE_MAX_PATHS; k++)
                        if (scope_path_under(old_scope->include[k], root))
                                (void) scope_list_add(ret, old_scope->include[k]);
        }
}

void scope_uncovered(const ScopeList *want, const AvmScope *have, ScopeList *ret) {
        *ret = (ScopeList){ 0 };
        for (size_t i = 0; i < want->n; i++)
                if (!avm_scope_covers(have, want->path[i]))
                        (void) scope_list_add(ret, want->path[i]);
}

json_object *scope_list_to_json(const ScopeList *l) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < l->n; i++)
                json_object_array_add(a, json_object_new_string(l->path[i]));
        return a;
}

int scope_list_from_json(json_object *a, ScopeList *ret) {
        size_t n;

        *ret = (ScopeList){ 0 };
        if (!a || !json_object_is_type(a, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(a);
        if (n > SCOPE_MAX_PATHS)
                return -E2BIG;
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(a, i);
                char p[SCOPE_PATH_MAX];

                if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) >= (int) sizeof(p))
                        return -EBADMSG;
                strcpy(p, json_object_get_string(v));
                if (scope_path_normalize(p) < 0 || scope_list_add(ret, p) < 0)
                        return -EBADMSG;
        }
        return 0;
}

json_object *scope_avm_to_json(const AvmScope *s) {
        json_object *o = json_object_new_object(), *inc = json_object_new_array(), *exc = json_object_new_array();

        json_object_object_add(o, "known", json_object_new_boolean(s->known));
        for (unsigned i = 0; s->known && i < s->n_include && i < AVM_SCOPE_MAX_PATHS; i++)
                json_object_array_add(inc, json_object_new_string(s->include[i]));
        for (unsigned i = 0; s->known && i < s->n_exclude && i < AVM_SCOPE_MAX_PATHS; i++)
                json_object_array_add(exc, json_object_new_string(s->exclude[i]));
        json_object_object_add(o, "include", inc);
        json_object_object_add(o, "exclude", exc);
        if (s->source[0])
                json_object_object_add(o, "source", json_object_new_string(s->source));
        return o;
}

void scope_list_join(const ScopeList *l, char *buf, size_t size) {
        size_t used = 0;

        if (size == 0)
                return;
        buf[0] = '\0';
        for (size_t i = 0; i < l->n; i++) {
                int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", l->path[i]);
                if (n < 0 || (size_t) n >= size - used) {
                        if (size > 4)
                                snprintf(buf + size - 4, 4, "…");
                        return;
                }
                used += (size_t) n;
        }
}
