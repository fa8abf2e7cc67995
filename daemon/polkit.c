/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>

#include "errors.h"
#include "log.h"
#include "polkit.h"
#include "util.h"

#define POLKIT_TIMEOUT_USEC (5 * 60 * USEC_PER_SEC) /* a human may be typing a password */

typedef struct Request {
        sd_bus_message *message;
        char action[128];
        PolkitCallback cb;
        void *userdata;
} Request;

static void request_done(Request *req, bool allowed, const sd_bus_error *error) {
        req->cb(req->message, req->userdata, allowed, error);
        sd_bus_message_unref(req->message);
        free(req);
}

static void deny(Request *req, const char *name, const char *text) {
        sd_bus_error e = SD_BUS_ERROR_NULL;

        (void) sd_bus_error_set(&e, name, text);
        request_done(req, false, &e);
        sd_bus_error_free(&e);
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Request *req = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized = 0, challenge = 0, r;
        char text[256];

        if (e) {
                log_warning("polkit check for %s failed: %s", req->action, e->message ? e->message : e->name);
                snprintf(text, sizeof(text), "Authorization for %s could not be checked (polkit: %s).", req->action, e->name);
                deny(req, AVM_ERROR_PERMISSION_DENIED, text);
                return 0;
        }
        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0) {
                deny(req, AVM_ERROR_PERMISSION_DENIED, "Malformed reply from polkit.");
                return 0;
        }
        if (authorized) {
                request_done(req, true, NULL);
                return 0;
        }
        if (challenge) {
                snprintf(text, sizeof(text), "Interactive authentication is required for %s.", req->action);
                deny(req, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED, text);
                return 0;
        }
        snprintf(text, sizeof(text), "Not authorized to perform %s.", req->action);
        deny(req, AVM_ERROR_PERMISSION_DENIED, text);
        return 0;
}

int polkit_check(sd_bus_message *m, const char *action, PolkitCallback cb, void *userdata) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        sd_bus *bus = sd_bus_message_get_bus(m);
        const char *sender = sd_bus_message_get_sender(m);
        Request *req;
        uid_t euid;
        uint32_t flags;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &euid);
        if (r >= 0 && euid == 0) {
                cb(m, userdata, true, NULL);
                return 0;
        }
        if (!sender)
                return -EBADMSG;

        req = calloc(1, sizeof(Request));
        if (!req)
                return -ENOMEM;
        req->message = sd_bus_message_ref(m);
        req->cb = cb;
        req->userdata = userdata;
        snprintf(req->action, sizeof(req->action), "%s", action);

        /* AllowUserInteraction only when the caller said it can wait for it. */
        flags = sd_bus_message_get_allow_interactive_authorization(m) > 0 ? 1 : 0;
        r = sd_bus_message_new_method_call(bus, &call, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(call, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender, action, 0, flags,
                                          "");
        if (r >= 0)
                r = sd_bus_call_async(bus, NULL, call, on_reply, req, POLKIT_TIMEOUT_USEC);
        if (r < 0) {
                sd_bus_message_unref(req->message);
                free(req);
                return r;
        }
        return 0;
}
