/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* avmigrate-worker: runs one step of a job, one detection or one protection
 * sample, with the vendor plugins loaded — the only avmigrate process that
 * runs vendor code. The daemon forks and execs it for every operation
 * (worker.c) and reads its messages on fd 3; run from a shell it prints
 * them (worker-proto.h), which is how a plugin is debugged without D-Bus:
 *
 *   avmigrate-worker detect
 *   avmigrate-worker sample clamav kaspersky-kesl
 *   avmigrate-worker --job /var/lib/avmigrate/job.json step
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>

#include "config.h"
#include "configuration.h"
#include "job.h"
#include "log.h"
#include "ops.h"
#include "paths.h"
#include "plugin-loader.h"
#include "process-id.h"
#include "products.h"
#include "state.h"
#include "steps.h"
#include "util.h"
#include "worker-proto.h"

#define SAMPLE_MAX_IDS 32

typedef struct WorkerArgs {
        int fd;
        const char *job_path;
        const char *command;
        char **ids;
        int n_ids;
        bool all_blockers;
} WorkerArgs;

static void help(void) {
        printf("avmigrate-worker [OPTIONS] COMMAND [ARGS…]\n\n"
               "Runs one plugin operation of avmigrated and reports it as KEY=VALUE lines\n"
               "(PROGRESS, STATUS, EVENT, DATA, ERRMSG, and ERRNO last).\n\n"
               "Commands:\n"
               "  detect              Detect every product a plugin is installed for\n"
               "  sample ID…          Sample the real-time protection of these products\n"
               "  step                Run the current step of the job\n"
               "  rollback            Roll the job back to a protected state\n"
               "  restore             Make some product of the job protect (start-up after a crash)\n\n"
               "Options:\n"
               "  --job=PATH          The job file (default: $STATE_DIRECTORY/job.json)\n"
               "  --fd=N              Send datagrams on socket N instead of printing lines\n"
               "  --all-blockers      step, on a dry run's preflight: go on after a refusal and\n"
               "                      send every blocker (the readiness census)\n"
               "  -h --help           This help\n"
               "     --version        The version\n\n"
               "The configuration, plugin and state directories are those of avmigrated\n"
               "(CONFIGURATION_DIRECTORY, AVMIGRATE_PLUGIN_DIR, STATE_DIRECTORY). See avmigrated(8).\n");
}

static int parse_args(int argc, char *argv[], WorkerArgs *a) {
        enum { ARG_FD = 0x100, ARG_JOB, ARG_VERSION, ARG_ALL_BLOCKERS };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "fd", required_argument, NULL, ARG_FD },
                { "job", required_argument, NULL, ARG_JOB },
                { "all-blockers", no_argument, NULL, ARG_ALL_BLOCKERS },
                {},
        };
        uint64_t u;
        int c;

        *a = (WorkerArgs){ .fd = WORKER_FD_STDOUT };
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        puts("avmigrate-worker " PACKAGE_VERSION);
                        return 0;
                case ARG_FD:
                        if (parse_uint64(optarg, &u) < 0 || u < 3 || u > INT_MAX)
                                return log_error_errno(EINVAL, "Invalid --fd=%s.", optarg);
                        a->fd = (int) u;
                        break;
                case ARG_JOB:
                        a->job_path = optarg;
                        break;
                case ARG_ALL_BLOCKERS:
                        a->all_blockers = true;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind >= argc)
                return log_error_errno(EINVAL, "No command given; see avmigrate-worker --help.");
        a->command = argv[optind];
        a->ids = argv + optind + 1;
        a->n_ids = argc - optind - 1;
        return 1;
}

static int fail(int fd, int error, const char *format, ...) __attribute__((format(printf, 3, 4)));

static int fail(int fd, int error, const char *format, ...) {
        char buf[512];
        va_list ap;

        va_start(ap, format);
        vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);
        log_error("%s", buf);
        worker_send(fd, "ERRMSG", buf);
        return error;
}

/* One entry per loaded plugin: what it is and what it found. */
static int cmd_detect(int fd, ProductSet *set) {
        OpContext c = { .fd = fd, .step = "detect" };
        json_object *o = json_object_new_object(), *arr = json_object_new_array();

        for (size_t i = 0; i < set->n; i++) {
                Product *p = &set->items[i];
                AvmDetection d = {};
                AvmStatus st = {};
                bool detected = op_detect(&c, p, &d) >= 0;

                if (detected && d.installed)
                        (void) op_status(&c, p, &st);
                json_object_array_add(arr,
                                      products_entry_json(p->plugin->id, p->plugin->product, p->plugin->capabilities, detected,
                                                          detected && d.installed, detected ? d.version : "",
                                                          detected && d.installed && st.realtime, st.healthy));
        }
        json_object_object_add(o, "products", arr);
        worker_send_json(fd, "DATA", o);
        json_object_put(o);
        return 0;
}

/* The continuity monitor's sample: is any of these products protecting? */
static int cmd_sample(int fd, ProductSet *set) {
        OpContext c = { .fd = fd, .step = "monitor" };
        json_object *o = json_object_new_object(), *products = json_object_new_object();
        bool any = false;

        json_object_object_add(o, "t", json_object_new_int64((int64_t) now_usec(CLOCK_REALTIME)));
        json_object_object_add(o, "mono_start", json_object_new_int64((int64_t) now_usec(CLOCK_MONOTONIC)));
        for (size_t i = 0; i < set->n; i++) {
                Product *p = &set->items[i];
                AvmStatus st;

                if (op_status(&c, p, &st) < 0)
                        st.realtime = false;
                json_object_object_add(products, p->plugin->id, json_object_new_boolean(st.realtime));
                any = any || st.realtime;
        }
        json_object_object_add(o, "mono_end", json_object_new_int64((int64_t) now_usec(CLOCK_MONOTONIC)));
        json_object_object_add(o, "protected", json_object_new_boolean(any));
        json_object_object_add(o, "products", products);
        worker_send_json(fd, "DATA", o);
        json_object_put(o);
        return 0;
}

static int run_job(const WorkerArgs *a, const AvmConfig *cfg) {
        _cleanup_(plugins_unloadp) ProductSet set = {};
        char why[256] = "";
        const char *ids[3];
        Job *j = NULL;
        int r;

        r = state_read_job(a->job_path, &j, why, sizeof(why));
        if (r == -ENOENT)
                return fail(a->fd, r, "%s", "there is no job (job.json)");
        if (r < 0)
                return fail(a->fd, r, "cannot read the job: %s", why[0] ? why : strerror(-r));
        ids[0] = j->from;
        ids[1] = j->to;
        ids[2] = NULL;
        r = plugins_load_ids(plugin_dir(), cfg, ids, &set);
        if (r >= 0) {
                uint64_t t0 = now_usec(CLOCK_MONOTONIC);
                char buf[32];

                if (streq(a->command, "step"))
                        r = steps_run(a->fd, j, cfg, &set, a->all_blockers);
                else if (streq(a->command, "rollback"))
                        r = steps_rollback(a->fd, j, cfg, &set);
                else
                        r = steps_restore(a->fd, j, cfg, &set);
                /* The bare operations, for the per-step overhead (bench/step-overhead). */
                snprintf(buf, sizeof(buf), "%" PRIu64, now_usec(CLOCK_MONOTONIC) - t0);
                worker_send(a->fd, "TIME", buf);
        }
        job_free(j);
        return r;
}

static int run_products(const WorkerArgs *a, const AvmConfig *cfg) {
        _cleanup_(plugins_unloadp) ProductSet set = {};
        const char *ids[SAMPLE_MAX_IDS + 1];
        int r;

        if (streq(a->command, "detect"))
                r = plugins_load(plugin_dir(), cfg, &set);
        else {
                if (a->n_ids > SAMPLE_MAX_IDS)
                        return fail(a->fd, -E2BIG, "%s", "too many products to sample");
                for (int i = 0; i < a->n_ids; i++)
                        ids[i] = a->ids[i];
                ids[a->n_ids] = NULL;
                r = plugins_load_ids(plugin_dir(), cfg, ids, &set);
        }
        if (r == -EINVAL && plugins_config_error()[0])
                return fail(a->fd, r, "invalid configuration: %s", plugins_config_error());
        if (r < 0)
                return fail(a->fd, r, "cannot load the plugins: %s", strerror(-r));
        return streq(a->command, "detect") ? cmd_detect(a->fd, &set) : cmd_sample(a->fd, &set);
}

static bool is_job_command(const char *command) {
        return streq(command, "step") || streq(command, "rollback") || streq(command, "restore");
}

/* The worker's class names its record files (worker-proto.h). */
static const char *worker_class(const char *command) {
        if (streq(command, "detect"))
                return "detect";
        if (streq(command, "sample"))
                return "monitor";
        return "step";
}

static void config_freep(AvmConfig **c) {
        config_free(*c);
}

static int run(const WorkerArgs *a) {
        _cleanup_(config_freep) AvmConfig *cfg = NULL;
        char error[1024] = "", path[PATH_MAX];
        int r;

        if (!is_job_command(a->command) && !streq(a->command, "detect") && !streq(a->command, "sample"))
                return fail(a->fd, -EINVAL, "unknown command '%s'; see avmigrate-worker --help", a->command);
        r = config_load(&cfg, error, sizeof(error));
        if (r < 0)
                return fail(a->fd, r, "invalid configuration: %s", error);
        worker_current = worker_class(a->command);
        /* Our own record, for a daemon that restarts while we run (no fsync:
         * the record means nothing after a reboot). Only with a daemon. */
        if (a->fd != WORKER_FD_STDOUT) {
                worker_pid_path(worker_current, path, sizeof(path));
                (void) process_id_record(path, 0);
        } else
                worker_current = NULL; /* from a shell: leave the daemon's records alone */
        if (is_job_command(a->command))
                return run_job(a, cfg);
        return run_products(a, cfg);
}

int main(int argc, char *argv[]) {
        WorkerArgs a;
        char buf[32];
        int r;

        log_setup();
        r = parse_args(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        /* The protocol socket is ours alone: vendor tools must not inherit it. */
        if (a.fd >= 0 && fcntl(a.fd, F_SETFD, FD_CLOEXEC) < 0) {
                log_error_errno(errno, "Invalid --fd=%d: %m", a.fd);
                return 2;
        }
        r = run(&a);
        snprintf(buf, sizeof(buf), "%d", r < 0 ? -r : 0);
        worker_send(a.fd, "ERRNO", buf);
        /* The result travels in ERRNO=; the exit status is for a shell. */
        return r < 0 ? 1 : 0;
}
