/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine without a bus and without processes: a fake worker
 * (fake-worker.c) stands in for avmigrate-worker, a recording observer for
 * the D-Bus surface. Step outcomes, rollback, cancel eligibility, crash
 * retries and the decisions after a restart. */
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "engine.h"
#include "errors.h"
#include "fake-worker.h"
#include "history.h"
#include "manager.h"
#include "state.h"
#include "util.h"

#include "avm-test.h"

#define DETECTED                                                                                                         \
        "{\"products\":[{\"id\":\"test-old\",\"name\":\"Old\",\"capabilities\":16,\"detected\":true,\"installed\":true," \
        "\"version\":\"1.0\",\"realtime\":true,\"healthy\":true},{\"id\":\"test-new\",\"name\":\"New\","                 \
        "\"capabilities\":26,\"detected\":true,\"installed\":false,\"version\":\"\",\"realtime\":false,"                 \
        "\"healthy\":false}]}"

static char tmpdir[PATH_MAX];
static char events[4096];

static void record(const char *a, const char *b, const char *c) {
        size_t n = strlen(events);
        snprintf(events + n, sizeof(events) - n, "%s%s%s ", a, b, c);
}

static void obs_step_started(Job *j, StepId s) {
        record("start:", step_to_string(s), "");
}
static void obs_step_finished(Job *j, StepId s, const char *result) {
        record(step_to_string(s), "=", result);
}
static void obs_job_finished(Job *j) {
        record("finished:", j->result, "");
}

static const ManagerObserver recorder = {
        .step_started = obs_step_started,
        .step_finished = obs_step_finished,
        .job_finished = obs_job_finished,
};

static void write_config(const char *extra) {
        char path[PATH_MAX + 64];
        FILE *f;

        snprintf(path, sizeof(path), "%s/conf/avmigrate.conf", tmpdir);
        f = fopen(path, "we");
        if (!f)
                abort();
        fprintf(f, "[Manager]\nDiscouraged=test-old\nApproved=test-new\nPackageBackend=test\nMinDiskSpaceMB=0\n%s", extra);
        fclose(f);
}

static void reset_state(void) {
        char cmd[PATH_MAX + 64];

        snprintf(cmd, sizeof(cmd), "%s/state", tmpdir);
        /* the state directory of the previous case, file by file */
        for (const char *const *n = (const char *const[]){ "job.json", "history.jsonl", "manager.json", "gap.json", NULL }; *n;
             n++) {
                char p[PATH_MAX + 128];
                snprintf(p, sizeof(p), "%s/%s", cmd, *n);
                (void) unlink(p);
        }
        events[0] = 0;
}

/* A started manager whose first detection found test-old protecting. */
static Manager *new_manager(void) {
        Manager *m;
        Worker *w;

        if (manager_new(&m) < 0 || manager_startup(m) < 0)
                abort();
        manager_detect(m);
        (void) manager_add_observer(m, &recorder);
        w = fake_worker_find("detect");
        CHECK(w != NULL);
        CHECK(streq(manager_state(m), "detecting"));
        if (w)
                fake_worker_finish(w, 0, NULL, DETECTED);
        CHECK(streq(manager_state(m), "pending"));
        return m;
}

static Job *start(Manager *m) {
        ProductInfo *from = NULL, *to = NULL;
        const char *name = NULL;
        char why[256];
        Job *j = NULL;

        CHECK(manager_check_start(m, NULL, true, &from, &to, &name, why, sizeof(why)) == 0);
        if (!from || !to || engine_start(m, from, to, true, false, &j) < 0)
                abort();
        return j;
}

/* Finishes the running step worker with success; returns the step it ran. */
static StepId step_ok(Job *j) {
        Worker *w = fake_worker_find("step");
        StepId s = j->step;

        CHECK(w != NULL);
        if (!w)
                return s;
        if (s == STEP_PREFLIGHT)
                fake_worker_finish(w, 0, NULL, "{\"skipped\":false,\"to_installed\":false,\"scope\":[\"/home\"]}");
        else
                fake_worker_finish(w, 0, NULL, "{\"skipped\":false}");
        return s;
}

/* Runs the steps before s, each successfully. */
static void steps_ok_until(Job *j, StepId s) {
        while (j->state == JOB_RUNNING && j->step < s && fake_worker_find("step"))
                step_ok(j);
        CHECK(j->step == s);
}

/* A fresh state, a started manager and a job that has reached step s. */
static Job *job_at(Manager **ret_m, StepId s) {
        Job *j;

        reset_state();
        *ret_m = new_manager();
        j = start(*ret_m);
        steps_ok_until(j, s);
        return j;
}

static void test_happy_path(void) {
        Manager *m;
        Job *j;
        json_object *h = NULL;

        reset_state();
        m = new_manager();
        j = start(m);
        CHECK(streq(manager_state(m), "running"));
        CHECK(fake_worker_find("sample") != NULL); /* the continuity monitor samples */
        for (int i = 0; i < STEP_REPORT && j->state == JOB_RUNNING; i++)
                CHECK(step_ok(j) == (StepId) i);
        CHECK(j->state == JOB_FINISHED);
        CHECK(streq(j->result, "completed"));
        CHECK(streq(manager_state(m), "completed")); /* not "pending" before the next detection */
        CHECK(strstr(events, "start:preflight preflight=done start:fetch fetch=done start:install") == events);
        CHECK(strstr(events, "report=done finished:completed") != NULL);
        CHECK(j->installed_by_us);
        CHECK(j->scope.n == 1 && streq(j->scope.path[0], "/home"));
        CHECK(history_find(j->id, &h) == 0);
        json_object_put(h);
        manager_free(m);
}

/* A failure before the handover rolls back; the rollback's result decides. */
static void test_install_fails(void) {
        Manager *m;
        Job *j;
        Worker *w;

        j = job_at(&m, STEP_INSTALL);
        w = fake_worker_find("step");
        fake_worker_finish(w, -EIO, "package failed", NULL);
        CHECK(j->state == JOB_ROLLING_BACK);
        w = fake_worker_find("rollback");
        CHECK(w != NULL);
        if (w)
                fake_worker_finish(w, 0, NULL, "{\"restored\":true}");
        CHECK(streq(j->result, "rolled-back"));
        CHECK(strstr(events, "install=failed") != NULL);
        CHECK(strstr(j->last_error, "package failed") != NULL);
        manager_free(m);
}

/* The rollback could not restore the old product: failed, never "rolled-back". */
static void test_rollback_not_restored(void) {
        Manager *m;
        Job *j;

        j = job_at(&m, STEP_HANDOVER);
        fake_worker_finish(fake_worker_find("step"), -EHOSTDOWN, "new product does not verify", NULL);
        fake_worker_finish(fake_worker_find("rollback"), 0, NULL, "{\"restored\":false}");
        CHECK(streq(j->result, "failed"));
        CHECK(strstr(m->last_error, "could not be restored") != NULL);
        manager_free(m);
}

static void test_cancel(void) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        Manager *m;
        Job *j;
        Worker *w;

        j = job_at(&m, STEP_INSTALL);
        /* Inside install: the worker is asked to stop, its failure rolls back. */
        w = fake_worker_find("step");
        CHECK(engine_cancel(m, j, &e) >= 0 && !sd_bus_error_is_set(&e));
        CHECK(fake_worker_stopped(w));
        fake_worker_finish(w, -ECHILD, "killed", NULL);
        CHECK(j->state == JOB_ROLLING_BACK);
        fake_worker_finish(fake_worker_find("rollback"), 0, NULL, "{\"restored\":true}");
        CHECK(streq(j->result, "cancelled"));
        manager_free(m);

        /* After the handover: refused, the job goes on. */
        j = job_at(&m, STEP_REMOVE);
        CHECK(engine_cancel(m, j, &e) < 0);
        CHECK(sd_bus_error_has_name(&e, AVM_ERROR_NOT_ELIGIBLE));
        sd_bus_error_free(&e);
        CHECK(!fake_worker_stopped(fake_worker_find("step")));
        CHECK(j->state == JOB_RUNNING);
        manager_free(m);
}

/* A worker that dies is run again (steps are idempotent), three times at most. */
static void test_worker_dies(void) {
        unsigned before;
        Manager *m;
        Job *j;

        j = job_at(&m, STEP_INSTALL);
        before = fake_worker_started("step");
        fake_worker_finish(fake_worker_find("step"), -ECHILD, "worker 'step' was killed by signal 9", NULL);
        CHECK(j->step == STEP_INSTALL && j->state == JOB_RUNNING);
        CHECK(fake_worker_started("step") == before + 1);
        fake_worker_finish(fake_worker_find("step"), -ECHILD, "killed", NULL);
        fake_worker_finish(fake_worker_find("step"), -ECHILD, "killed", NULL);
        CHECK(j->state == JOB_ROLLING_BACK); /* the third death fails the step */
        fake_worker_finish(fake_worker_find("rollback"), 0, NULL, "{\"restored\":true}");
        CHECK(streq(j->result, "rolled-back"));
        manager_free(m);
}

/* Restart decisions: after the handover began, protection is restored first
 * (a restore worker runs to completion before anything else), then the
 * interrupted step is checked and run again; a rollback in progress goes on. */
static void test_resume(void) {
        Manager *m;
        Job *j;

        j = job_at(&m, STEP_HANDOVER);
        CHECK(j->phase == PHASE_RUNNING);
        manager_free(m); /* a crash inside the handover: job.json says running */

        fake_worker_auto("restore", 0, "{}");
        if (manager_new(&m) < 0 || manager_startup(m) < 0)
                abort();
        manager_detect(m);
        (void) manager_add_observer(m, &recorder);
        CHECK(fake_worker_started("restore") == 1);
        j = m->job;
        CHECK(j && j->step == STEP_HANDOVER);
        m->job = NULL;
        fake_worker_finish(fake_worker_find("detect"), 0, NULL, DETECTED);
        engine_resume_after_restart(m, j);
        CHECK(fake_worker_find("step") != NULL && j->step == STEP_HANDOVER && j->attempts == 2);
        CHECK(strstr(json_object_to_json_string(j->timeline), "resumed-after-restart") != NULL);
        /* The handover fails after the restart: rollback as usual. */
        fake_worker_finish(fake_worker_find("step"), -EIO, "no", NULL);
        CHECK(j->state == JOB_ROLLING_BACK);
        manager_free(m); /* and crashes again while rolling back */

        if (manager_new(&m) < 0 || manager_startup(m) < 0)
                abort();
        manager_detect(m);
        j = m->job;
        m->job = NULL;
        CHECK(j && j->state == JOB_ROLLING_BACK);
        fake_worker_finish(fake_worker_find("detect"), 0, NULL, DETECTED);
        engine_resume_after_restart(m, j);
        CHECK(fake_worker_find("rollback") != NULL);
        fake_worker_finish(fake_worker_find("rollback"), 0, NULL, "{\"restored\":true}");
        CHECK(streq(j->result, "rolled-back"));
        manager_free(m);
}

/* Start eligibility is the manager's policy, not the bus's. */
static void test_check_start(void) {
        ProductInfo *from = NULL, *to = NULL;
        const char *name = NULL;
        char why[256];
        Manager *m;

        reset_state();
        m = new_manager();
        CHECK(manager_check_start(m, "nonexistent", true, &from, &to, &name, why, sizeof(why)) == -ENXIO);
        CHECK(name && streq(name, AVM_ERROR_NO_REPLACEMENT));
        m->deferred_until = now_usec(CLOCK_REALTIME) + 3600 * USEC_PER_SEC;
        CHECK(manager_check_start(m, NULL, false, &from, &to, &name, why, sizeof(why)) == -EAGAIN);
        CHECK(manager_check_start(m, NULL, true, &from, &to, &name, why, sizeof(why)) == 0);
        CHECK(from && streq(from->id, "test-old") && to && streq(to->id, "test-new"));
        manager_free(m);
}

int main(void) {
        char dir[PATH_MAX + 16];

        snprintf(tmpdir, sizeof(tmpdir), "/tmp/avm-test-engine.XXXXXX");
        if (!mkdtemp(tmpdir))
                return 2;
        snprintf(dir, sizeof(dir), "%s/state", tmpdir);
        mkdir(dir, 0700);
        setenv("STATE_DIRECTORY", dir, 1);
        snprintf(dir, sizeof(dir), "%s/conf", tmpdir);
        mkdir(dir, 0700);
        setenv("CONFIGURATION_DIRECTORY", dir, 1);
        snprintf(dir, sizeof(dir), "%s/data", tmpdir);
        mkdir(dir, 0700);
        setenv("AVMIGRATE_DATA_DIR", dir, 1);
        write_config("");

        test_happy_path();
        test_install_fails();
        test_rollback_not_restored();
        test_cancel();
        test_worker_dies();
        test_resume();
        test_check_start();
        return avm_test_finish();
}
