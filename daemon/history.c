/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>

#include "history.h"
#include "log.h"
#include "paths.h"
#include "util.h"

#define HISTORY_FILE "history.jsonl"
#define HISTORY_MAX (64u * 1024u * 1024u)

typedef int (*LineCallback)(json_object *o, void *userdata);

static int foreach_line(LineCallback cb, void *userdata) {
        char path[PATH_MAX];
        _cleanup_free_ char *data = NULL;
        char *line, *save = NULL;
        int r;

        r = state_path(path, sizeof(path), HISTORY_FILE);
        if (r < 0)
                return r;
        r = read_file_bounded(path, HISTORY_MAX, &data, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "Cannot read %s: %m", path);
        for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                json_object *o = json_tokener_parse(line);

                if (!o || !json_object_is_type(o, json_type_object)) {
                        json_object_put(o);
                        continue;
                }
                r = cb(o, userdata);
                json_object_put(o);
                if (r != 0)
                        return r;
        }
        return 0;
}

int history_append(json_object *report) {
        char path[PATH_MAX];
        int r;

        r = state_path(path, sizeof(path), HISTORY_FILE);
        if (r < 0)
                return r;
        r = append_line_durable(path, json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN));
        if (r < 0)
                log_error_errno(r, "Cannot append to %s: %m", path);
        return r;
}

static uint64_t id_of(json_object *o) {
        json_object *v;
        if (!json_object_object_get_ex(o, "id", &v) || !json_object_is_type(v, json_type_int))
                return 0;
        return (uint64_t) json_object_get_int64(v);
}

typedef struct FindContext {
        uint64_t id;
        json_object *found;
} FindContext;

static int find_cb(json_object *o, void *userdata) {
        FindContext *c = userdata;

        if (c->id == 0 || id_of(o) == c->id) {
                json_object_put(c->found);
                c->found = json_object_get(o);
        }
        return 0;
}

int history_find(uint64_t id, json_object **ret) {
        FindContext c = { .id = id };
        int r = foreach_line(find_cb, &c);

        if (r < 0)
                return r;
        if (!c.found)
                return -ENOENT;
        *ret = c.found;
        return 0;
}

bool history_has(uint64_t id) {
        json_object *o = NULL;

        if (id == 0 || history_find(id, &o) < 0)
                return false;
        json_object_put(o);
        return true;
}

static int list_cb(json_object *o, void *userdata) {
        static const char *const keys[] = { "id", "from", "to", "result", "created_usec", "finished_usec", "gap_usec", "dry_run" };
        json_object *s = json_object_new_object(), *v;

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (json_object_object_get_ex(o, keys[i], &v))
                        json_object_object_add(s, keys[i], json_object_get(v));
        json_object_array_add(userdata, s);
        return 0;
}

int history_list(json_object **ret) {
        json_object *a = json_object_new_array();
        int r = foreach_line(list_cb, a);

        if (r < 0) {
                json_object_put(a);
                return r;
        }
        *ret = a;
        return 0;
}

static int max_cb(json_object *o, void *userdata) {
        uint64_t *max = userdata, id = id_of(o);
        if (id > *max)
                *max = id;
        return 0;
}

uint64_t history_last_id(void) {
        uint64_t max = 0;
        (void) foreach_line(max_cb, &max);
        return max;
}
