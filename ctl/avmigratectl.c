/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * avmigratectl: the admin CLI of avmigrated.
 *
 * It talks only D-Bus: bus name org.avmigrate.Migrate1 on the system bus
 * (sd_bus_open_system(), which honours $DBUS_SYSTEM_BUS_ADDRESS), object
 * /org/avmigrate/Migrate1, interface org.avmigrate.Migrate1.Manager.
 *
 * Exit codes: 0 ok, 1 failure, 2 nothing to do.
 *
 * This file: the command line and the dispatch to the verbs (verb-*.c).
 */

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "config.h"
#include "ctl.h"
#include "i18n.h"
#include "macro.h"
#include "manager.h"
#include "output.h"
#include "verbs.h"

bool arg_json = false;
bool arg_wait = false;
bool arg_force = false;
bool arg_dry_run = false;
bool arg_ask_password = true;
const char *arg_replacement = NULL;

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
