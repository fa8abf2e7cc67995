/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdbool.h>

#include "errors.h"
#include "log.h"
#include "polkit.h"
#include "util.h"

/* A human may be typing a password; without interaction polkit answers at
 * once, so a check that takes longer is stuck and holds a slot for nothing. */
#define POLKIT_TIMEOUT_INTERACTIVE_USEC (5 * 60 * USEC_PER_SEC)
#define POLKIT_TIMEOUT_USEC (30 * USEC_PER_SEC)
#define UID_INVALID ((uid_t) -1)

typedef struct Request Request;
struct Request {
        sd_bus_message *message;
        sd_bus_slot *call;  /* the pending CheckAuthorization */
        sd_bus_slot *match; /* the caller's NameOwnerChanged */
        char sender[256];
        uid_t uid;
        char action[128];
        char cancellation_id[32];
        PolkitCallback cb;
        void *userdata;
        Request *prev, *next;
};

static Request *requests;
static unsigned n_requests;
static uint64_t n_started;

#define POLKIT_SERVICE \
        "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.PolicyKit1.Authority"

/* A check we no longer wait for still holds one of the few replies the bus
 * lets a connection wait for, until polkit answers: ask it to answer now. */
static void cancel_check(sd_bus *bus, const Request *req) {
        int r;

        /* Without a callback, no reply is expected. */
        r = sd_bus_call_method_async(bus, NULL, POLKIT_SERVICE, "CancelCheckAuthorization", NULL, NULL, "s", req->cancellation_id);
        if (r < 0)
                log_debug_errno(r, "Cannot cancel polkit check %s: %m", req->cancellation_id);
}

static void request_unlink(Request *req) {
        if (req->prev)
                req->prev->next = req->next;
        else
                requests = req->next;
        if (req->next)
                req->next->prev = req->prev;
        n_requests--;
}

static void request_free(Request *req) {
        sd_bus_slot_unref(req->call);
        sd_bus_slot_unref(req->match);
        sd_bus_message_unref(req->message);
        free(req);
}

static void request_done(Request *req, bool allowed, const sd_bus_error *error) {
        request_unlink(req);
        /* Slots first: their callbacks must not run for a request gone. */
        req->call = sd_bus_slot_unref(req->call);
        req->match = sd_bus_slot_unref(req->match);
        req->cb(req->message, req->userdata, allowed, error);
        request_free(req);
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
                if (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY))
                        cancel_check(sd_bus_message_get_bus(reply), req);
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

/* The caller left: its pending checks would only hold slots until polkit
 * answers (minutes, if it waits for a password nobody will type). */
static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Request *req = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !streq(name, req->sender) || !isempty(new_owner))
                return 0;
        log_debug("%s disconnected; dropping its polkit check for %s.", req->sender, req->action);
        cancel_check(sd_bus_message_get_bus(m), req);
        deny(req, AVM_ERROR_PERMISSION_DENIED, "The caller disconnected before it was authorized.");
        return 0;
}

static int watch_sender(sd_bus *bus, Request *req) {
        char rule[512];
        int r;

        r = snprintf(rule, sizeof(rule),
                     "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                     "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='%s'",
                     req->sender);
        if (r < 0 || (size_t) r >= sizeof(rule))
                return -ENAMETOOLONG;
        /* Asynchronously: the event loop never waits for the bus daemon. */
        return sd_bus_add_match_async(bus, &req->match, rule, on_name_owner_changed, NULL, req);
}

/* Why a new check from sender (uid) must wait, or NULL. */
static const char *over_limit(const char *sender, uid_t uid) {
        unsigned same_sender = 0, same_uid = 0;

        if (n_requests >= POLKIT_CHECKS_MAX)
                return "Too many authorization checks in flight; try again later.";
        for (Request *req = requests; req; req = req->next) {
                same_sender += streq(req->sender, sender);
                same_uid += req->uid == uid;
        }
        if (same_sender >= POLKIT_CHECKS_PER_SENDER_MAX)
                return "Too many authorization checks in flight for this connection; wait for their answers.";
        if (same_uid >= POLKIT_CHECKS_PER_UID_MAX)
                return "Too many authorization checks in flight for this user; wait for their answers.";
        return NULL;
}

static int refuse_now(sd_bus_message *m, PolkitCallback cb, void *userdata, const char *text) {
        sd_bus_error e = SD_BUS_ERROR_NULL;

        log_debug("Refusing a polkit check from %s: %s", sd_bus_message_get_sender(m) ?: "?", text);
        (void) sd_bus_error_set(&e, SD_BUS_ERROR_LIMITS_EXCEEDED, text);
        cb(m, userdata, false, &e);
        sd_bus_error_free(&e);
        return 0;
}

static int start_check(sd_bus *bus, Request *req, const char *action, bool interactive) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        int r;

        /* Unique among our checks, so that one can be cancelled. */
        snprintf(req->cancellation_id, sizeof(req->cancellation_id), "avmigrate-%" PRIu64, ++n_started);
        r = sd_bus_message_new_method_call(bus, &call, POLKIT_SERVICE, "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(call, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", req->sender, action, 0,
                                          (uint32_t) interactive, req->cancellation_id);
        if (r >= 0)
                r = sd_bus_call_async(bus, &req->call, call, on_reply, req,
                                      interactive ? POLKIT_TIMEOUT_INTERACTIVE_USEC : POLKIT_TIMEOUT_USEC);
        return r;
}

int polkit_check(sd_bus_message *m, const char *action, PolkitCallback cb, void *userdata) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        sd_bus *bus = sd_bus_message_get_bus(m);
        const char *sender = sd_bus_message_get_sender(m), *why;
        Request *req;
        uid_t euid = UID_INVALID;
        bool interactive;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &euid);
        if (r >= 0 && euid == 0) {
                cb(m, userdata, true, NULL);
                return 0;
        }
        if (!sender || strlen(sender) >= sizeof(req->sender))
                return -EBADMSG;
        why = over_limit(sender, euid);
        if (why)
                return refuse_now(m, cb, userdata, why);

        req = calloc(1, sizeof(Request));
        if (!req)
                return -ENOMEM;
        req->message = sd_bus_message_ref(m);
        req->cb = cb;
        req->userdata = userdata;
        req->uid = euid;
        snprintf(req->sender, sizeof(req->sender), "%s", sender);
        snprintf(req->action, sizeof(req->action), "%s", action);

        /* AllowUserInteraction only when the caller said it can wait for it. */
        interactive = sd_bus_message_get_allow_interactive_authorization(m) > 0;
        r = watch_sender(bus, req);
        if (r >= 0)
                r = start_check(bus, req, action, interactive);
        if (r < 0) {
                request_free(req);
                return r;
        }
        req->next = requests;
        if (requests)
                requests->prev = req;
        requests = req;
        n_requests++;
        return 0;
}

unsigned polkit_checks_in_flight(void) {
        return n_requests;
}

void polkit_cancel_all(void) {
        while (requests) {
                cancel_check(sd_bus_message_get_bus(requests->message), requests);
                deny(requests, AVM_ERROR_PERMISSION_DENIED, "The daemon is shutting down.");
        }
}
