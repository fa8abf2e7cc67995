/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "bus-json.h"
#include "macro.h"

static int json_from_basic(sd_bus_message *m, char type, json_object **ret) {
        union {
                uint8_t u8;
                int b;
                int16_t i16;
                uint16_t u16;
                int32_t i32;
                uint32_t u32;
                int64_t i64;
                uint64_t u64;
                double d;
                const char *s;
                int fd;
        } v = {};
        json_object *o;
        int r;

        r = sd_bus_message_read_basic(m, type, &v);
        if (r < 0)
                return r;
        if (r == 0)
                return -EBADMSG;

        switch (type) {
        case SD_BUS_TYPE_BYTE:
                o = json_object_new_int(v.u8);
                break;
        case SD_BUS_TYPE_BOOLEAN:
                o = json_object_new_boolean(v.b);
                break;
        case SD_BUS_TYPE_INT16:
                o = json_object_new_int(v.i16);
                break;
        case SD_BUS_TYPE_UINT16:
                o = json_object_new_int(v.u16);
                break;
        case SD_BUS_TYPE_INT32:
                o = json_object_new_int(v.i32);
                break;
        case SD_BUS_TYPE_UINT32:
                o = json_object_new_int64(v.u32);
                break;
        case SD_BUS_TYPE_INT64:
                o = json_object_new_int64(v.i64);
                break;
        case SD_BUS_TYPE_UINT64:
                o = json_object_new_uint64(v.u64);
                break;
        case SD_BUS_TYPE_DOUBLE:
                o = json_object_new_double(v.d);
                break;
        case SD_BUS_TYPE_STRING:
        case SD_BUS_TYPE_OBJECT_PATH:
        case SD_BUS_TYPE_SIGNATURE:
                o = json_object_new_string(v.s);
                break;
        case SD_BUS_TYPE_UNIX_FD:
                o = json_object_new_int(v.fd);
                break;
        default:
                return -EBADMSG;
        }
        if (!o)
                return -ENOMEM;
        *ret = o;
        return 0;
}

static int json_dict_from_bus(sd_bus_message *m, const char *contents, json_object **ret) {
        _cleanup_json_ json_object *obj = NULL;
        int r;

        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, contents);
        if (r < 0)
                return r;
        obj = json_object_new_object();
        if (!obj)
                return -ENOMEM;

        while ((r = sd_bus_message_at_end(m, false)) == 0) {
                _cleanup_json_ json_object *key = NULL, *value = NULL;
                const char *entry;
                char type;

                r = sd_bus_message_peek_type(m, &type, &entry);
                if (r < 0)
                        return r;
                if (r == 0 || type != SD_BUS_TYPE_DICT_ENTRY || !entry)
                        return -EBADMSG;
                r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, entry);
                if (r < 0)
                        return r;
                r = json_from_basic(m, entry[0], &key);
                if (r < 0)
                        return r;
                r = json_from_bus(m, &value);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
                if (json_object_object_add(obj, json_object_get_string(key), value) < 0)
                        return -ENOMEM;
                value = NULL;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        *ret = obj;
        obj = NULL;
        return 0;
}

int json_from_bus(sd_bus_message *m, json_object **ret) {
        _cleanup_json_ json_object *arr = NULL;
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (r == 0)
                return -EBADMSG;

        if (type == SD_BUS_TYPE_ARRAY && contents && contents[0] == SD_BUS_TYPE_DICT_ENTRY_BEGIN)
                return json_dict_from_bus(m, contents, ret);

        if (type != SD_BUS_TYPE_ARRAY && type != SD_BUS_TYPE_STRUCT && type != SD_BUS_TYPE_VARIANT && type != SD_BUS_TYPE_DICT_ENTRY)
                return json_from_basic(m, type, ret);

        r = sd_bus_message_enter_container(m, type, contents);
        if (r < 0)
                return r;

        if (type == SD_BUS_TYPE_VARIANT) {
                r = json_from_bus(m, ret);
                if (r < 0)
                        return r;
                return sd_bus_message_exit_container(m);
        }

        arr = json_object_new_array();
        if (!arr)
                return -ENOMEM;
        while ((r = sd_bus_message_at_end(m, false)) == 0) {
                json_object *e = NULL;

                r = json_from_bus(m, &e);
                if (r < 0)
                        return r;
                if (json_object_array_add(arr, e) < 0) {
                        json_object_put(e);
                        return -ENOMEM;
                }
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        *ret = arr;
        arr = NULL;
        return 0;
}

json_object *tuples_to_objects(json_object *tuples, const char *const *names, size_t n_names) {
        json_object *out = json_object_new_array();
        size_t n;

        if (!out)
                return NULL;
        n = json_object_is_type(tuples, json_type_array) ? json_object_array_length(tuples) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *t = json_object_array_get_idx(tuples, i), *o;

                if (!json_object_is_type(t, json_type_array))
                        continue;
                o = json_object_new_object();
                if (!o)
                        goto fail;
                for (size_t j = 0; j < n_names && j < json_object_array_length(t); j++)
                        json_object_object_add(o, names[j], json_object_get(json_object_array_get_idx(t, j)));
                if (json_object_array_add(out, o) < 0) {
                        json_object_put(o);
                        goto fail;
                }
        }
        return out;
fail:
        json_object_put(out);
        return NULL;
}

json_object *parse_json_text(const char *text) {
        json_object *o = json_tokener_parse(text);

        return o ?: json_object_new_string(text);
}

const char *prop_str(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !v)
                return "";
        return json_object_get_string(v) ?: "";
}

uint64_t prop_u64(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !v)
                return 0;
        return json_object_get_uint64(v);
}

bool prop_bool(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !v)
                return false;
        return json_object_get_boolean(v);
}
