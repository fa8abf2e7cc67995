/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * avmigrate-notify: tells the person at the desktop what avmigrated does.
 *
 * One per graphical session. It watches org.avmigrate.Migrate1 on the system
 * bus (StepStarted/StepFinished/JobRemoved, PropertiesChanged of the Manager,
 * NameOwnerChanged so that it survives daemon restarts) and keeps one
 * notification, replaced in place, on the session bus's
 * org.freedesktop.Notifications: planned (with a Postpone action while
 * DeferralsLeft > 0), running ("keep your computer on"), paused, completed,
 * failed or rolled back (still protected; whom to contact).
 *
 * It only reacts to bus messages: no timers, no polling, so an idle agent
 * does not wake up at all (bench/bench-notify-idle.sh measures it).
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "i18n.h"
#include "log.h"
#include "notice.h"
#include "notify-config.h"
#include "util.h"

#define BUS_NAME "org.avmigrate.Migrate1"
#define OBJECT_PATH "/org/avmigrate/Migrate1"
#define MANAGER_INTERFACE "org.avmigrate.Migrate1.Manager"
#define ERROR_PREFIX "org.avmigrate.Migrate1.Error."

#define NOTIFICATIONS_NAME "org.freedesktop.Notifications"
#define NOTIFICATIONS_PATH "/org/freedesktop/Notifications"
#define NOTIFICATIONS_INTERFACE "org.freedesktop.Notifications"

#define APP_NAME "avmigrate"
#define APP_ICON "security-high"
#define DESKTOP_ENTRY "avmigrate-notify"

#define MAX_PRODUCTS 16u

typedef struct ProductInfo {
        char id[64];
        char name[128];
        bool installed;
        bool realtime;
} ProductInfo;

/* What the agent knows of the daemon: the properties it needs. */
typedef struct DaemonState {
        bool present; /* the daemon owns its name and we have read its state */
        char state[32];
        char discouraged[64];
        char replacement[64];
        bool protected_;
        uint64_t scheduled_at;
        uint32_t deferrals_left;
        ProductInfo products[MAX_PRODUCTS];
        size_t n_products;
} DaemonState;

typedef struct Agent {
        sd_event *event;
        sd_bus *system_bus;
        sd_bus *session_bus;
        NotifyConfig config;

        DaemonState d;
        bool saw_active;     /* a job ran while we watched: its end is news */
        bool just_completed; /* JobRemoved said "completed"; until the next job */
        sd_bus_slot *getall_slot;
        bool refetch; /* another GetAll is wanted after the one in flight */

        /* Our last Postpone, shown in the planned notification. */
        sd_bus_slot *postpone_slot;
        uint64_t postponed_until;
        char postpone_error[256];

        /* The notification server and our one notification. */
        bool caps_known;
        bool caps_actions;
        bool caps_markup;
        sd_bus_slot *caps_slot;
        sd_bus_slot *notify_slot;
        bool dirty;     /* state changed while a Notify was in flight */
        uint32_t id;    /* our notification on the server, 0 when none */
        Notice posted;  /* what the server shows (or last showed) */
        Notice sending; /* what the Notify in flight carries */
        sd_bus_slot *close_slot;
} Agent;

static int update(Agent *a);
static int refresh(Agent *a);

static bool is_daemon_absent_error(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner",
                                      "org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.UnknownObject",
                                      "org.freedesktop.DBus.Error.Disconnected");
}

/* ---------------------------------------------------------------- state */

static int read_variant_string(sd_bus_message *m, char *buf, size_t size) {
        const char *s;
        int r;

        r = sd_bus_message_read(m, "v", "s", &s);
        if (r < 0)
                return r;
        snprintf(buf, size, "%s", s);
        return 0;
}

static int read_products(sd_bus_message *m, DaemonState *d) {
        const char *id, *name, *version;
        int installed, realtime, r;

        r = sd_bus_message_enter_container(m, 'v', "a(sssbb)");
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "(sssbb)");
        if (r < 0)
                return r;
        d->n_products = 0;
        while ((r = sd_bus_message_read(m, "(sssbb)", &id, &name, &version, &installed, &realtime)) > 0) {
                ProductInfo *p;

                if (d->n_products >= MAX_PRODUCTS)
                        continue; /* more than we ever show; the rest is read and dropped */
                p = &d->products[d->n_products++];
                snprintf(p->id, sizeof(p->id), "%s", id);
                snprintf(p->name, sizeof(p->name), "%s", name);
                p->installed = installed;
                p->realtime = realtime;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* Reads an a{sv} of Manager properties into d; unknown ones are skipped. */
static int read_properties(sd_bus_message *m, DaemonState *d) {
        const char *name;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                if (streq(name, "State"))
                        r = read_variant_string(m, d->state, sizeof(d->state));
                else if (streq(name, "Discouraged"))
                        r = read_variant_string(m, d->discouraged, sizeof(d->discouraged));
                else if (streq(name, "Replacement"))
                        r = read_variant_string(m, d->replacement, sizeof(d->replacement));
                else if (streq(name, "Protected")) {
                        int b;
                        r = sd_bus_message_read(m, "v", "b", &b);
                        if (r >= 0)
                                d->protected_ = b;
                } else if (streq(name, "ScheduledAt"))
                        r = sd_bus_message_read(m, "v", "t", &d->scheduled_at);
                else if (streq(name, "DeferralsLeft"))
                        r = sd_bus_message_read(m, "v", "u", &d->deferrals_left);
                else if (streq(name, "Products"))
                        r = read_products(m, d);
                else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static const ProductInfo *find_product(const DaemonState *d, const char *id) {
        for (size_t i = 0; i < d->n_products; i++)
                if (streq(d->products[i].id, id))
                        return &d->products[i];
        return NULL;
}

static const char *product_name(const DaemonState *d, const char *id) {
        const ProductInfo *p = isempty(id) ? NULL : find_product(d, id);
        return p ? p->name : "";
}

/* A product whose real-time protection is on: the replacement first. */
static const char *protecting_name(const DaemonState *d) {
        const ProductInfo *p = find_product(d, d->replacement);

        if (p && p->installed && p->realtime)
                return p->name;
        p = find_product(d, d->discouraged);
        if (p && p->installed && p->realtime)
                return p->name;
        for (size_t i = 0; i < d->n_products; i++)
                if (d->products[i].installed && d->products[i].realtime)
                        return d->products[i].name;
        return "";
}

static NoticeKind notice_kind(Agent *a) {
        const char *s = a->d.state;

        if (streq(s, "running")) {
                a->saw_active = true;
                a->just_completed = false;
                return NOTICE_RUNNING;
        }
        if (streq(s, "paused")) {
                a->saw_active = true;
                a->just_completed = false;
                return NOTICE_PAUSED;
        }
        /* A daemon that just started has not detected the products yet: it
         * knows nothing new, so what is shown (or was dismissed) stays. */
        if (streq(s, "detecting"))
                return _NOTICE_KEEP;
        /* Right after a completed job the daemon says "pending" until it has
         * detected the products again (the old one is gone by then): that is
         * no new plan, so what is shown stays. */
        if (a->just_completed && streq(s, "pending"))
                return _NOTICE_KEEP;
        if (streq(s, "pending") || streq(s, "scheduled"))
                return isempty(a->d.replacement) ? NOTICE_NONE : NOTICE_PLANNED;
        /* A result from before we started (a login after the migration) is
         * not news; one we saw happen is. */
        if (streq(s, "completed"))
                return a->saw_active ? NOTICE_COMPLETED : NOTICE_NONE;
        if (streq(s, "failed") || streq(s, "rolled-back"))
                return a->saw_active ? NOTICE_FAILED : NOTICE_NONE;
        return NOTICE_NONE;
}

/* ------------------------------------------------------- the notification */

static bool notice_equal(const Notice *x, const Notice *y) {
        return x->kind == y->kind && x->urgency == y->urgency && x->postpone_action == y->postpone_action &&
                streq(x->summary, y->summary) && streq(x->body, y->body) && streq(x->postpone_label, y->postpone_label);
}

static int on_notify_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        uint32_t id;
        int r;

        a->notify_slot = sd_bus_slot_unref(a->notify_slot);
        if (e)
                log_warning("Could not show the notification: %s", e->message ?: e->name);
        else {
                r = sd_bus_message_read(m, "u", &id);
                if (r < 0)
                        log_warning_errno(r, "Bad reply from the notification server: %m");
                else {
                        a->id = id;
                        a->posted = a->sending;
                        log_debug("Notification %" PRIu32 ": %s", id, a->posted.summary);
                }
        }
        if (a->dirty) {
                a->dirty = false;
                (void) update(a);
        }
        return 0;
}

static int send_notice(Agent *a, const Notice *n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        char body[sizeof(n->body) * 5 + 1];
        int r;

        if (a->caps_markup)
                notice_escape_markup(n->body, body, sizeof(body));
        else
                snprintf(body, sizeof(body), "%s", n->body);

        r = sd_bus_message_new_method_call(a->session_bus, &m, NOTIFICATIONS_NAME, NOTIFICATIONS_PATH, NOTIFICATIONS_INTERFACE,
                                           "Notify");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "susss", APP_NAME, a->id, APP_ICON, n->summary, body);
        if (r < 0)
                return r;
        if (n->postpone_action)
                r = sd_bus_message_append(m, "as", 2, NOTICE_ACTION_POSTPONE, n->postpone_label);
        else
                r = sd_bus_message_append(m, "as", 0);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "a{sv}", 2, "urgency", "y", n->urgency, "desktop-entry", "s", DESKTOP_ENTRY);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "i", (int32_t) -1);
        if (r < 0)
                return r;

        a->sending = *n;
        return sd_bus_call_async(a->session_bus, &a->notify_slot, m, on_notify_reply, a, 0);
}

static int on_caps_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        const char *cap;
        int r;

        a->caps_slot = sd_bus_slot_unref(a->caps_slot);
        if (e) {
                /* No server now; NameOwnerChanged tells us when one appears. */
                log_info("No notification server: %s", e->message ?: e->name);
                return 0;
        }
        a->caps_actions = a->caps_markup = false;
        r = sd_bus_message_enter_container(m, 'a', "s");
        if (r < 0)
                goto bad;
        while ((r = sd_bus_message_read(m, "s", &cap)) > 0) {
                if (streq(cap, "actions"))
                        a->caps_actions = true;
                else if (streq(cap, "body-markup"))
                        a->caps_markup = true;
        }
        if (r < 0)
                goto bad;
        a->caps_known = true;
        log_debug("Notification server: actions %s, body-markup %s.", a->caps_actions ? "yes" : "no",
                  a->caps_markup ? "yes" : "no");
        return update(a);
bad:
        log_warning_errno(r, "Bad GetCapabilities reply: %m");
        return 0;
}

static int on_close_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;

        a->close_slot = sd_bus_slot_unref(a->close_slot);
        return 0;
}

/* Brings the notification in line with the daemon's state. */
static int update(Agent *a) {
        NoticeKind kind;
        NoticeInput in;
        Notice n;
        int r;

        if (!a->d.present)
                return 0; /* the daemon is away (restarting): keep what is shown */
        kind = notice_kind(a);
        if (kind == _NOTICE_KEEP)
                return 0;

        in = (NoticeInput){
                .kind = kind,
                .old_name = product_name(&a->d, a->d.discouraged),
                .new_name = product_name(&a->d, a->d.replacement),
                .protecting_name = protecting_name(&a->d),
                .protected_ = a->d.protected_,
                .scheduled_at = streq(a->d.state, "scheduled") ? a->d.scheduled_at : 0,
                .deferrals_left = a->d.deferrals_left,
                .postpone_usec = a->config.postpone_usec,
                .postponed_until = a->postponed_until,
                .postpone_error = a->postpone_error,
                .contact = a->config.contact,
                .server_has_actions = a->caps_actions,
        };
        if (in.kind != NOTICE_PLANNED) {
                a->postponed_until = 0;
                a->postpone_error[0] = 0;
        }
        notice_render(&in, &n);

        if (a->notify_slot) {
                a->dirty = true; /* after the reply, with its id */
                return 0;
        }

        if (n.kind == NOTICE_NONE) {
                if (a->id > 0 && !a->close_slot) {
                        r = sd_bus_call_method_async(a->session_bus, &a->close_slot, NOTIFICATIONS_NAME, NOTIFICATIONS_PATH,
                                                     NOTIFICATIONS_INTERFACE, "CloseNotification", on_close_reply, a, "u", a->id);
                        if (r < 0)
                                log_warning_errno(r, "Could not close the notification: %m");
                        a->id = 0;
                }
                a->posted = n;
                return 0;
        }

        if (!a->caps_known) {
                if (a->caps_slot)
                        return 0;
                r = sd_bus_call_method_async(a->session_bus, &a->caps_slot, NOTIFICATIONS_NAME, NOTIFICATIONS_PATH,
                                             NOTIFICATIONS_INTERFACE, "GetCapabilities", on_caps_reply, a, "");
                if (r < 0)
                        return log_warning_errno(r, "Could not ask the notification server: %m");
                return 0;
        }

        /* Unchanged: nothing to say, also when the user dismissed it. */
        if (notice_equal(&n, &a->posted))
                return 0;

        log_info("%s", n.summary);
        r = send_notice(a, &n);
        if (r < 0)
                return log_warning_errno(r, "Could not send the notification: %m");
        return 0;
}

/* --------------------------------------------------------- daemon events */

static int on_getall_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        int r;

        a->getall_slot = sd_bus_slot_unref(a->getall_slot);
        if (e) {
                if (is_daemon_absent_error(e))
                        log_info("avmigrated is not running; waiting for it.");
                else
                        log_warning("Could not read avmigrated's state: %s", e->message ?: e->name);
                a->d.present = false;
                return 0;
        }
        r = read_properties(m, &a->d);
        if (r < 0) {
                log_warning_errno(r, "Bad properties from avmigrated: %m");
                return 0;
        }
        a->d.present = true;
        log_debug("State %s, protected %s, %" PRIu32 " postponements left.", a->d.state, a->d.protected_ ? "yes" : "no",
                  a->d.deferrals_left);
        if (a->refetch) {
                a->refetch = false;
                return refresh(a);
        }
        return update(a);
}

/* Reads all of the Manager's properties (asynchronously, one call at a time). */
static int refresh(Agent *a) {
        int r;

        if (a->getall_slot) {
                a->refetch = true;
                return 0;
        }
        r = sd_bus_call_method_async(a->system_bus, &a->getall_slot, BUS_NAME, OBJECT_PATH, "org.freedesktop.DBus.Properties",
                                     "GetAll", on_getall_reply, a, "s", MANAGER_INTERFACE);
        if (r < 0)
                return log_warning_errno(r, "Could not ask avmigrated for its state: %m");
        return 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        const char *interface;
        int r;

        r = sd_bus_message_read(m, "s", &interface);
        if (r < 0 || !streq(interface, MANAGER_INTERFACE))
                return 0;
        if (!a->d.present || a->getall_slot)
                return refresh(a); /* a whole picture first */
        r = read_properties(m, &a->d);
        if (r < 0) {
                log_warning_errno(r, "Bad PropertiesChanged from avmigrated: %m");
                return refresh(a);
        }
        r = sd_bus_message_enter_container(m, 'a', "s");
        if (r > 0 && sd_bus_message_at_end(m, false) == 0)
                return refresh(a); /* invalidated without values */
        return update(a);
}

static int on_manager_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        const char *member = sd_bus_message_get_member(m);
        const char *step, *result, *path;
        uint64_t job;
        uint32_t index, count;

        if (streq_ptr(member, "StepStarted") && sd_bus_message_read(m, "tsuu", &job, &step, &index, &count) >= 0) {
                log_debug("Job %" PRIu64 ": step %s (%" PRIu32 "/%" PRIu32 ") started.", job, step, index, count);
                a->saw_active = true;
                return update(a);
        }
        if (streq_ptr(member, "StepFinished") && sd_bus_message_read(m, "tss", &job, &step, &result) >= 0) {
                log_debug("Job %" PRIu64 ": step %s %s.", job, step, result);
                return 0;
        }
        if (streq_ptr(member, "JobRemoved") && sd_bus_message_read(m, "tos", &job, &path, &result) >= 0) {
                log_info("Job %" PRIu64 " ended: %s.", job, result);
                /* Even a job too short to be seen running is news. */
                a->saw_active = true;
                a->just_completed = streq(result, "completed");
                return refresh(a);
        }
        return 0;
}

static int on_daemon_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !streq(name, BUS_NAME))
                return 0;
        if (isempty(new_owner)) {
                log_info("avmigrated left the bus; waiting for it to come back.");
                a->d.present = false;
                return 0;
        }
        log_info("avmigrated is on the bus (%s).", new_owner);
        return refresh(a);
}

/* ----------------------------------------------------- postpone (action) */

static const char *postpone_error_text(const sd_bus_error *e) {
        if (sd_bus_error_has_name(e, ERROR_PREFIX "NotEligible"))
                return _("no postponements are left");
        if (sd_bus_error_has_name(e, ERROR_PREFIX "Busy"))
                return _("the replacement has already started");
        if (sd_bus_error_has_name(e, ERROR_PREFIX "NothingToDo"))
                return _("there is nothing to postpone");
        if (sd_bus_error_has_name(e, ERROR_PREFIX "InvalidArgument"))
                return _("your organisation does not allow postponing it for this long");
        if (sd_bus_error_has_names(e, ERROR_PREFIX "PermissionDenied", "org.freedesktop.DBus.Error.AccessDenied",
                                   "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"))
                return _("you are not allowed to postpone it");
        return _("the migration service did not answer");
}

static int on_postpone_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        a->postpone_slot = sd_bus_slot_unref(a->postpone_slot);
        if (e) {
                log_warning("Postpone refused: %s: %s", e->name, e->message ?: "");
                snprintf(a->postpone_error, sizeof(a->postpone_error), "%s", postpone_error_text(e));
                a->postponed_until = 0;
        } else {
                log_info("Postponed by %" PRIu64 " s at the user's request.", a->config.postpone_usec / USEC_PER_SEC);
                a->postpone_error[0] = 0;
                a->postponed_until = now_usec(CLOCK_REALTIME) + a->config.postpone_usec;
        }
        /* Our notification was closed by the click; show the outcome. */
        a->posted = (Notice){};
        return refresh(a);
}

static int postpone(Agent *a) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        if (a->postpone_slot)
                return 0; /* one at a time */
        r = sd_bus_message_new_method_call(a->system_bus, &m, BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, "Postpone");
        if (r < 0)
                return r;
        /* The user clicked: polkit may ask them (allow_active is yes anyway). */
        r = sd_bus_message_set_allow_interactive_authorization(m, true);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "t", a->config.postpone_usec);
        if (r < 0)
                return r;
        return sd_bus_call_async(a->system_bus, &a->postpone_slot, m, on_postpone_reply, a, 0);
}

/* ------------------------------------------------------ session events */

static int on_action_invoked(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        const char *key;
        uint32_t id;
        int r;

        if (sd_bus_message_read(m, "us", &id, &key) < 0 || id == 0 || id != a->id)
                return 0;
        log_info("Action '%s' on notification %" PRIu32 ".", key, id);
        if (!streq(key, NOTICE_ACTION_POSTPONE) || !a->posted.postpone_action)
                return 0;
        r = postpone(a);
        if (r < 0)
                log_warning_errno(r, "Could not ask avmigrated to postpone: %m");
        return 0;
}

static int on_notification_closed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        uint32_t id, reason;

        if (sd_bus_message_read(m, "uu", &id, &reason) < 0 || id == 0 || id != a->id)
                return 0;
        log_debug("Notification %" PRIu32 " closed (reason %" PRIu32 ").", id, reason);
        a->id = 0; /* what it said stays in a->posted: not repeated unless it changes */
        return 0;
}

static int on_server_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !streq(name, NOTIFICATIONS_NAME))
                return 0;
        /* Another server: new capabilities, and it shows nothing of ours yet. */
        a->caps_known = false;
        a->caps_slot = sd_bus_slot_unref(a->caps_slot);
        a->id = 0;
        a->posted = (Notice){};
        if (isempty(new_owner))
                return 0;
        log_info("Notification server %s.", new_owner);
        return update(a);
}

/* ---------------------------------------------------------------- setup */

static int on_term(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int setup_system_bus(Agent *a) {
        int r;

        r = sd_bus_open_system(&a->system_bus);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the system bus: %m");
        /* Losing a bus is fatal: the unit's Restart= brings us back. */
        r = sd_bus_set_exit_on_disconnect(a->system_bus, true);
        if (r >= 0)
                r = sd_bus_attach_event(a->system_bus, a->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot attach the system bus: %m");

        r = sd_bus_match_signal(a->system_bus, NULL, BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, NULL, on_manager_signal, a);
        if (r >= 0)
                r = sd_bus_match_signal(a->system_bus, NULL, BUS_NAME, OBJECT_PATH, "org.freedesktop.DBus.Properties",
                                        "PropertiesChanged", on_properties_changed, a);
        if (r >= 0)
                r = sd_bus_add_match(a->system_bus, NULL,
                                     "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                     "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" BUS_NAME "'",
                                     on_daemon_owner_changed, a);
        if (r < 0)
                return log_error_errno(r, "Cannot watch avmigrated on the system bus: %m");
        return 0;
}

static int setup_session_bus(Agent *a) {
        int r;

        r = sd_bus_open_user(&a->session_bus);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the session bus: %m");
        r = sd_bus_set_exit_on_disconnect(a->session_bus, true);
        if (r >= 0)
                r = sd_bus_attach_event(a->session_bus, a->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot attach the session bus: %m");

        r = sd_bus_match_signal(a->session_bus, NULL, NOTIFICATIONS_NAME, NOTIFICATIONS_PATH, NOTIFICATIONS_INTERFACE,
                                "ActionInvoked", on_action_invoked, a);
        if (r >= 0)
                r = sd_bus_match_signal(a->session_bus, NULL, NOTIFICATIONS_NAME, NOTIFICATIONS_PATH, NOTIFICATIONS_INTERFACE,
                                        "NotificationClosed", on_notification_closed, a);
        if (r >= 0)
                r = sd_bus_add_match(a->session_bus, NULL,
                                     "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                     "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" NOTIFICATIONS_NAME "'",
                                     on_server_owner_changed, a);
        if (r < 0)
                return log_error_errno(r, "Cannot watch the notification server: %m");
        return 0;
}

static void agent_done(Agent *a) {
        sd_bus_slot_unref(a->getall_slot);
        sd_bus_slot_unref(a->postpone_slot);
        sd_bus_slot_unref(a->caps_slot);
        sd_bus_slot_unref(a->notify_slot);
        sd_bus_slot_unref(a->close_slot);
        sd_bus_flush_close_unref(a->session_bus);
        sd_bus_flush_close_unref(a->system_bus);
        sd_event_unref(a->event);
}

static void help(void) {
        printf(_("Usage: %s [--help] [--version]\n\n"
                 "Shows the progress of the antivirus migration of this computer as desktop\n"
                 "notifications. Started by the systemd user unit avmigrate-notify.service or the\n"
                 "XDG autostart entry; see avmigrate-notify(1).\n"),
               program_invocation_short_name);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        Agent a = {};
        sigset_t ss;
        int c, r;

        i18n_setup();
        log_setup();

        while ((c = getopt_long(argc, argv, "hV", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case 'V':
                        printf("avmigrate-notify %s\n", PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                default:
                        return EXIT_FAILURE;
                }
        if (optind < argc) {
                log_error("This program takes no arguments.");
                return EXIT_FAILURE;
        }

        notify_config_load(&a.config, setlocale(LC_MESSAGES, NULL));

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0) {
                log_error_errno(errno, "sigprocmask() failed: %m");
                return EXIT_FAILURE;
        }

        r = sd_event_default(&a.event);
        if (r < 0) {
                log_error_errno(r, "Cannot create the event loop: %m");
                goto finish;
        }
        (void) sd_event_add_signal(a.event, NULL, SIGTERM, on_term, NULL);
        (void) sd_event_add_signal(a.event, NULL, SIGINT, on_term, NULL);

        r = setup_session_bus(&a);
        if (r < 0)
                goto finish;
        r = setup_system_bus(&a);
        if (r < 0)
                goto finish;

        r = refresh(&a);
        if (r < 0)
                goto finish;

        r = sd_event_loop(a.event);
        if (r < 0)
                log_error_errno(r, "Event loop failed: %m");
finish:
        agent_done(&a);
        return r < 0 ? EXIT_FAILURE : r;
}
