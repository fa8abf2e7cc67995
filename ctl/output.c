/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus-json.h"
#include "ctl.h"
#include "i18n.h"
#include "manager.h"
#include "output.h"

void print_json(json_object *o) {
        int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

        flags |= isatty(STDOUT_FILENO) ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN;
        puts(json_object_to_json_string_ext(o, flags));
        fflush(stdout);
}

void print_json_error(const char *name, const char *message) {
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

void print_field(const char *label, const char *value) {
        printf("%15s%s %s\n", label, *label ? ":" : " ", value);
}

/* --json output stays English (for scripts); stderr is in the user's
 * language. */
_printf_(2, 0) static void print_local_error(const char *name, const char *fmt, va_list ap) {
        char buf[1024];
        va_list aq;

        if (arg_json) {
                va_copy(aq, ap);
                vsnprintf(buf, sizeof(buf), fmt, aq);
                va_end(aq);
                print_json_error(name, buf);
        }
        vsnprintf(buf, sizeof(buf), _(fmt), ap);
        fprintf(stderr, "avmigratectl: %s\n", buf);
}

int local_error(const char *name, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        print_local_error(name, fmt, ap);
        va_end(ap);
        return EXIT_FAIL;
}

int usage_error(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        print_local_error("org.freedesktop.DBus.Error.InvalidArgs", fmt, ap);
        va_end(ap);
        fprintf(stderr, "%s\n", _("Try 'avmigratectl --help' for more information."));
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

bool error_is(const sd_bus_error *e, const char *short_name) {
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
int report_error(const char *what, const sd_bus_error *error, int r) {
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
