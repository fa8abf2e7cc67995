/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * avmigratectl: the admin CLI of avmigrated.
 *
 * It talks only D-Bus: bus name org.avmigrate.Migrate1 on the system bus
 * (sd_bus_open_system(), which honours $DBUS_SYSTEM_BUS_ADDRESS), object
 * /org/avmigrate/Migrate1, interface org.avmigrate.Migrate1.Manager.
 *
 * Exit codes: 0 ok, 1 failure, 2 nothing to do.
 */

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "i18n.h"

#define BUS_NAME "org.avmigrate.Migrate1"
#define OBJECT_PATH "/org/avmigrate/Migrate1"
#define MANAGER_INTERFACE "org.avmigrate.Migrate1.Manager"
#define ERROR_PREFIX "org.avmigrate.Migrate1.Error."
#define DBUS_ERROR_PREFIX "org.freedesktop.DBus.Error."
#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"

/* Generous: a call may wait for a polkit agent or a manifest download. */
#define CALL_TIMEOUT_USEC (120ULL * 1000000ULL)
#define USEC_PER_SEC 1000000ULL
#define USEC_PER_MSEC 1000ULL

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

enum {
        EXIT_OK = 0,
        EXIT_FAIL = 1,
        EXIT_NOTHING_TO_DO = 2,
};

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

static bool arg_json = false;
static bool arg_wait = false;
static bool arg_force = false;
static bool arg_dry_run = false;
static bool arg_ask_password = true;
static const char *arg_replacement = NULL;

/* ---------------------------------------------------------------- output */

static void print_json(json_object *o) {
        int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

        flags |= isatty(STDOUT_FILENO) ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN;
        puts(json_object_to_json_string_ext(o, flags));
        fflush(stdout);
}

static void print_json_error(const char *name, const char *message) {
        _cleanup_json_ json_object *root = json_object_new_object();
        json_object *e = json_object_new_object();

        if (!root || !e) {
                json_object_put(e);
                fputs("{\"error\":{\"name\":\"org.freedesktop.DBus.Error.NoMemory\",\"message\":\"Out of memory\"}}\n", stdout);
                return;
        }
        json_object_object_add(e, "name", json_object_new_string(name));
        json_object_object_add(e, "message", json_object_new_string(message ?: ""));
        json_object_object_add(root, "error", e);
        print_json(root);
}

/* A local (not daemon) error: a usage mistake or a failure before any call. */
/* --json output stays English (for scripts); stderr is in the user's language. */
_printf_(2, 3) static int local_error(const char *name, const char *fmt, ...) {
        char buf[1024];
        va_list ap;

        if (arg_json) {
                va_start(ap, fmt);
                vsnprintf(buf, sizeof(buf), fmt, ap);
                va_end(ap);
                print_json_error(name, buf);
        }
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), _(fmt), ap);
        va_end(ap);
        fprintf(stderr, "avmigratectl: %s\n", buf);
        return EXIT_FAIL;
}

static const struct {
        const char *name; /* after ERROR_PREFIX or DBUS_ERROR_PREFIX */
        const char *text;
        bool ours;
} error_table[] = {
        { "Busy", N_("a migration is already running"), true },
        { "NothingToDo", N_("nothing to do"), true },
        { "NotEligible", N_("this machine is not eligible for migration now"), true },
        { "OutsideWindow", N_("outside the maintenance window (--force overrides it)"), true },
        { "NoReplacement", N_("no approved replacement product can be installed"), true },
        { "InvalidArgument", N_("invalid argument"), true },
        { "SignatureInvalid", N_("the signature of the manifest or artifact is invalid"), true },
        { "DownloadFailed", N_("download failed"), true },
        { "StepFailed", N_("a migration step failed"), true },
        { "PermissionDenied", N_("permission denied"), true },
        { "NotSupported", N_("not supported yet"), true },
        { "NotFound", N_("not found"), true },
        { "ServiceUnknown", N_("avmigrated is not running and cannot be activated"), false },
        { "NameHasNoOwner", N_("avmigrated is not running"), false },
        { "AccessDenied", N_("access denied"), false },
        { "InteractiveAuthorizationRequired", N_("authorization required (run as root, or without --no-ask-password)"), false },
        { "UnknownMethod", N_("the running avmigrated does not support this operation"), false },
        { "UnknownObject", N_("the running avmigrated does not support this operation"), false },
        { "UnknownInterface", N_("the running avmigrated does not support this operation"), false },
        { "NoReply", N_("timed out waiting for avmigrated"), false },
        { "Timeout", N_("timed out waiting for avmigrated"), false },
        { "NotSupported", N_("not supported yet"), false },
};

static bool error_is(const sd_bus_error *e, const char *short_name) {
        const char *n;

        if (!e || !e->name)
                return false;
        n = e->name;
        if (strncmp(n, ERROR_PREFIX, strlen(ERROR_PREFIX)) == 0)
                n += strlen(ERROR_PREFIX);
        else if (strncmp(n, DBUS_ERROR_PREFIX, strlen(DBUS_ERROR_PREFIX)) == 0)
                n += strlen(DBUS_ERROR_PREFIX);
        else
                return false;
        return strcmp(n, short_name) == 0;
}

/* Report a failed call (error set by sd-bus or the daemon, or a bare -errno)
 * and return the exit code for it. */
static int report_error(const char *what, const sd_bus_error *error, int r) {
        _cleanup_(sd_bus_error_free) sd_bus_error tmp = SD_BUS_ERROR_NULL;
        const char *short_name = NULL, *text = NULL;

        if (!sd_bus_error_is_set(error)) {
                sd_bus_error_set_errno(&tmp, r < 0 ? -r : (r ?: EIO));
                error = &tmp;
        }

        for (size_t i = 0; i < ELEMENTSOF(error_table); i++) {
                const char *prefix = error_table[i].ours ? ERROR_PREFIX : DBUS_ERROR_PREFIX;
                size_t l = strlen(prefix);

                if (strncmp(error->name, prefix, l) == 0 && strcmp(error->name + l, error_table[i].name) == 0) {
                        short_name = error_table[i].name;
                        text = error_table[i].text;
                        break;
                }
        }

        if (arg_json)
                print_json_error(error->name, error->message);

        if (text) {
                if (error->message && *error->message && strcmp(error->message, text) != 0)
                        fprintf(stderr, _("Error: %s (%s): %s\n"), _(text), short_name, error->message);
                else
                        fprintf(stderr, _("Error: %s (%s)\n"), _(text), short_name);
        } else
                fprintf(stderr, _("Error: %s failed: %s (%s)\n"), what, error->message ?: _("unknown error"), error->name);

        return error_is(error, "NothingToDo") ? EXIT_NOTHING_TO_DO : EXIT_FAIL;
}

static unsigned terminal_columns(int fd) {
        struct winsize ws = {};
        const char *e = getenv("COLUMNS");

        if (e) {
                long c = strtol(e, NULL, 10);
                if (c > 0 && c < 10000)
                        return (unsigned) c;
        }
        if (ioctl(fd, TIOCGWINSZ, &ws) >= 0 && ws.ws_col > 0)
                return ws.ws_col;
        return 80;
}

static void format_timespan(char *buf, size_t n, uint64_t usec) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } table[] = {
                { "d", 24ULL * 3600ULL * USEC_PER_SEC },
                { "h", 3600ULL * USEC_PER_SEC },
                { "min", 60ULL * USEC_PER_SEC },
                { "s", USEC_PER_SEC },
        };
        size_t l = 0;

        if (usec == 0) {
                snprintf(buf, n, "0");
                return;
        }
        if (usec < USEC_PER_MSEC) {
                snprintf(buf, n, "%" PRIu64 "us", usec);
                return;
        }
        if (usec < USEC_PER_SEC) {
                snprintf(buf, n, "%.1fms", (double) usec / (double) USEC_PER_MSEC);
                return;
        }
        if (usec < 60 * USEC_PER_SEC) {
                snprintf(buf, n, "%.3fs", (double) usec / (double) USEC_PER_SEC);
                return;
        }

        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(table) && l + 1 < n; i++) {
                uint64_t k = usec / table[i].usec;
                int w;

                if (k == 0)
                        continue;
                usec -= k * table[i].usec;
                w = snprintf(buf + l, n - l, "%s%" PRIu64 "%s", l > 0 ? " " : "", k, table[i].suffix);
                if (w < 0 || (size_t) w >= n - l)
                        break;
                l += (size_t) w;
        }
}

static void format_timestamp(char *buf, size_t n, uint64_t usec) {
        time_t t;
        struct tm tm;

        if (usec == 0 || usec == UINT64_MAX) {
                snprintf(buf, n, "n/a");
                return;
        }
        t = (time_t) (usec / USEC_PER_SEC);
        if (!localtime_r(&t, &tm) || strftime(buf, n, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, n, "@%" PRIu64, usec);
}

static uint64_t now_realtime_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

/* --------------------------------------------------- D-Bus → json-c values */

static int json_from_bus(sd_bus_message *m, json_object **ret);

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

/* Read one complete value: dictionaries become objects, arrays and structs
 * become arrays, variants their content. */
static int json_from_bus(sd_bus_message *m, json_object **ret) {
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

/* [[a, b, ...], ...] → [{names[0]: a, names[1]: b, ...}, ...] */
static json_object *tuples_to_objects(json_object *tuples, const char *const *names, size_t n_names) {
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

static const char *const product_fields[] = { "id", "product", "version", "installed", "realtime" };
static const char *const plan_fields[] = { "step", "description", "product" };

static const char *prop_str(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !v)
                return "";
        return json_object_get_string(v) ?: "";
}

static uint64_t prop_u64(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !v)
                return 0;
        return json_object_get_uint64(v);
}

static bool prop_bool(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !v)
                return false;
        return json_object_get_boolean(v);
}

/* ------------------------------------------------------------- bus calls */

static int call_manager(sd_bus *bus, const char *method, sd_bus_error *error, sd_bus_message **reply, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, method);
        if (r < 0)
                return r;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return r;
        }
        return sd_bus_call(bus, m, 0, error, reply);
}

static int get_all_properties(sd_bus *bus, sd_bus_error *error, json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_json_ json_object *props = NULL;
        json_object *products;
        int r;

        r = sd_bus_call_method(bus, BUS_NAME, OBJECT_PATH, PROPERTIES_INTERFACE, "GetAll", error, &reply, "s", MANAGER_INTERFACE);
        if (r < 0)
                return r;
        r = json_from_bus(reply, &props);
        if (r < 0)
                return r;
        if (!json_object_is_type(props, json_type_object))
                return -EBADMSG;

        if (json_object_object_get_ex(props, "Products", &products)) {
                json_object *p = tuples_to_objects(products, product_fields, ELEMENTSOF(product_fields));
                if (!p)
                        return -ENOMEM;
                json_object_object_add(props, "Products", p);
        }

        *ret = props;
        props = NULL;
        return 0;
}

/* Parse the JSON text a method returned; keep it as a string if it is not JSON. */
static json_object *parse_json_text(const char *text) {
        json_object *o = json_tokener_parse(text);

        return o ?: json_object_new_string(text);
}

/* ----------------------------------------------------------------- verbs */

static void print_field(const char *label, const char *value) {
        printf("%15s%s %s\n", label, *label ? ":" : " ", value);
}

static const char *product_role(json_object *props, const char *id) {
        if (!*id)
                return "";
        if (strcmp(id, prop_str(props, "Discouraged")) == 0)
                return "discouraged";
        if (strcmp(id, prop_str(props, "Replacement")) == 0)
                return "replacement";
        return "";
}

static int verb_status(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_json_ json_object *props = NULL;
        json_object *products = NULL;
        char buf[256], ts[128];
        const char *state, *s;
        uint64_t u;
        int r;

        r = get_all_properties(bus, &error, &props);
        if (r < 0)
                return report_error("GetAll", &error, r);

        if (arg_json) {
                print_json(props);
                return EXIT_OK;
        }

        state = prop_str(props, "State");
        print_field(_("State"), *state ? state : _("unknown"));

        s = prop_str(props, "Step");
        if (*s || strcmp(state, "running") == 0 || strcmp(state, "paused") == 0) {
                print_field(_("Step"), *s ? s : "-");
                snprintf(buf, sizeof(buf), "%" PRIu64 "%%", prop_u64(props, "Progress"));
                print_field(_("Progress"), buf);
        }
        s = prop_str(props, "StatusText");
        if (*s)
                print_field(_("Status"), s);
        print_field(_("Protected"), prop_bool(props, "Protected") ? _("yes") : _("NO"));
        s = prop_str(props, "Discouraged");
        print_field(_("Discouraged"), *s ? s : "-");
        s = prop_str(props, "Replacement");
        print_field(_("Replacement"), *s ? s : "-");
        s = prop_str(props, "Job");
        print_field(_("Job"), *s && strcmp(s, "/") != 0 ? s : _("none"));

        u = prop_u64(props, "ScheduledAt");
        if (u > 0) {
                uint64_t now = now_realtime_usec();
                char span[64];

                format_timestamp(ts, sizeof(ts), u);
                if (u > now) {
                        format_timespan(span, sizeof(span), u - now);
                        snprintf(buf, sizeof(buf), _("%s (in %s)"), ts, span);
                } else
                        snprintf(buf, sizeof(buf), "%s", ts);
                print_field(_("Scheduled"), buf);
        }
        snprintf(buf, sizeof(buf), "%" PRIu64, prop_u64(props, "DeferralsLeft"));
        print_field(_("Deferrals left"), buf);

        u = prop_u64(props, "ProtectionGapUSec");
        format_timespan(ts, sizeof(ts), u);
        print_field(_("Last gap"), ts);

        s = prop_str(props, "LastError");
        if (*s)
                print_field(_("Last error"), s);

        if (json_object_object_get_ex(props, "Products", &products) && json_object_array_length(products) > 0) {
                for (size_t i = 0; i < json_object_array_length(products); i++) {
                        json_object *p = json_object_array_get_idx(products, i);
                        const char *id = prop_str(p, "id"), *role = product_role(props, id);

                        const char *version = prop_str(p, "version");

                        /* TRANSLATORS: id: product version, installed or not, real-time on or off, (role) */
                        snprintf(buf, sizeof(buf), _("%s: %s%s%s, %s, real-time %s%s%s%s"), id, prop_str(p, "product"),
                                 *version ? " " : "", version, prop_bool(p, "installed") ? _("installed") : _("not installed"),
                                 prop_bool(p, "realtime") ? _("on") : _("off"), *role ? " (" : "", role, *role ? ")" : "");
                        print_field(i == 0 ? _("Products") : "", buf);
                }
        } else
                print_field(_("Products"), _("none detected"));

        return EXIT_OK;
}

/* Terminal columns of a UTF-8 string (one per code point; good enough for
 * the text we get). */
static size_t utf8_width(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xC0) != 0x80)
                        n++;
        return n;
}

static void print_padded(const char *s, size_t width) {
        size_t w = utf8_width(s);

        fputs(s, stdout);
        for (; w < width; w++)
                putchar(' ');
}

static size_t max_size(size_t a, size_t b) {
        return a > b ? a : b;
}

static int verb_plan(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_json_ json_object *tuples = NULL, *plan = NULL;
        size_t n, w_step = strlen("STEP"), w_desc = strlen("DESCRIPTION");
        int r;

        r = call_manager(bus, "GetPlan", &error, &reply, NULL);
        if (r < 0)
                return report_error("GetPlan", &error, r);
        r = json_from_bus(reply, &tuples);
        if (r < 0)
                return report_error("GetPlan", NULL, r);
        plan = tuples_to_objects(tuples, plan_fields, ELEMENTSOF(plan_fields));
        if (!plan)
                return report_error("GetPlan", NULL, -ENOMEM);
        n = json_object_array_length(plan);

        if (arg_json) {
                print_json(plan);
                return n > 0 ? EXIT_OK : EXIT_NOTHING_TO_DO;
        }
        if (n == 0) {
                puts(_("Nothing to do."));
                return EXIT_NOTHING_TO_DO;
        }

        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_array_get_idx(plan, i);
                w_step = max_size(w_step, utf8_width(prop_str(p, "step")));
                w_desc = max_size(w_desc, utf8_width(prop_str(p, "description")));
        }
        printf("%3s  %-*s  %-*s  %s\n", "#", (int) w_step, "STEP", (int) w_desc, "DESCRIPTION", "PRODUCT");
        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_array_get_idx(plan, i);
                const char *product = prop_str(p, "product");

                printf("%3zu  ", i + 1);
                print_padded(prop_str(p, "step"), w_step);
                fputs("  ", stdout);
                print_padded(prop_str(p, "description"), w_desc);
                printf("  %s\n", *product ? product : "-");
        }
        printf(ngettext("\n%zu step.\n", "\n%zu steps.\n", n), n);
        return EXIT_OK;
}

static int verb_products(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_json_ json_object *props = NULL;
        json_object *products = NULL;
        size_t n, w_id = strlen("ID"), w_name = strlen("PRODUCT"), w_ver = strlen("VERSION");
        int r;

        r = get_all_properties(bus, &error, &props);
        if (r < 0)
                return report_error("GetAll", &error, r);
        if (!json_object_object_get_ex(props, "Products", &products) || !json_object_is_type(products, json_type_array))
                return report_error("GetAll", NULL, -EBADMSG);
        n = json_object_array_length(products);

        /* The role comes from Discouraged/Replacement, which is handy in scripts too. */
        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_array_get_idx(products, i);
                const char *role = product_role(props, prop_str(p, "id"));

                json_object_object_add(p, "role", json_object_new_string(role));
                w_id = max_size(w_id, strlen(prop_str(p, "id")));
                w_name = max_size(w_name, strlen(prop_str(p, "product")));
                w_ver = max_size(w_ver, strlen(prop_str(p, "version")));
        }

        if (arg_json) {
                print_json(products);
                return EXIT_OK;
        }
        if (n == 0) {
                puts(_("No products configured."));
                return EXIT_OK;
        }
        printf("%-*s  %-*s  %-*s  %-9s  %-9s  %s\n", (int) w_id, "ID", (int) w_name, "PRODUCT", (int) w_ver, "VERSION",
               "INSTALLED", "REALTIME", "ROLE");
        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_array_get_idx(products, i);
                const char *version = prop_str(p, "version"), *role = prop_str(p, "role");

                printf("%-*s  %-*s  %-*s  %-9s  %-9s  %s\n", (int) w_id, prop_str(p, "id"), (int) w_name, prop_str(p, "product"),
                       (int) w_ver, *version ? version : "-", prop_bool(p, "installed") ? "yes" : "no",
                       prop_bool(p, "realtime") ? "on" : "off", *role ? role : "-");
        }
        return EXIT_OK;
}

/* ------------------------------------------------- signals: wait/monitor */

typedef struct Watch {
        sd_bus *bus;
        sd_event *event;
        bool monitor;    /* print every signal */
        uint64_t job_id; /* --wait: the job we follow */
        FILE *out;       /* step lines and progress bar */
        bool bar;        /* draw a progress bar on out */
        bool bar_drawn;
        bool quiet; /* no step lines (--json --wait) */
        uint32_t progress;
        char *step;
        char *status_text;
        uint32_t step_index, step_count; /* StepStarted: index counts from 1 */
        char *result;                    /* from JobRemoved */
        bool lost_daemon;
        bool step_failed;
        bool done;
        int done_code;
} Watch;

/* Not sd_event_exit(): that would run sd-bus' exit handler, which closes the
 * connection, and --wait still needs it for GetReport. */
static void watch_finish(Watch *w, int code) {
        if (!w->done) {
                w->done = true;
                w->done_code = code;
        }
}

static int watch_run(Watch *w) {
        while (!w->done) {
                int r = sd_event_run(w->event, UINT64_MAX);
                if (r < 0)
                        return r;
        }
        return w->done_code;
}

static void watch_done(Watch *w) {
        free(w->step);
        free(w->status_text);
        free(w->result);
        sd_event_unref(w->event);
}

static int set_string(char **p, const char *s) {
        char *c = strdup(s ?: "");

        if (!c)
                return -ENOMEM;
        free(*p);
        *p = c;
        return 0;
}

static void bar_clear(Watch *w) {
        if (w->bar && w->bar_drawn) {
                fputs("\r\033[K", w->out);
                fflush(w->out);
                w->bar_drawn = false;
        }
}

static void bar_draw(Watch *w) {
        char line[1024];
        unsigned cols, filled, width = 24;
        size_t l, max;
        uint32_t p = w->progress > 100 ? 100 : w->progress;

        if (!w->bar)
                return;

        filled = p * width / 100;
        l = 0;
        line[l++] = '[';
        for (unsigned i = 0; i < width; i++)
                line[l++] = i < filled ? '#' : '-';
        snprintf(line + l, sizeof(line) - l, "] %3" PRIu32 "%% %s%s%s", p, w->step && *w->step ? w->step : "starting",
                 w->status_text && *w->status_text ? ": " : "", w->status_text ?: "");

        /* Fit the terminal, without cutting a UTF-8 sequence in half. */
        cols = terminal_columns(fileno(w->out));
        max = cols > 1 ? cols - 1 : 1;
        if (strlen(line) > max) {
                l = max;
                while (l > 0 && ((unsigned char) line[l] & 0xC0) == 0x80)
                        l--;
                line[l] = 0;
        }

        fprintf(w->out, "\r\033[K%s", line);
        fflush(w->out);
        w->bar_drawn = true;
}

static void monitor_prefix(char *buf, size_t n) {
        struct timespec ts;
        struct tm tm;
        char hms[32] = "";

        clock_gettime(CLOCK_REALTIME, &ts);
        if (localtime_r(&ts.tv_sec, &tm))
                strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
        snprintf(buf, n, "%s.%03ld", hms, ts.tv_nsec / 1000000L);
}

/* --json monitor: one compact JSON object per line. */
static void monitor_emit_json(json_object *o) {
        json_object_object_add(o, "timestamp", json_object_new_uint64(now_realtime_usec()));
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        fflush(stdout);
}

/* A monitor JSON line for a job signal with two string arguments. */
static int monitor_job_signal_json(const char *signal, uint64_t id, const char *k1, const char *v1, const char *k2, const char *v2) {
        json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "signal", json_object_new_string(signal));
        json_object_object_add(o, "job", json_object_new_uint64(id));
        json_object_object_add(o, k1, json_object_new_string(v1));
        json_object_object_add(o, k2, json_object_new_string(v2));
        monitor_emit_json(o);
        json_object_put(o);
        return 0;
}

_printf_(1, 2) static void monitor_line(const char *fmt, ...) {
        char prefix[64];
        va_list ap;

        monitor_prefix(prefix, sizeof(prefix));
        printf("%s ", prefix);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        fflush(stdout);
}

static int on_step_started(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const char *step;
        uint64_t id;
        uint32_t idx, count;
        int r;

        r = sd_bus_message_read(m, "tsuu", &id, &step, &idx, &count);
        if (r < 0) {
                fprintf(stderr, "Failed to parse StepStarted signal: %s\n", strerror(-r));
                return 0;
        }

        if (w->monitor) {
                if (arg_json) {
                        json_object *o = json_object_new_object();
                        if (!o)
                                return -ENOMEM;
                        json_object_object_add(o, "signal", json_object_new_string("StepStarted"));
                        json_object_object_add(o, "job", json_object_new_uint64(id));
                        json_object_object_add(o, "step", json_object_new_string(step));
                        json_object_object_add(o, "index", json_object_new_int64(idx));
                        json_object_object_add(o, "count", json_object_new_int64(count));
                        monitor_emit_json(o);
                        json_object_put(o);
                } else
                        monitor_line("job %" PRIu64 ": step %s started (%" PRIu32 "/%" PRIu32 ")", id, step, idx, count);
                return 0;
        }

        if (id != w->job_id)
                return 0;
        w->step_index = idx;
        w->step_count = count;
        set_string(&w->step, step);
        bar_draw(w);
        return 0;
}

static int on_step_finished(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const char *step, *result;
        uint64_t id;
        int r;

        r = sd_bus_message_read(m, "tss", &id, &step, &result);
        if (r < 0) {
                fprintf(stderr, "Failed to parse StepFinished signal: %s\n", strerror(-r));
                return 0;
        }

        if (w->monitor) {
                if (arg_json)
                        return monitor_job_signal_json("StepFinished", id, "step", step, "result", result);
                else
                        monitor_line("job %" PRIu64 ": step %s %s", id, step, result);
                return 0;
        }

        if (id != w->job_id)
                return 0;
        if (strcmp(result, "failed") == 0)
                w->step_failed = true;
        if (!w->quiet) {
                bar_clear(w);
                if (w->step && strcmp(w->step, step) == 0 && w->step_count > 0)
                        fprintf(w->out, "[%" PRIu32 "/%" PRIu32 "] %s: %s\n", w->step_index, w->step_count, step, result);
                else
                        fprintf(w->out, "%s: %s\n", step, result);
                fflush(w->out);
                bar_draw(w);
        }
        return 0;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const char *path, *result;
        uint64_t id;
        int r;

        r = sd_bus_message_read(m, "tos", &id, &path, &result);
        if (r < 0) {
                fprintf(stderr, "Failed to parse JobRemoved signal: %s\n", strerror(-r));
                return 0;
        }

        if (w->monitor) {
                if (arg_json)
                        return monitor_job_signal_json("JobRemoved", id, "path", path, "result", result);
                else
                        monitor_line("job %" PRIu64 " finished: %s (%s)", id, result, path);
                return 0;
        }

        if (id != w->job_id)
                return 0;
        r = set_string(&w->result, result);
        watch_finish(w, r < 0 ? r : 0);
        return 0;
}

static void monitor_print_value(json_object *v, char *buf, size_t n) {
        if (json_object_is_type(v, json_type_string))
                snprintf(buf, n, "\"%s\"", json_object_get_string(v));
        else
                snprintf(buf, n, "%s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_json_ json_object *changed = NULL, *invalidated = NULL;
        Watch *w = userdata;
        const char *iface;
        json_object *v;
        int r;

        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0 || strcmp(iface, MANAGER_INTERFACE) != 0)
                return 0;
        r = json_from_bus(m, &changed);
        if (r >= 0)
                r = json_from_bus(m, &invalidated);
        if (r < 0) {
                fprintf(stderr, "Failed to parse PropertiesChanged signal: %s\n", strerror(-r));
                return 0;
        }
        if (json_object_object_get_ex(changed, "Products", &v)) {
                json_object *p = tuples_to_objects(v, product_fields, ELEMENTSOF(product_fields));
                if (p)
                        json_object_object_add(changed, "Products", p);
        }

        if (w->monitor) {
                if (arg_json) {
                        json_object *o = json_object_new_object();
                        if (!o)
                                return -ENOMEM;
                        json_object_object_add(o, "signal", json_object_new_string("PropertiesChanged"));
                        json_object_object_add(o, "changed", json_object_get(changed));
                        json_object_object_add(o, "invalidated", json_object_get(invalidated));
                        monitor_emit_json(o);
                        json_object_put(o);
                } else {
                        char line[4096] = "", val[2048];
                        size_t l = 0;

                        json_object_object_foreach(changed, key, value) {
                                monitor_print_value(value, val, sizeof(val));
                                r = snprintf(line + l, sizeof(line) - l, "%s%s=%s", l > 0 ? " " : "", key, val);
                                if (r < 0 || (size_t) r >= sizeof(line) - l)
                                        break;
                                l += (size_t) r;
                        }
                        for (size_t i = 0; i < json_object_array_length(invalidated); i++) {
                                r = snprintf(line + l, sizeof(line) - l, "%s%s (invalidated)", l > 0 ? " " : "",
                                             json_object_get_string(json_object_array_get_idx(invalidated, i)));
                                if (r < 0 || (size_t) r >= sizeof(line) - l)
                                        break;
                                l += (size_t) r;
                        }
                        if (l > 0)
                                monitor_line("%s", line);
                }
                return 0;
        }

        if (json_object_object_get_ex(changed, "Progress", &v))
                w->progress = (uint32_t) json_object_get_int64(v);
        if (json_object_object_get_ex(changed, "Step", &v) && *json_object_get_string(v))
                set_string(&w->step, json_object_get_string(v));
        if (json_object_object_get_ex(changed, "StatusText", &v))
                set_string(&w->status_text, json_object_get_string(v));
        bar_draw(w);
        return 0;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const char *name, *old_owner, *new_owner;
        int r;

        r = sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner);
        if (r < 0 || strcmp(name, BUS_NAME) != 0)
                return 0;

        if (w->monitor) {
                if (arg_json) {
                        json_object *o = json_object_new_object();
                        if (!o)
                                return -ENOMEM;
                        json_object_object_add(o, "signal", json_object_new_string("NameOwnerChanged"));
                        json_object_object_add(o, "old_owner", json_object_new_string(old_owner));
                        json_object_object_add(o, "new_owner", json_object_new_string(new_owner));
                        monitor_emit_json(o);
                        json_object_put(o);
                } else if (*new_owner)
                        monitor_line("avmigrated connected (%s)", new_owner);
                else
                        monitor_line("avmigrated disconnected");
                return 0;
        }

        if (!*new_owner) {
                /* The daemon exited. A restarted daemon resumes the job and
                 * emits JobRemoved later, but we cannot be sure we see it. */
                w->lost_daemon = true;
                watch_finish(w, 0);
        }
        return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Watch *w = userdata;

        bar_clear(w);
        watch_finish(w, -EINTR);
        return 0;
}

/* Install the matches synchronously, so that no signal sent after this
 * returns can be missed. */
static int watch_add_matches(Watch *w) {
        static const struct {
                const char *member;
                sd_bus_message_handler_t handler;
        } signals[] = {
                { "StepStarted", on_step_started },
                { "StepFinished", on_step_finished },
                { "JobRemoved", on_job_removed },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(signals); i++) {
                r = sd_bus_match_signal(w->bus, NULL, BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, signals[i].member,
                                        signals[i].handler, w);
                if (r < 0)
                        return r;
        }
        r = sd_bus_match_signal(w->bus, NULL, BUS_NAME, OBJECT_PATH, PROPERTIES_INTERFACE, "PropertiesChanged",
                                on_properties_changed, w);
        if (r < 0)
                return r;
        return sd_bus_add_match(w->bus, NULL,
                                "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                                "arg0='" BUS_NAME "'",
                                on_name_owner_changed, w);
}

static int watch_setup_loop(Watch *w) {
        sigset_t ss;
        int r;

        sigemptyset(&ss);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return -errno;

        r = sd_event_new(&w->event);
        if (r < 0)
                return r;
        r = sd_event_add_signal(w->event, NULL, SIGINT, on_exit_signal, w);
        if (r < 0)
                return r;
        r = sd_event_add_signal(w->event, NULL, SIGTERM, on_exit_signal, w);
        if (r < 0)
                return r;
        return sd_bus_attach_event(w->bus, w->event, SD_EVENT_PRIORITY_NORMAL);
}

static int verb_monitor(sd_bus *bus, int argc, char **argv) {
        Watch w = {
                .bus = bus,
                .monitor = true,
                .out = stdout,
        };
        int r;

        r = watch_add_matches(&w);
        if (r < 0) {
                r = report_error("AddMatch", NULL, r);
                goto finish;
        }
        r = watch_setup_loop(&w);
        if (r < 0) {
                r = report_error("event loop setup", NULL, r);
                goto finish;
        }
        if (!arg_json)
                fprintf(stderr, _("Monitoring %s, press Ctrl-C to stop.\n"), BUS_NAME);

        r = watch_run(&w);
        if (r == -EINTR)
                r = EXIT_OK;
        else if (r < 0)
                r = report_error("event loop", NULL, r);
finish:
        sd_bus_detach_event(bus);
        watch_done(&w);
        return r;
}

static bool result_is_success(const Watch *w) {
        const char *result = w->result;

        if (!result)
                return false;
        if (strcmp(result, "completed") == 0 || strcmp(result, "done") == 0)
                return true;
        /* A dry run ends "not-started" by design; it succeeded if no check failed. */
        return arg_dry_run && strcmp(result, "not-started") == 0 && !w->step_failed;
}

static int get_report(sd_bus *bus, uint64_t id, sd_bus_error *error, json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *text;
        json_object *o;
        int r;

        r = call_manager(bus, "GetReport", error, &reply, "t", id);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                return r;
        o = parse_json_text(text);
        if (!o)
                return -ENOMEM;
        *ret = o;
        return 0;
}

static int wait_for_job(Watch *w, uint64_t id, const char *path) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_json_ json_object *report = NULL;
        int r, code;

        w->job_id = id;
        if (!arg_json)
                printf(_("Started migration job %" PRIu64 " (%s), waiting for it to finish.\n"), id, path);
        fflush(stdout);

        r = watch_setup_loop(w);
        if (r < 0)
                return report_error("event loop setup", NULL, r);

        r = watch_run(w);
        bar_clear(w);
        if (r == -EINTR) {
                return local_error("org.freedesktop.DBus.Error.Failed",
                                   "Interrupted; job %" PRIu64 " continues in the background.", id);
        }
        if (r < 0)
                return report_error("event loop", NULL, r);
        if (w->lost_daemon)
                return local_error("org.freedesktop.DBus.Error.NoReply",
                                   "avmigrated exited while job %" PRIu64 " was running; it resumes the job when it starts again.",
                                   id);

        code = result_is_success(w) ? EXIT_OK : EXIT_FAIL;

        if (arg_json) {
                r = get_report(w->bus, id, &error, &report);
                if (r < 0 || !json_object_is_type(report, json_type_object)) {
                        json_object_put(report);
                        report = json_object_new_object();
                        if (!report)
                                return report_error("GetReport", NULL, -ENOMEM);
                        json_object_object_add(report, "id", json_object_new_uint64(id));
                        json_object_object_add(report, "path", json_object_new_string(path));
                }
                /* Make sure a script finds the outcome in one place. */
                if (!json_object_object_get_ex(report, "result", NULL))
                        json_object_object_add(report, "result", json_object_new_string(w->result ?: ""));
                print_json(report);
                return code;
        }

        printf(_("Job %" PRIu64 " finished: %s.\n"), id, w->result ?: _("unknown"));
        if (code != EXIT_OK) {
                _cleanup_json_ json_object *props = NULL;

                if (get_all_properties(w->bus, &error, &props) >= 0 && *prop_str(props, "LastError"))
                        fprintf(stderr, _("Last error: %s\n"), prop_str(props, "LastError"));
                fprintf(stderr, _("See 'avmigratectl report %" PRIu64 "' for details.\n"), id);
        }
        return code;
}

static int verb_start(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_free_ char *path = NULL;
        const char *p;
        uint64_t id;
        char type;
        Watch w = {
                .bus = bus,
                .out = stdout,
        };
        int r;

        r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, "Start");
        if (r < 0)
                goto fail;
        r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
        if (r < 0)
                goto fail;
        if (arg_force) {
                r = sd_bus_message_append(m, "{sv}", "force", "b", 1);
                if (r < 0)
                        goto fail;
        }
        if (arg_dry_run) {
                r = sd_bus_message_append(m, "{sv}", "dry-run", "b", 1);
                if (r < 0)
                        goto fail;
        }
        if (arg_replacement) {
                r = sd_bus_message_append(m, "{sv}", "replacement", "s", arg_replacement);
                if (r < 0)
                        goto fail;
        }
        r = sd_bus_message_close_container(m);
        if (r < 0)
                goto fail;

        if (arg_wait) {
                /* Subscribe before Start so that no signal of the new job is
                 * missed; signals that arrive before the reply are queued
                 * and dispatched once we know the job id. */
                if (arg_json) {
                        w.out = stderr;
                        w.quiet = true;
                        w.bar = isatty(STDERR_FILENO);
                } else
                        w.bar = isatty(STDOUT_FILENO);
                r = watch_add_matches(&w);
                if (r < 0)
                        goto fail;
        }

        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0) {
                r = report_error("Start", &error, r);
                goto finish;
        }
        /* The API reference declares two out arguments ("to"); accept a struct too. */
        r = sd_bus_message_peek_type(reply, &type, NULL);
        if (r > 0 && type == SD_BUS_TYPE_STRUCT)
                r = sd_bus_message_read(reply, "(to)", &id, &p);
        else if (r >= 0)
                r = sd_bus_message_read(reply, "to", &id, &p);
        if (r < 0)
                goto fail;
        path = strdup(p);
        if (!path) {
                r = -ENOMEM;
                goto fail;
        }

        if (arg_wait) {
                r = wait_for_job(&w, id, path);
                goto finish;
        }

        if (arg_json) {
                _cleanup_json_ json_object *o = json_object_new_object();
                if (!o) {
                        r = -ENOMEM;
                        goto fail;
                }
                json_object_object_add(o, "id", json_object_new_uint64(id));
                json_object_object_add(o, "path", json_object_new_string(path));
                print_json(o);
        } else
                printf(_("Started migration job %" PRIu64 " (%s).\n"
                         "Follow it with 'avmigratectl monitor' or 'avmigratectl status'.\n"),
                       id, path);
        r = EXIT_OK;
        goto finish;

fail:
        r = report_error("Start", NULL, r);
finish:
        if (w.event)
                sd_bus_detach_event(bus);
        watch_done(&w);
        return r;
}

static int simple_call(sd_bus *bus, const char *method) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = call_manager(bus, method, &error, NULL, NULL);
        if (r < 0)
                return report_error(method, &error, r);
        if (arg_json) {
                _cleanup_json_ json_object *o = json_object_new_object();
                if (!o)
                        return report_error(method, NULL, -ENOMEM);
                print_json(o);
        }
        return EXIT_OK;
}

static int verb_pause(sd_bus *bus, int argc, char **argv) {
        return simple_call(bus, "Pause");
}

static int verb_resume(sd_bus *bus, int argc, char **argv) {
        return simple_call(bus, "Resume");
}

static int verb_cancel(sd_bus *bus, int argc, char **argv) {
        return simple_call(bus, "Cancel");
}

static int verb_refresh(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = call_manager(bus, "Refresh", &error, NULL, NULL);
        if (r < 0 && error_is(&error, "NotSupported")) {
                if (arg_json)
                        print_json_error(error.name, error.message);
                fprintf(stderr, "%s\n", _("not supported yet"));
                return EXIT_FAIL;
        }
        if (r < 0)
                return report_error("Refresh", &error, r);
        if (arg_json) {
                _cleanup_json_ json_object *o = json_object_new_object();
                if (!o)
                        return report_error("Refresh", NULL, -ENOMEM);
                print_json(o);
        }
        return EXIT_OK;
}

/* "90", "90s", "30min", "2h", "1d", "1h 30min", "2weeks". Plain numbers are
 * seconds. */
static int parse_duration(const char *s, uint64_t *ret) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                { "us", 1 },
                { "usec", 1 },
                { "\xc2\xb5s", 1 },
                { "ms", USEC_PER_MSEC },
                { "msec", USEC_PER_MSEC },
                { "s", USEC_PER_SEC },
                { "sec", USEC_PER_SEC },
                { "second", USEC_PER_SEC },
                { "seconds", USEC_PER_SEC },
                { "m", 60 * USEC_PER_SEC },
                { "min", 60 * USEC_PER_SEC },
                { "minute", 60 * USEC_PER_SEC },
                { "minutes", 60 * USEC_PER_SEC },
                { "h", 3600 * USEC_PER_SEC },
                { "hr", 3600 * USEC_PER_SEC },
                { "hour", 3600 * USEC_PER_SEC },
                { "hours", 3600 * USEC_PER_SEC },
                { "d", 86400 * USEC_PER_SEC },
                { "day", 86400 * USEC_PER_SEC },
                { "days", 86400 * USEC_PER_SEC },
                { "w", 7 * 86400 * USEC_PER_SEC },
                { "week", 7 * 86400 * USEC_PER_SEC },
                { "weeks", 7 * 86400 * USEC_PER_SEC },
        };
        uint64_t total = 0;
        bool any = false;

        for (;;) {
                uint64_t mult = USEC_PER_SEC, k;
                const char *u;
                size_t ul;
                char *end;

                while (*s == ' ')
                        s++;
                if (!*s)
                        break;
                if (!isdigit((unsigned char) *s))
                        return -EINVAL;
                errno = 0;
                k = strtoull(s, &end, 10);
                if (errno != 0)
                        return -ERANGE;
                s = end;
                while (*s == ' ')
                        s++;
                u = s;
                while (*s && *s != ' ' && !isdigit((unsigned char) *s))
                        s++;
                ul = (size_t) (s - u);
                if (ul > 0) {
                        bool found = false;

                        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                                if (strlen(units[i].suffix) == ul && strncmp(units[i].suffix, u, ul) == 0) {
                                        mult = units[i].usec;
                                        found = true;
                                        break;
                                }
                        if (!found)
                                return -EINVAL;
                }
                if (k > UINT64_MAX / mult || total > UINT64_MAX - k * mult)
                        return -ERANGE;
                total += k * mult;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret = total;
        return 0;
}

static int verb_postpone(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_json_ json_object *props = NULL;
        char span[64];
        uint64_t usec;
        int r;

        r = parse_duration(argv[1], &usec);
        if (r < 0 || usec == 0)
                return local_error("org.freedesktop.DBus.Error.InvalidArgs",
                                   "Invalid duration '%s' (examples: 90s, 30min, 2h, 1d; plain numbers are seconds).", argv[1]);

        r = call_manager(bus, "Postpone", &error, NULL, "t", usec);
        if (r < 0)
                return report_error("Postpone", &error, r);

        /* Show what the daemon made of it; failing to read it is not fatal. */
        (void) get_all_properties(bus, &error, &props);

        if (arg_json) {
                _cleanup_json_ json_object *o = json_object_new_object();
                if (!o)
                        return report_error("Postpone", NULL, -ENOMEM);
                json_object_object_add(o, "postponed_usec", json_object_new_uint64(usec));
                if (props) {
                        json_object_object_add(o, "ScheduledAt", json_object_new_uint64(prop_u64(props, "ScheduledAt")));
                        json_object_object_add(o, "DeferralsLeft", json_object_new_uint64(prop_u64(props, "DeferralsLeft")));
                }
                print_json(o);
                return EXIT_OK;
        }

        format_timespan(span, sizeof(span), usec);
        printf(_("Migration postponed by %s.\n"), span);
        if (props) {
                uint64_t at = prop_u64(props, "ScheduledAt");
                char ts[128];

                if (at > 0) {
                        format_timestamp(ts, sizeof(ts), at);
                        printf(_("Next attempt: %s.\n"), ts);
                }
                printf(_("Deferrals left: %" PRIu64 ".\n"), prop_u64(props, "DeferralsLeft"));
        }
        return EXIT_OK;
}

static bool key_is_usec(const char *key) {
        size_t l = strlen(key);

        return l >= 4 && strcasecmp(key + l - 4, "usec") == 0;
}

/* Render a JSON value for humans, YAML-like. */
static void render_json(json_object *o, const char *key, int indent, bool list_item) {
        const char *lead = list_item ? "- " : "";

        if (json_object_is_type(o, json_type_object)) {
                bool first = true;

                if (key)
                        printf("%*s%s%s:\n", indent, "", lead, key);
                else if (list_item && json_object_object_length(o) == 0)
                        printf("%*s- {}\n", indent, "");
                json_object_object_foreach(o, k, v) {
                        /* The first field of an object in a list goes on the dash line. */
                        if (list_item && !key && first)
                                render_json(v, k, indent, true);
                        else
                                render_json(v, k, indent + (key || list_item ? 2 : 0), false);
                        first = false;
                }
                return;
        }
        if (json_object_is_type(o, json_type_array)) {
                size_t n = json_object_array_length(o);

                if (key)
                        printf("%*s%s%s:%s\n", indent, "", lead, key, n == 0 ? " []" : "");
                for (size_t i = 0; i < n; i++)
                        render_json(json_object_array_get_idx(o, i), NULL, indent + (key ? 2 : 0), true);
                return;
        }

        printf("%*s%s", indent, "", lead);
        if (key)
                printf("%s:%s", key, json_object_is_type(o, json_type_string) && !*json_object_get_string(o) ? "" : " ");
        if (!o)
                fputs("null", stdout);
        else
                fputs(json_object_get_string(o), stdout);
        if (key && key_is_usec(key) && json_object_is_type(o, json_type_int)) {
                uint64_t u = json_object_get_uint64(o);
                char buf[128];

                /* Realtime timestamps are > 2001-09-09 in µs. */
                if (u >= 1000000000ULL * USEC_PER_SEC)
                        format_timestamp(buf, sizeof(buf), u);
                else
                        format_timespan(buf, sizeof(buf), u);
                printf(" (%s)", buf);
        }
        putchar('\n');
}

static int verb_report(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_json_ json_object *report = NULL;
        uint64_t id = 0; /* 0: the most recent job */
        int r;

        if (argc > 1) {
                char *end;

                errno = 0;
                if (!isdigit((unsigned char) argv[1][0]) || (id = strtoull(argv[1], &end, 10), errno != 0) || *end)
                        return local_error("org.freedesktop.DBus.Error.InvalidArgs", "Invalid job id '%s'.", argv[1]);
        }

        r = get_report(bus, id, &error, &report);
        if (r < 0)
                return report_error("GetReport", &error, r);

        if (arg_json)
                print_json(report);
        else
                render_json(report, NULL, 0, false);
        return EXIT_OK;
}

static const char *first_key(json_object *o, const char *const *keys, size_t n) {
        json_object *v;

        for (size_t i = 0; i < n; i++)
                if (json_object_object_get_ex(o, keys[i], &v) && v)
                        return keys[i];
        return NULL;
}

static int verb_history(sd_bus *bus, int argc, char **argv) {
        static const char *const id_keys[] = { "id", "job" };
        static const char *const time_keys[] = { "end_usec",   "finished_usec", "end",          "ended", "finished",
                                                 "end_time",   "start_usec",    "started_usec", "start", "started",
                                                 "start_time", "timestamp",     "time" };
        static const char *const from_keys[] = { "from", "discouraged" };
        static const char *const to_keys[] = { "to", "replacement" };
        static const char *const result_keys[] = { "result", "state" };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_json_ json_object *history = NULL;
        const char *text;
        size_t n;
        int r;

        r = call_manager(bus, "GetHistory", &error, &reply, NULL);
        if (r < 0)
                return report_error("GetHistory", &error, r);
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                return report_error("GetHistory", NULL, r);
        history = json_tokener_parse(text);
        if (!json_object_is_type(history, json_type_array))
                return local_error("org.freedesktop.DBus.Error.InvalidSignature",
                                   "avmigrated returned a history that is not a JSON array.");

        if (arg_json) {
                print_json(history);
                return EXIT_OK;
        }

        n = json_object_array_length(history);
        if (n == 0) {
                puts(_("No migrations recorded."));
                return EXIT_OK;
        }
        printf("%-6s  %-31s  %-28s  %-10s  %s\n", "JOB", "FINISHED", "FROM -> TO", "GAP", "RESULT");
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(history, i), *v;
                const char *k_id, *k_time, *k_from, *k_to, *k_result;
                char when[128] = "-", fromto[256], gap[64] = "-", result[128];

                if (!json_object_is_type(e, json_type_object)) {
                        puts(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
                        continue;
                }
                k_id = first_key(e, id_keys, ELEMENTSOF(id_keys));
                k_time = first_key(e, time_keys, ELEMENTSOF(time_keys));
                k_from = first_key(e, from_keys, ELEMENTSOF(from_keys));
                k_to = first_key(e, to_keys, ELEMENTSOF(to_keys));
                k_result = first_key(e, result_keys, ELEMENTSOF(result_keys));
                if (!k_id && !k_time && !k_result) {
                        puts(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
                        continue;
                }
                if (k_time && json_object_object_get_ex(e, k_time, &v)) {
                        if (json_object_is_type(v, json_type_int))
                                format_timestamp(when, sizeof(when), json_object_get_uint64(v));
                        else
                                snprintf(when, sizeof(when), "%s", json_object_get_string(v));
                }
                if (json_object_object_get_ex(e, "gap_usec", &v) && json_object_is_type(v, json_type_int))
                        format_timespan(gap, sizeof(gap), json_object_get_uint64(v));
                snprintf(fromto, sizeof(fromto), "%s -> %s", k_from ? prop_str(e, k_from) : "?", k_to ? prop_str(e, k_to) : "?");
                snprintf(result, sizeof(result), "%s%s", k_result ? prop_str(e, k_result) : "-",
                         prop_bool(e, "dry_run") ? " (dry run)" : "");
                printf("%-6s  %-31s  %-28s  %-10s  %s\n", k_id ? prop_str(e, k_id) : "-", when, fromto, gap, result);
        }
        return EXIT_OK;
}

/* ------------------------------------------------------------------ main */

static void help(FILE *f) {
        fputs(_("avmigratectl [OPTIONS...] COMMAND ...\n"
                "\n"
                "Control the antivirus migration daemon avmigrated.\n"
                "\n"
                "Commands:\n"
                "  status                  Show the migration state (default)\n"
                "  plan                    Show the steps a migration would run now\n"
                "  products                List the products the plugins detect\n"
                "  start                   Start a migration\n"
                "  pause                   Pause the running migration between steps\n"
                "  resume                  Resume a paused migration\n"
                "  cancel                  Cancel the migration and roll back\n"
                "  postpone DURATION       Postpone a scheduled migration (90s, 30min, 2h, 1d)\n"
                "  report [ID]             Show the report of a job (default: the last one)\n"
                "  history                 Show past migrations\n"
                "  monitor                 Print state changes and step events until Ctrl-C\n"
                "  refresh                 Fetch the fleet manifest now\n"
                "\n"
                "Options:\n"
                "  -h --help               Show this help\n"
                "     --version            Show the version\n"
                "     --json               Print JSON (errors too); monitor prints one object per line\n"
                "     --no-ask-password    Do not ask for a password to authorize\n"
                "     --wait               start: wait for the job to finish\n"
                "     --force              start: ignore the maintenance window and rollout phase\n"
                "     --dry-run            start: run the checks without changing anything\n"
                "     --replacement=ID     start: install this approved product\n"
                "\n"
                "Exit status: 0 success, 1 failure, 2 nothing to do.\n"
                "See the avmigratectl(8) man page for details.\n"),
              f);
}

typedef struct Verb {
        const char *name;
        int min_args, max_args; /* including the verb */
        int (*run)(sd_bus *bus, int argc, char **argv);
} Verb;

static const Verb verbs[] = {
        { "status", 1, 1, verb_status },   { "plan", 1, 1, verb_plan },         { "products", 1, 1, verb_products },
        { "start", 1, 1, verb_start },     { "pause", 1, 1, verb_pause },       { "resume", 1, 1, verb_resume },
        { "cancel", 1, 1, verb_cancel },   { "postpone", 2, 2, verb_postpone }, { "report", 1, 2, verb_report },
        { "history", 1, 1, verb_history }, { "monitor", 1, 1, verb_monitor },   { "refresh", 1, 1, verb_refresh },
};

/* Like local_error(): --json output in English, stderr translated. */
_printf_(1, 2) static int usage_error(const char *fmt, ...) {
        char buf[512];
        va_list ap;

        if (arg_json) {
                va_start(ap, fmt);
                vsnprintf(buf, sizeof(buf), fmt, ap);
                va_end(ap);
                print_json_error("org.freedesktop.DBus.Error.InvalidArgs", buf);
        }
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), _(fmt), ap);
        va_end(ap);
        fprintf(stderr, "avmigratectl: %s\n", buf);
        fprintf(stderr, "%s\n", _("Try 'avmigratectl --help' for more information."));
        return EXIT_FAIL;
}

enum {
        ARG_VERSION = 0x100,
        ARG_JSON,
        ARG_NO_ASK_PASSWORD,
        ARG_WAIT,
        ARG_FORCE,
        ARG_DRY_RUN,
        ARG_REPLACEMENT,
};

/* Returns 1 to go on, 0 to exit with success, or an exit code < 0 negated. */
static int parse_argv(int argc, char *argv[], char *err, size_t errlen) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                { "wait", no_argument, NULL, ARG_WAIT },
                { "force", no_argument, NULL, ARG_FORCE },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "replacement", required_argument, NULL, ARG_REPLACEMENT },
                {},
        };
        bool show_help = false, show_version = false;
        int c;

        opterr = 0;
        err[0] = 0;
        /* Keep parsing after an error so that --json is known when we report it. */
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        show_help = true;
                        break;
                case ARG_VERSION:
                        show_version = true;
                        break;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        arg_ask_password = false;
                        break;
                case ARG_WAIT:
                        arg_wait = true;
                        break;
                case ARG_FORCE:
                        arg_force = true;
                        break;
                case ARG_DRY_RUN:
                        arg_dry_run = true;
                        break;
                case ARG_REPLACEMENT:
                        if (!*optarg) {
                                if (!err[0])
                                        snprintf(err, errlen, "--replacement= needs a product id.");
                                break;
                        }
                        arg_replacement = optarg;
                        break;
                case ':':
                        if (!err[0])
                                snprintf(err, errlen, "Option '%s' needs an argument.", argv[optind - 1]);
                        break;
                case '?':
                default:
                        if (!err[0]) {
                                if (optopt > 0 && optopt < 0x100)
                                        snprintf(err, errlen, "Unknown option '-%c'.", optopt);
                                else
                                        snprintf(err, errlen, "Unknown option '%s'.", argv[optind - 1]);
                        }
                        break;
                }
        }

        if (show_help && !err[0]) {
                help(stdout);
                return 0;
        }
        if (show_version && !err[0]) {
                puts("avmigratectl " PACKAGE_VERSION);
                return 0;
        }
        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *verb_name;
        const Verb *verb = NULL;
        char err[512];
        int r, n_args;

        setvbuf(stdout, NULL, _IOLBF, 0);
        i18n_setup();

        r = parse_argv(argc, argv, err, sizeof(err));
        if (r == 0)
                return EXIT_OK;
        if (err[0])
                return usage_error("%s", err);

        verb_name = optind < argc ? argv[optind] : "status";
        n_args = optind < argc ? argc - optind : 1;

        if (strcmp(verb_name, "help") == 0) {
                help(stdout);
                return EXIT_OK;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, verb_name) == 0) {
                        verb = &verbs[i];
                        break;
                }
        if (!verb)
                return usage_error("Unknown command '%s'.", verb_name);
        if (n_args < verb->min_args)
                return usage_error("Command '%s' needs %s.", verb_name,
                                   strcmp(verb_name, "postpone") == 0 ? "a DURATION" : "more arguments");
        if (n_args > verb->max_args)
                return usage_error("Too many arguments for command '%s'.", verb_name);
        if ((arg_wait || arg_force || arg_dry_run || arg_replacement) && verb->run != verb_start)
                return usage_error("--wait, --force, --dry-run and --replacement= only apply to 'start'.");

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return local_error("org.freedesktop.DBus.Error.NoServer", "Failed to connect to the system bus: %s", strerror(-r));
        (void) sd_bus_set_allow_interactive_authorization(bus, arg_ask_password);
        (void) sd_bus_set_method_call_timeout(bus, CALL_TIMEOUT_USEC);

        return verb->run(bus, n_args, optind < argc ? argv + optind : (char *[]){ (char *) "status", NULL });
}
