/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* avmigrated: event loop, bus name, signals, sd_notify. */
#include <signal.h>
#include <systemd/sd-daemon.h>

#include "bus.h"
#include "config.h"
#include "engine.h"
#include "log.h"
#include "manager.h"
#include "metrics.h"
#include "polkit.h"
#include "report-upload.h"
#include "rollout.h"
#include "util.h"

#define EXIT_GRACE_USEC (60 * USEC_PER_SEC)

static int on_exit_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        log_warning("The current step did not finish in time; exiting anyway (it resumes on restart).");
        return sd_event_exit(m->event, 0);
}

static bool bus_lost;

/* Lets the step in progress end cleanly, then leaves the event loop. */
static int stop(Manager *m) {
        if (m->exiting)
                return sd_event_exit(m->event, 0);
        m->exiting = true;
        /* Let the step in progress end cleanly; the job is continued on the next start. */
        if (m->job && m->job->worker) {
                log_info("Stopping after the current step.");
                return sd_event_add_time_relative(m->event, &m->exit_timer, CLOCK_MONOTONIC, EXIT_GRACE_USEC, 0, on_exit_timer, m);
        }
        return sd_event_exit(m->event, 0);
}

static int on_term(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping…");
        return stop(userdata);
}

/* dbus-daemon went away (restarted, crashed): sd-bus does not reconnect, and
 * the daemon would run on unreachable for good (the system tier's
 * faults:dbus-restart). It stops as on SIGTERM and exits with a failure:
 * systemd restarts it (Restart=on-failure) on the new bus, and it resumes
 * the job from job.json as after a crash. */
static int on_bus_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        log_error("Lost the connection to the system bus; exiting after the current step so that systemd starts avmigrated again on the new bus.");
        bus_lost = true;
        return stop(userdata);
}

static int connect_bus(Manager *m) {
        int r;

        r = sd_bus_default_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the system bus: %m");
        r = bus_manager_setup(m);
        if (r < 0)
                return log_error_errno(r, "Cannot register the D-Bus objects: %m");
        r = sd_bus_match_signal(m->bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
                                "org.freedesktop.DBus.Local", "Disconnected", on_bus_disconnected, m);
        if (r < 0)
                return log_error_errno(r, "Cannot watch the bus connection: %m");
        r = sd_bus_attach_event(m->bus, m->event, 0);
        if (r < 0)
                return log_error_errno(r, "Cannot attach the bus to the event loop: %m");
        r = sd_bus_request_name(m->bus, "org.avmigrate.Migrate1", 0);
        if (r < 0)
                return log_error_errno(r, "Cannot own org.avmigrate.Migrate1: %m");
        return 0;
}

/* The fleet reports beside the bus: Prometheus textfile, report upload. */
static int setup_reports(Manager *m) {
        int r;

        r = metrics_setup(m);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the Prometheus metrics: %m");
        r = report_upload_setup(m);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the report upload: %m");
        return 0;
}

static int run(void) {
        Manager *m = NULL;
        Job *resume;
        sigset_t ss;
        int r;

        log_setup();
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGCHLD);
        sigaddset(&ss, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return log_error_errno(errno, "Cannot block signals: %m");
        (void) signal(SIGPIPE, SIG_IGN);

        r = manager_new(&m);
        if (r < 0)
                return log_error_errno(r, "Cannot allocate the event loop: %m");
        r = manager_startup(m);
        if (r < 0)
                goto finish;

        resume = m->job;
        m->job = NULL;
        r = connect_bus(m);
        if (r >= 0)
                r = setup_reports(m);
        if (r >= 0)
                manager_detect(m);
        if (r < 0) {
                m->job = resume;
                goto finish;
        }
        (void) sd_event_add_signal(m->event, NULL, SIGTERM, on_term, m);
        (void) sd_event_add_signal(m->event, NULL, SIGINT, on_term, m);
        (void) sd_event_add_signal(m->event, NULL, SIGHUP, NULL, NULL); /* configuration reload: restart instead */
        (void) sd_event_set_watchdog(m->event, true);

        if (resume)
                engine_resume_after_restart(m, resume);
        r = rollout_setup(m);
        if (r < 0)
                log_warning_errno(r, "Cannot set up the fleet rollout: %m");
        (void) sd_notify(false, "READY=1");
        manager_set_status(m, m->job ? m->job->status_text : "Idle.");
        log_info("avmigrated " PACKAGE_VERSION " ready: %zu product plugins, state %s.", m->products.n, manager_state(m));

        r = sd_event_loop(m->event);
        if (r < 0 && !m->config_refused)
                log_error_errno(r, "Event loop failed: %m");
finish:
        /* Checks still pending hold references to the bus. */
        polkit_cancel_all();
        report_upload_done();
        metrics_done();
        if (m)
                rollout_free(m->rollout);
        manager_free(m);
        return r < 0 || bus_lost ? EXIT_FAILURE : EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        if (argc > 1) {
                if (streq(argv[1], "--version")) {
                        puts("avmigrated " PACKAGE_VERSION);
                        return 0;
                }
                fprintf(stderr, "avmigrated takes no arguments; see avmigrated(8).\n");
                return EXIT_FAILURE;
        }
        return run();
}
