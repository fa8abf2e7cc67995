/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.avmigrate.Migrate1.Manager on /org/avmigrate/Migrate1. */
#include <inttypes.h>

#include "bus.h"
#include "engine.h"
#include "errors.h"
#include "history.h"
#include "log.h"
#include "manifest.h"
#include "polkit.h"
#include "report.h"
#include "rollout.h"
#include "utf8.h"
#include "util.h"
#include "window.h"

#define MANAGER_PATH "/org/avmigrate/Migrate1"
#define MANAGER_IFACE "org.avmigrate.Migrate1.Manager"

/* What an authorized call needs once polkit has answered. */
typedef struct Call {
        Manager *manager;
        sd_bus_message *message; /* kept while Start waits for a fresh detection */
        bool redetected;
        bool force, dry_run;
        char replacement[64];
        uint64_t usec;
        uint64_t job_id;
} Call;

static void reply_error(sd_bus_message *m, const sd_bus_error *e) {
        (void) sd_bus_reply_method_error(m, e);
}

static void reply_error_name(sd_bus_message *m, const char *name, const char *text) {
        /* The text may quote configuration or plugins, cut by a fixed buffer. */
        _cleanup_free_ char *clean = utf8_sanitize_dup(text);

        (void) sd_bus_reply_method_errorf(m, name, "%s", clean ? clean : text);
}

/* ---- properties ---- */

/* GetAll calls every getter with the same reply in one dispatch: build the
 * snapshot once for it (the manager cannot change between two getters of
 * one reply; the event loop's iteration keeps a later reply that happens to
 * reuse the address from seeing an old snapshot). */
static const PropertySnapshot *snapshot_for(Manager *m, sd_bus_message *reply) {
        static PropertySnapshot snap;
        static const sd_bus_message *snap_reply;
        static uint64_t snap_iteration;
        uint64_t iteration;

        if (sd_event_get_iteration(m->event, &iteration) < 0 || reply != snap_reply || iteration != snap_iteration) {
                manager_snapshot(m, &snap);
                snap_reply = reply;
                snap_iteration = iteration;
        }
        return &snap;
}

#define SNAP(m, s) const PropertySnapshot *s = snapshot_for((m), reply)

static int prop_string(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                       void *userdata, sd_bus_error *error) {
        SNAP(userdata, s);
        const char *v = streq(property, "State") ? s->state :
                streq(property, "Step")          ? s->step :
                streq(property, "StatusText")    ? s->status_text :
                streq(property, "Discouraged")   ? s->discouraged :
                streq(property, "Replacement")   ? s->replacement :
                                                   s->last_error;
        return bus_append_utf8(reply, v);
}

static int prop_job(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                    void *userdata, sd_bus_error *error) {
        SNAP(userdata, s);
        return sd_bus_message_append(reply, "o", s->job);
}

static int prop_u(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                  void *userdata, sd_bus_error *error) {
        SNAP(userdata, s);
        return sd_bus_message_append(reply, "u", streq(property, "Progress") ? s->progress : s->deferrals_left);
}

static int prop_t(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                  void *userdata, sd_bus_error *error) {
        SNAP(userdata, s);
        return sd_bus_message_append(reply, "t", streq(property, "ScheduledAt") ? s->scheduled_at : s->gap_usec);
}

static int prop_protected(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                          void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "b", m->protected_);
}

static int prop_products(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                         void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sssbb)");
        for (size_t i = 0; r >= 0 && i < m->products.n; i++) {
                ProductInfo *p = &m->products.items[i];

                /* Names and versions come from plugins and vendor tools: not
                 * necessarily UTF-8, which would fail the whole GetAll. */
                r = sd_bus_message_open_container(reply, 'r', "sssbb");
                if (r >= 0)
                        r = bus_append_utf8(reply, p->id);
                if (r >= 0)
                        r = bus_append_utf8(reply, p->name);
                if (r >= 0)
                        r = bus_append_utf8(reply, p->version);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "bb", p->installed, p->realtime);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

/* ---- methods ---- */

static int method_get_plan(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        ProductInfo *from = manager_discouraged(m), *to = manager_replacement(m, NULL);
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sss)");
        for (int s = 0; r >= 0 && from && to && s < _STEP_MAX; s++) {
                const char *product = s == STEP_REMOVE                                ? from->id :
                        s == STEP_PREFLIGHT || s == STEP_REPORT || s == STEP_HANDOVER ? "" :
                                                                                        to->id;
                char desc[256];

                if (s == STEP_HANDOVER)
                        snprintf(desc, sizeof(desc), "%s (%s → %s, %s)", step_description(s), from->id, to->id,
                                 manager_overlap_allowed(m, from, to) ? "overlapping, no gap" : "stop old first, measured gap");
                else
                        snprintf(desc, sizeof(desc), "%s", step_description(s));
                r = sd_bus_message_append(reply, "(sss)", step_to_string(s), desc, product);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int parse_start_options(sd_bus_message *msg, Call *c, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        for (unsigned n = 0;; n++) {
                const char *key, *contents;
                char type;

                r = sd_bus_message_enter_container(msg, 'e', "sv");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (n >= 16)
                        return sd_bus_error_set(error, AVM_ERROR_INVALID_ARGUMENT, "Too many options.");
                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(msg, &type, &contents);
                if (r < 0)
                        return r;
                if (streq(key, "force") || streq(key, "dry-run")) {
                        int b;
                        if (!streq(contents, "b"))
                                return sd_bus_error_setf(error, AVM_ERROR_INVALID_ARGUMENT,
                                                         "Option '%s' must be a boolean (b), got '%s'.", key, contents);
                        r = sd_bus_message_read(msg, "v", "b", &b);
                        if (r < 0)
                                return r;
                        if (streq(key, "force"))
                                c->force = b;
                        else
                                c->dry_run = b;
                } else if (streq(key, "replacement")) {
                        const char *s;
                        if (!streq(contents, "s"))
                                return sd_bus_error_setf(error, AVM_ERROR_INVALID_ARGUMENT,
                                                         "Option 'replacement' must be a string (s), got '%s'.", contents);
                        r = sd_bus_message_read(msg, "v", "s", &s);
                        if (r < 0)
                                return r;
                        if (!string_is_safe_id(s))
                                return sd_bus_error_setf(error, AVM_ERROR_INVALID_ARGUMENT,
                                                         "Option 'replacement': invalid product id.");
                        snprintf(c->replacement, sizeof(c->replacement), "%s", s);
                } else {
                        char safe[65];
                        snprintf(safe, sizeof(safe), "%s", key);
                        return sd_bus_error_setf(error, AVM_ERROR_INVALID_ARGUMENT,
                                                 "Unknown option '%s' (known: force, replacement, dry-run).", safe);
                }
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_exit_container(msg);
}

static void start_after_detect(Manager *m, void *userdata);

static void start_authorized(sd_bus_message *msg, void *userdata, bool allowed, const sd_bus_error *error) {
        Call *c = userdata;
        Manager *m = c->manager;
        ProductInfo *from, *to;
        const char *name;
        Job *j;
        char text[256];
        int r;

        if (!allowed) {
                reply_error(msg, error);
                goto out;
        }
        r = manager_check_start(m, c->replacement[0] ? c->replacement : NULL, c->force, &from, &to, &name, text, sizeof(text));
        if (r == -ENOENT && !c->redetected) {
                /* Products may have changed since the last detection: look again. */
                c->redetected = true;
                c->message = sd_bus_message_ref(msg);
                if (manager_detect_then(m, start_after_detect, c) >= 0)
                        return;
                c->message = sd_bus_message_unref(c->message);
        }
        if (r < 0) {
                reply_error_name(msg, name, text);
                goto out;
        }
        r = engine_start(m, from, to, c->force, c->dry_run, &j);
        if (r < 0) {
                snprintf(text, sizeof(text), "Cannot start the job: %s", strerror(-r));
                reply_error_name(msg, AVM_ERROR_STEP_FAILED, text);
                goto out;
        }
        (void) sd_bus_reply_method_return(msg, "to", j->id, j->path);
out:
        sd_bus_message_unref(c->message);
        free(c);
}

static void start_after_detect(Manager *m, void *userdata) {
        Call *c = userdata;
        start_authorized(c->message, c, true, NULL);
}

static int authorize(sd_bus_message *msg, const char *action, PolkitCallback cb, Call *c) {
        int r = polkit_check(msg, action, cb, c);
        if (r < 0) {
                free(c);
                return r;
        }
        return 1; /* the reply comes from the callback */
}

static Call *call_new(Manager *m) {
        Call *c = calloc(1, sizeof(Call));
        if (c)
                c->manager = m;
        return c;
}

static int method_start(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Call *c = call_new(userdata);
        int r;

        if (!c)
                return -ENOMEM;
        r = parse_start_options(msg, c, error);
        if (r < 0 || sd_bus_error_is_set(error)) {
                free(c);
                if (r < 0 && !sd_bus_error_is_set(error))
                        return sd_bus_error_setf(error, AVM_ERROR_INVALID_ARGUMENT, "Malformed options: %s", strerror(-r));
                return r;
        }
        return authorize(msg, "org.avmigrate.Migrate1.start", start_authorized, c);
}

static void control_authorized(sd_bus_message *msg, void *userdata, bool allowed, const sd_bus_error *error) {
        Call *c = userdata;
        Manager *m = c->manager;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *member = sd_bus_message_get_member(msg);
        int r;

        if (!allowed)
                reply_error(msg, error);
        else {
                if (streq(member, "Pause"))
                        r = engine_pause(m, &e);
                else if (streq(member, "Resume"))
                        r = engine_resume(m, &e);
                else if (c->job_id && (!m->job || m->job->id != c->job_id))
                        r = sd_bus_error_set(&e, AVM_ERROR_NOTHING_TO_DO, "This job is no longer running.");
                else
                        r = engine_cancel(m, m->job, &e);
                if (r < 0 || sd_bus_error_is_set(&e))
                        reply_error(msg, &e);
                else
                        (void) sd_bus_reply_method_return(msg, NULL);
        }
        sd_bus_error_free(&e);
        free(c);
}

static int method_control(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Call *c = call_new(userdata);

        if (!c)
                return -ENOMEM;
        return authorize(msg, "org.avmigrate.Migrate1.control", control_authorized, c);
}

int bus_job_cancel(sd_bus_message *msg, Manager *m, uint64_t id) {
        Call *c = call_new(m);

        if (!c)
                return -ENOMEM;
        c->job_id = id;
        return authorize(msg, "org.avmigrate.Migrate1.control", control_authorized, c);
}

static void postpone_authorized(sd_bus_message *msg, void *userdata, bool allowed, const sd_bus_error *error) {
        Call *c = userdata;
        Manager *m = c->manager;
        uint64_t now = now_usec(CLOCK_REALTIME);
        PropertySnapshot s;

        if (!allowed) {
                reply_error(msg, error);
                goto out;
        }
        manager_snapshot(m, &s);
        if (job_active(m->job))
                reply_error_name(msg, AVM_ERROR_BUSY, "The migration is already running; it cannot be postponed.");
        else if (!manager_discouraged(m))
                reply_error_name(msg, AVM_ERROR_NOTHING_TO_DO, "There is no migration to postpone.");
        else if (s.deferrals_left == 0)
                reply_error_name(msg, AVM_ERROR_NOT_ELIGIBLE, "No postponements are left.");
        else if (m->manifest && m->manifest->deadline_usec && now >= m->manifest->deadline_usec)
                reply_error_name(msg, AVM_ERROR_NOT_ELIGIBLE,
                                 "The fleet rollout's deadline has passed; it can no longer be postponed.");
        else {
                m->deferrals_used++;
                m->deferred_until = now + c->usec;
                (void) manager_save(m);
                log_info("Migration postponed by the user for %" PRIu64 " s (%u left).", c->usec / USEC_PER_SEC,
                         s.deferrals_left - 1);
                manager_changed(m);
                (void) sd_bus_reply_method_return(msg, NULL);
        }
out:
        free(c);
}

static int method_postpone(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        uint64_t usec;
        Call *c;
        int r;

        r = sd_bus_message_read(msg, "t", &usec);
        if (r < 0)
                return r;
        if (usec == 0 || usec > m->config->max_deferral_usec)
                return sd_bus_error_setf(error, AVM_ERROR_INVALID_ARGUMENT,
                                         "Postponement must be between 1 µs and %" PRIu64 " s (MaxDeferralSec=).",
                                         m->config->max_deferral_usec / USEC_PER_SEC);
        c = call_new(m);
        if (!c)
                return -ENOMEM;
        c->usec = usec;
        return authorize(msg, "org.avmigrate.Migrate1.postpone", postpone_authorized, c);
}

static void refresh_done(Manager *m, int error, const char *why, void *userdata) {
        sd_bus_message *msg = userdata;

        if (error < 0)
                reply_error_name(msg, rollout_error_name(error), why ? why : strerror(-error));
        else
                (void) sd_bus_reply_method_return(msg, NULL);
        sd_bus_message_unref(msg);
}

/* Answers once the poll is over: the caller learns whether the manifest was
 * taken, and why not. */
static void refresh_authorized(sd_bus_message *msg, void *userdata, bool allowed, const sd_bus_error *error) {
        Call *c = userdata;
        Manager *m = c->manager;
        int r;

        free(c);
        if (!allowed) {
                reply_error(msg, error);
                return;
        }
        r = rollout_poll(m, refresh_done, sd_bus_message_ref(msg));
        if (r >= 0)
                return;
        sd_bus_message_unref(msg);
        if (r == -ENOTCONN)
                reply_error_name(msg, AVM_ERROR_NOT_SUPPORTED, "No fleet manifest is configured (ManifestURL= is empty).");
        else
                reply_error_name(msg, AVM_ERROR_BUSY, "Too many refreshes are waiting; try again later.");
}

static int method_refresh(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        Call *c;

        if (!m->rollout)
                return sd_bus_error_set(error, AVM_ERROR_NOT_SUPPORTED, "No fleet manifest is configured (ManifestURL= is empty).");
        c = call_new(m);
        if (!c)
                return -ENOMEM;
        return authorize(msg, "org.avmigrate.Migrate1.refresh", refresh_authorized, c);
}

/* JSON from reports holds vendor text, which json-c passes through byte
 * for byte. */
static int reply_string(sd_bus_message *msg, const char *s) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = bus_append_utf8(reply, s);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int reply_json(sd_bus_message *msg, json_object *o) {
        int r = reply_string(msg, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return r;
}

static int method_get_report(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        json_object *o = NULL;
        uint64_t id;
        int r;

        r = sd_bus_message_read(msg, "t", &id);
        if (r < 0)
                return r;
        if (id > HISTORY_ID_MAX)
                return sd_bus_error_setf(error, AVM_ERROR_INVALID_ARGUMENT, "Job ids are at most %" PRIu64 ".", HISTORY_ID_MAX);
        if (m->job && (id == 0 || id == m->job->id))
                return reply_json(msg, report_build(m->job));
        r = history_find(id, &o);
        if (r == -ENOENT && id == 0)
                return sd_bus_error_set(error, AVM_ERROR_NOT_FOUND, "No job has run yet.");
        if (r == -ENOENT)
                return sd_bus_error_setf(error, AVM_ERROR_NOT_FOUND, "No job %" PRIu64 " in the history.", id);
        if (r < 0)
                return r;
        return reply_json(msg, o);
}

static int reply_history_page(sd_bus_message *msg, uint64_t offset, uint64_t limit) {
        _cleanup_free_ char *json = NULL;
        int r = history_list_page_json(offset, limit, &json);

        if (r < 0)
                return r;
        return reply_string(msg, json);
}

static int method_get_history(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return reply_history_page(msg, 0, HISTORY_PAGE_DEFAULT);
}

static int method_get_history_page(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        uint64_t offset, limit;
        int r;

        r = sd_bus_message_read(msg, "tt", &offset, &limit);
        if (r < 0)
                return r;
        if (limit > HISTORY_PAGE_MAX)
                return sd_bus_error_setf(error, AVM_ERROR_INVALID_ARGUMENT, "At most %u jobs a page.", HISTORY_PAGE_MAX);
        return reply_history_page(msg, offset, limit);
}

#define PROP(name, sig, getter) SD_BUS_PROPERTY(name, sig, getter, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)
#define UNPRIV SD_BUS_VTABLE_UNPRIVILEGED

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        PROP("State", "s", prop_string),
        PROP("Step", "s", prop_string),
        PROP("Progress", "u", prop_u),
        PROP("StatusText", "s", prop_string),
        PROP("Protected", "b", prop_protected),
        PROP("ProtectionGapUSec", "t", prop_t),
        PROP("Products", "a(sssbb)", prop_products),
        PROP("Discouraged", "s", prop_string),
        PROP("Replacement", "s", prop_string),
        PROP("Job", "o", prop_job),
        PROP("LastError", "s", prop_string),
        PROP("ScheduledAt", "t", prop_t),
        PROP("DeferralsLeft", "u", prop_u),
        SD_BUS_METHOD_WITH_NAMES("GetPlan", "", , "a(sss)", SD_BUS_PARAM(plan), method_get_plan, UNPRIV),
        SD_BUS_METHOD_WITH_NAMES("Start", "a{sv}", SD_BUS_PARAM(options), "to", SD_BUS_PARAM(id) SD_BUS_PARAM(path), method_start,
                                 UNPRIV),
        SD_BUS_METHOD("Pause", "", "", method_control, UNPRIV),
        SD_BUS_METHOD("Resume", "", "", method_control, UNPRIV),
        SD_BUS_METHOD("Cancel", "", "", method_control, UNPRIV),
        SD_BUS_METHOD_WITH_NAMES("Postpone", "t", SD_BUS_PARAM(usec), "", , method_postpone, UNPRIV),
        SD_BUS_METHOD("Refresh", "", "", method_refresh, UNPRIV),
        SD_BUS_METHOD_WITH_NAMES("GetReport", "t", SD_BUS_PARAM(id), "s", SD_BUS_PARAM(json), method_get_report, UNPRIV),
        SD_BUS_METHOD_WITH_NAMES("GetHistory", "", , "s", SD_BUS_PARAM(json), method_get_history, UNPRIV),
        SD_BUS_METHOD_WITH_NAMES("GetHistoryPage", "tt", SD_BUS_PARAM(offset) SD_BUS_PARAM(limit), "s", SD_BUS_PARAM(json),
                                 method_get_history_page, UNPRIV),
        SD_BUS_SIGNAL_WITH_NAMES("StepStarted", "tsuu",
                                 SD_BUS_PARAM(job_id) SD_BUS_PARAM(step) SD_BUS_PARAM(index) SD_BUS_PARAM(count), 0),
        SD_BUS_SIGNAL_WITH_NAMES("StepFinished", "tss", SD_BUS_PARAM(job_id) SD_BUS_PARAM(step) SD_BUS_PARAM(result), 0),
        SD_BUS_SIGNAL_WITH_NAMES("JobRemoved", "tos", SD_BUS_PARAM(job_id) SD_BUS_PARAM(path) SD_BUS_PARAM(result), 0),
        SD_BUS_VTABLE_END,
};

/* ---- what the core tells the bus (ManagerObserver) ---- */

#define PROGRESS_EMIT_INTERVAL_USEC (250 * USEC_PER_MSEC)

static void properties_changed(Manager *m);

static int emit_now(Manager *m) {
        PropertySnapshot now, *old = &m->emitted;
        const char *names[16];
        size_t n = 0;
        uint64_t t = now_usec(CLOCK_MONOTONIC);
        bool pending = false;

        manager_snapshot(m, &now);
#define CMP_STR(f, name)                \
        if (strcmp(now.f, old->f) != 0) \
        names[n++] = name
#define CMP_VAL(f, name)     \
        if (now.f != old->f) \
        names[n++] = name
        CMP_STR(state, "State");
        CMP_STR(step, "Step");
        CMP_STR(status_text, "StatusText");
        CMP_VAL(protected_, "Protected");
        CMP_VAL(gap_usec, "ProtectionGapUSec");
        CMP_STR(products, "Products");
        CMP_STR(discouraged, "Discouraged");
        CMP_STR(replacement, "Replacement");
        CMP_STR(job, "Job");
        CMP_STR(last_error, "LastError");
        CMP_VAL(scheduled_at, "ScheduledAt");
        CMP_VAL(deferrals_left, "DeferralsLeft");
#undef CMP_STR
#undef CMP_VAL
        /* Progress at most four times a second, but always with other changes. */
        if (now.progress != old->progress) {
                if (n > 0 || now.progress == 100 || t - m->last_progress_emit >= PROGRESS_EMIT_INTERVAL_USEC) {
                        names[n++] = "Progress";
                        m->last_progress_emit = t;
                } else {
                        now.progress = old->progress; /* emitted later by the timer */
                        pending = true;
                }
        }
        names[n] = NULL;

        if (n > 0 && m->bus)
                (void) sd_bus_emit_properties_changed_strv(m->bus, MANAGER_PATH, MANAGER_IFACE, (char **) names);
        *old = now;
        return pending;
}

static int on_emit_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        m->emit_timer = sd_event_source_disable_unref(m->emit_timer);
        properties_changed(m);
        return 0;
}

static int on_emit_defer(sd_event_source *s, void *userdata) {
        Manager *m = userdata;

        m->emit_defer = sd_event_source_disable_unref(m->emit_defer);
        if (emit_now(m) > 0 && !m->emit_timer)
                (void) sd_event_add_time_relative(m->event, &m->emit_timer, CLOCK_MONOTONIC, PROGRESS_EMIT_INTERVAL_USEC, 0,
                                                  on_emit_timer, m);
        return 0;
}

static void properties_changed(Manager *m) {
        if (m->emit_defer || !m->event)
                return;
        (void) sd_event_add_defer(m->event, &m->emit_defer, on_emit_defer, m);
}

static void emit_step_started(Job *j, StepId s) {
        if (j->manager->bus)
                (void) sd_bus_emit_signal(j->manager->bus, MANAGER_PATH, MANAGER_IFACE, "StepStarted", "tsuu", j->id,
                                          step_to_string(s), (uint32_t) s + 1, (uint32_t) _STEP_MAX);
}

static void emit_step_finished(Job *j, StepId s, const char *result) {
        if (j->manager->bus)
                (void) sd_bus_emit_signal(j->manager->bus, MANAGER_PATH, MANAGER_IFACE, "StepFinished", "tss", j->id,
                                          step_to_string(s), result);
}

static void emit_job_removed(Job *j) {
        if (j->manager->bus)
                (void) sd_bus_emit_signal(j->manager->bus, MANAGER_PATH, MANAGER_IFACE, "JobRemoved", "tos", j->id, j->path,
                                          j->result);
}

static const ManagerObserver bus_observer = {
        .properties_changed = properties_changed,
        .job_added = bus_job_add,
        .job_removed = bus_job_remove,
        .job_changed = bus_job_changed,
        .step_started = emit_step_started,
        .step_finished = emit_step_finished,
        .job_finished = emit_job_removed,
};

int bus_manager_setup(Manager *m) {
        int r = sd_bus_add_object_vtable(m->bus, NULL, MANAGER_PATH, MANAGER_IFACE, manager_vtable, m);
        if (r < 0)
                return r;
        manager_snapshot(m, &m->emitted);
        return manager_add_observer(m, &bus_observer);
}
