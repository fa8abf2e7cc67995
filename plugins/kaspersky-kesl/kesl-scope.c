/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "kesl-scope.h"

typedef enum Section {
        SECTION_OTHER,
        SECTION_SCOPE,
        SECTION_EXCLUDED,
} Section;

/* One area: its Path= and UseScanArea=, committed when the section ends. */
typedef struct Area {
        Section section;
        bool use;      /* UseScanArea=, Yes when absent */
        bool all_mask; /* every AreaMask.item_N= is "*": the whole directory */
        char path[AVM_SCOPE_PATH_MAX];
} Area;

static int commit(const Area *a, AvmScope *ret) {
        char(*list)[AVM_SCOPE_PATH_MAX];
        unsigned *n;

        if (a->section == SECTION_OTHER || !a->use || !a->path[0])
                return 0;
        /* A masked area ("*doc") protects some files of the directory, not the directory. */
        if (a->section == SECTION_SCOPE && !a->all_mask)
                return 0;
        if (a->path[0] != '/')
                return -EBADMSG;
        list = a->section == SECTION_SCOPE ? ret->include : ret->exclude;
        n = a->section == SECTION_SCOPE ? &ret->n_include : &ret->n_exclude;
        if (*n >= AVM_SCOPE_MAX_PATHS)
                return -EBADMSG;
        memcpy(list[*n], a->path, sizeof(a->path));
        (*n)++;
        return 0;
}

static Section section_of(const char *name, size_t len) {
        if (len > 15 && strncmp(name, "ScanScope.item_", 15) == 0)
                return SECTION_SCOPE;
        if (len > 27 && strncmp(name, "ExcludedFromScanScope.item_", 27) == 0)
                return SECTION_EXCLUDED;
        return SECTION_OTHER;
}

int kesl_parse_scope(const char *text, size_t size, AvmScope *ret) {
        const char *p, *end;
        Area a = { 0 };
        int r;

        *ret = (AvmScope){ 0 };
        if (!text)
                return -EINVAL;
        p = text;
        end = text + size;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p)), *le = nl ? nl : end, *eq;
                size_t len = (size_t) (le - p);

                if (len > 4096 || memchr(p, '\0', len))
                        return -EBADMSG;
                while (len > 0 && (*p == ' ' || *p == '\t')) {
                        p++;
                        len--;
                }
                while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t'))
                        len--;
                if (len >= 2 && p[0] == '[' && p[len - 1] == ']') {
                        r = commit(&a, ret);
                        if (r < 0)
                                return r;
                        a = (Area){ .section = section_of(p + 1, len - 2), .use = true, .all_mask = true };
                } else if (a.section != SECTION_OTHER && (eq = memchr(p, '=', len))) {
                        size_t kl = (size_t) (eq - p), vl = len - kl - 1;
                        const char *v = eq + 1;

                        /* "spaces between a setting name and its value are not processed";
                         * string values with spaces are quoted (Kaspersky's help, 201432.htm). */
                        while (kl > 0 && (p[kl - 1] == ' ' || p[kl - 1] == '\t'))
                                kl--;
                        while (vl > 0 && (*v == ' ' || *v == '\t')) {
                                v++;
                                vl--;
                        }
                        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
                                v++;
                                vl -= 2;
                        }
                        if (kl == 4 && strncmp(p, "Path", 4) == 0) {
                                if (vl >= sizeof(a.path))
                                        return -EBADMSG;
                                memcpy(a.path, v, vl);
                                a.path[vl] = '\0';
                        } else if (kl == 11 && strncmp(p, "UseScanArea", 11) == 0)
                                a.use = vl == 3 && strncasecmp(v, "Yes", 3) == 0;
                        else if (kl > 14 && strncmp(p, "AreaMask.item_", 14) == 0 && !(vl == 1 && v[0] == '*'))
                                a.all_mask = false;
                }
                p = nl ? nl + 1 : end;
        }
        r = commit(&a, ret);
        if (r < 0)
                return r;
        ret->known = ret->n_include > 0;
        if (!ret->known)
                ret->n_exclude = 0;
        return 0;
}
