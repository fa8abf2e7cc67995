/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <time.h>

#include "log.h"
#include "ops.h"
#include "probe.h"
#include "util.h"
#include "worker-proto.h"

static bool error_sent;

int op_fail(OpContext *c, int error, const char *format, ...) {
        char buf[512];
        va_list ap;

        if (error > 0)
                error = -error;
        if (error == 0)
                error = -EIO;
        va_start(ap, format);
        vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);
        snprintf(c->failure, sizeof(c->failure), "%s", buf);
        log_error("%s: %s", c->step, buf);
        if (!error_sent) {
                worker_send(c->fd, "ERRMSG", buf);
                error_sent = true;
        }
        return error;
}

void op_event(OpContext *c, const char *event, const char *product, const char *detail) {
        json_object *o = json_object_new_object();

        if (!o)
                return;
        json_object_object_add(o, "event", json_object_new_string(event));
        json_object_object_add(o, "step", json_object_new_string(c->step));
        json_object_object_add(o, "t", json_object_new_int64((int64_t) now_usec(CLOCK_REALTIME)));
        json_object_object_add(o, "mono", json_object_new_int64((int64_t) now_usec(CLOCK_MONOTONIC)));
        if (product)
                json_object_object_add(o, "product", json_object_new_string(product));
        if (detail)
                json_object_object_add(o, "detail", json_object_new_string(detail));
        worker_send_json(c->fd, "EVENT", o);
        json_object_put(o);
}

static void attach(OpContext *c, Product *p) {
        p->host.progress_fd = c->fd;
        p->host.error[0] = 0;
}

static int plugin_error(OpContext *c, Product *p, const char *op, int r) {
        return op_fail(c, r, "%s: %s failed: %s", p->plugin->id, op, p->host.error[0] ? p->host.error : strerror(r < 0 ? -r : EIO));
}

int op_detect(OpContext *c, Product *p, AvmDetection *ret) {
        int r;

        attach(c, p);
        *ret = (AvmDetection){};
        r = p->plugin->detect(&p->host, ret);
        if (r < 0)
                return plugin_error(c, p, "detect", r);
        ret->version[sizeof(ret->version) - 1] = 0;
        return 0;
}

int op_status(OpContext *c, Product *p, AvmStatus *ret) {
        int r;

        attach(c, p);
        *ret = (AvmStatus){ .definitions_age_sec = -1 };
        r = p->plugin->status(&p->host, ret);
        if (r < 0)
                return plugin_error(c, p, "status", r);
        ret->detail[sizeof(ret->detail) - 1] = 0;
        return 0;
}

int op_install(OpContext *c, Product *p) {
        int r;

        if (!p->plugin->install)
                return op_fail(c, -EOPNOTSUPP, "%s cannot install itself", p->plugin->id);
        attach(c, p);
        op_event(c, "install", p->plugin->id, NULL);
        r = p->plugin->install(&p->host);
        if (r < 0)
                return plugin_error(c, p, "install", r);
        return 0;
}

int op_uninstall(OpContext *c, Product *p) {
        int r;

        if (!p->plugin->uninstall)
                return op_fail(c, -EOPNOTSUPP, "%s cannot uninstall itself", p->plugin->id);
        attach(c, p);
        op_event(c, "uninstall", p->plugin->id, NULL);
        r = p->plugin->uninstall(&p->host);
        if (r < 0)
                return plugin_error(c, p, "uninstall", r);
        return 0;
}

int op_set_realtime(OpContext *c, Product *p, bool enable) {
        int r;

        if (!p->plugin->set_realtime)
                return op_fail(c, -EOPNOTSUPP, "%s cannot switch real-time protection", p->plugin->id);
        attach(c, p);
        op_event(c, enable ? "realtime-on" : "realtime-off", p->plugin->id, NULL);
        r = p->plugin->set_realtime(&p->host, enable);
        if (r < 0)
                return plugin_error(c, p, enable ? "enabling real-time protection" : "disabling real-time protection", r);
        return 0;
}

static void sleep_usec(uint64_t usec) {
        struct timespec ts = { .tv_sec = (time_t) (usec / USEC_PER_SEC), .tv_nsec = (long) (usec % USEC_PER_SEC) * 1000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static void probe_events(OpContext *c, Product *p, const ProbeSet *ps) {
        for (size_t i = 0; i < ps->n; i++) {
                json_object *o = json_object_new_object();

                json_object_object_add(o, "event", json_object_new_string("probe-on-access-root"));
                json_object_object_add(o, "step", json_object_new_string(c->step));
                json_object_object_add(o, "t", json_object_new_int64((int64_t) now_usec(CLOCK_REALTIME)));
                json_object_object_add(o, "mono", json_object_new_int64((int64_t) now_usec(CLOCK_MONOTONIC)));
                json_object_object_add(o, "product", json_object_new_string(p->plugin->id));
                json_object_object_add(o, "root", json_object_new_string(ps->roots[i].root));
                json_object_object_add(o, "result", json_object_new_string(probe_result_string(ps->roots[i].result)));
                if (ps->roots[i].result < 0)
                        json_object_object_add(o, "detail", json_object_new_string(strerror(-ps->roots[i].result)));
                worker_send_json(c->fd, "EVENT", o);
                json_object_put(o);
        }
}

static void unblocked_roots(const ProbeSet *ps, char *buf, size_t size) {
        ScopeList l = { 0 };

        for (size_t i = 0; i < ps->n; i++)
                if (ps->roots[i].result != 1 && ps->roots[i].result != PROBE_ABSENT)
                        (void) scope_list_add(&l, ps->roots[i].root);
        scope_list_join(&l, buf, size);
}

int op_probe_scope(OpContext *c, Product *p, uint64_t wait_usec) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + wait_usec;
        ProbeSet ps;
        int blocked = 0;

        if (!c->scope || c->scope->n == 0)
                return 0;
        probe_set_open(&ps, c->scope);
        for (;;) {
                probe_set_run(&ps);
                if (probe_set_all_blocked(&ps) || now_usec(CLOCK_MONOTONIC) >= deadline)
                        break;
                sleep_usec(20 * USEC_PER_MSEC);
        }
        probe_set_close(&ps);
        probe_events(c, p, &ps);
        for (size_t i = 0; i < ps.n; i++)
                blocked += ps.roots[i].result == 1;
        return blocked;
}

int op_verify_protecting(OpContext *c, Product *p) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + c->verify_timeout_usec;
        bool on_access = p->plugin->capabilities & AVM_CAP_ON_ACCESS;
        bool opened = false;
        char why[300] = "", roots[200];
        ProbeSet ps;

        for (;;) {
                AvmStatus st;
                int r = op_status(c, p, &st);

                if (r < 0) {
                        if (opened)
                                probe_set_close(&ps);
                        return r;
                }
                if (!st.realtime)
                        snprintf(why, sizeof(why), "real-time protection is not active%s%s", st.detail[0] ? ": " : "", st.detail);
                else if (!on_access || !c->scope || c->scope->n == 0) {
                        op_event(c, "verified", p->plugin->id, on_access ? "status (no scope root exists)" : "status");
                        return 0;
                } else {
                        if (!opened) {
                                probe_set_open(&ps, c->scope);
                                opened = true;
                        }
                        probe_set_run(&ps);
                        if (probe_set_all_blocked(&ps)) {
                                probe_set_close(&ps);
                                probe_events(c, p, &ps);
                                op_event(c, "verified", p->plugin->id, "status+on-access-eicar");
                                op_event(c, "probe-on-access-blocked", p->plugin->id, NULL);
                                return 0;
                        }
                        unblocked_roots(&ps, roots, sizeof(roots));
                        snprintf(why, sizeof(why), "the EICAR test file could be read (or not probed) in %s", roots);
                }
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        break;
                /* Short: the handover gap is measured across this loop. */
                sleep_usec(10 * USEC_PER_MSEC);
        }
        if (opened) {
                probe_set_close(&ps);
                probe_events(c, p, &ps);
        }
        op_event(c, "verify-failed", p->plugin->id, why);
        return op_fail(c, -EHOSTDOWN, "%s does not protect: %s", p->plugin->id, why);
}

int op_verify_detects(OpContext *c, Product *p) {
        char threat[128] = "";
        int r;

        attach(c, p);
        r = probe_on_demand(&p->host, p->plugin, threat, sizeof(threat));
        if (r < 0)
                return plugin_error(c, p, "the on-demand EICAR scan", r);
        if (r == 0) {
                op_event(c, "probe-on-demand-missed", p->plugin->id, NULL);
                return op_fail(c, -EHOSTDOWN, "%s did not detect the EICAR test file", p->plugin->id);
        }
        op_event(c, "probe-on-demand-detected", p->plugin->id, threat);
        return 0;
}
