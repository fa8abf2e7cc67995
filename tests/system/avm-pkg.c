/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * avm-pkg: drives the daemon's package backend (daemon/package.c, through
 * the same avm_host_package_* calls the plugins make) from the command line,
 * so the system tier can exercise a backend against the real package
 * manager — rpm/dnf in particular, which no plugin migration on Debian
 * reaches.
 *
 *   avm-pkg [--config FILE] query NAME
 *   avm-pkg [--config FILE] install [--file PATH] [NAME...]
 *   avm-pkg [--config FILE] remove [--purge] NAME...
 *
 * FILE is read like /etc/avmigrate/avmigrate.conf ([Manager]
 * PackageBackend= chooses the backend). query prints "installed VERSION"
 * or "not-installed". Exit 0 on success, 1 when the backend failed (its
 * error on stderr), 2 on a usage error.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "configuration.h"
#include "host.h"
#include "log.h"

#define MAX_NAMES 32

static const AvmPlugin pkg_plugin = {
        .api_version = AVM_PLUGIN_API_VERSION,
        .struct_size = sizeof(AvmPlugin),
        .id = "avm-pkg",
};

static int usage(void) {
        fprintf(stderr,
                "usage: avm-pkg [--config FILE] query NAME | install [--file PATH] [NAME...] | "
                "remove [--purge] NAME...\n");
        return 2;
}

static int fail(AvmHost *host, const char *what, int r) {
        fprintf(stderr, "avm-pkg: %s failed: %s (%s)\n", what, host->error[0] ? host->error : "no detail", strerror(-r));
        return 1;
}

static int do_query(AvmHost *host, int argc, char **argv) {
        char version[128];
        int r;

        if (argc != 1)
                return usage();
        r = avm_host_package_query(host, argv[0], version, sizeof(version));
        if (r < 0)
                return fail(host, "query", r);
        if (r == 0)
                printf("not-installed\n");
        else
                printf("installed %s\n", version);
        return 0;
}

/* Collects NAME... into a NULL-terminated list; the backend validates them. */
static int collect_names(int argc, char **argv, const char *names[static MAX_NAMES + 1]) {
        if (argc > MAX_NAMES)
                return -E2BIG;
        for (int i = 0; i < argc; i++)
                names[i] = argv[i];
        names[argc] = NULL;
        return 0;
}

static int do_install(AvmHost *host, int argc, char **argv) {
        const char *names[MAX_NAMES + 1];
        const char *file = NULL;
        int r;

        if (argc >= 2 && strcmp(argv[0], "--file") == 0) {
                file = argv[1];
                argc -= 2;
                argv += 2;
        }
        if ((file && argc > 0) || (!file && argc == 0) || collect_names(argc, argv, names) < 0)
                return usage();
        r = avm_host_package_install(host, file ? NULL : names, file);
        return r < 0 ? fail(host, "install", r) : 0;
}

static int do_remove(AvmHost *host, int argc, char **argv) {
        const char *names[MAX_NAMES + 1];
        bool purge = false;
        int r;

        if (argc >= 1 && strcmp(argv[0], "--purge") == 0) {
                purge = true;
                argc--;
                argv++;
        }
        if (argc == 0 || collect_names(argc, argv, names) < 0)
                return usage();
        r = avm_host_package_remove(host, names, purge);
        return r < 0 ? fail(host, "remove", r) : 0;
}

int main(int argc, char **argv) {
        char error[512] = "";
        AvmConfig *config;
        AvmHost host = { .plugin = &pkg_plugin, .progress_fd = -1 };
        int ret;

        log_setup();
        argc--;
        argv++;
        config = config_new();
        if (!config) {
                fprintf(stderr, "avm-pkg: out of memory\n");
                return 1;
        }
        if (argc >= 2 && strcmp(argv[0], "--config") == 0) {
                /* config_parse_file() treats a missing file as empty, as for drop-ins. */
                if (access(argv[1], R_OK) < 0) {
                        fprintf(stderr, "avm-pkg: %s: %m\n", argv[1]);
                        config_free(config);
                        return 2;
                }
                if (config_parse_file(config, argv[1], error, sizeof(error)) < 0) {
                        fprintf(stderr, "avm-pkg: %s\n", error);
                        config_free(config);
                        return 2;
                }
                argc -= 2;
                argv += 2;
        }
        host.config = config;
        if (argc < 1)
                ret = usage();
        else if (strcmp(argv[0], "query") == 0)
                ret = do_query(&host, argc - 1, argv + 1);
        else if (strcmp(argv[0], "install") == 0)
                ret = do_install(&host, argc - 1, argv + 1);
        else if (strcmp(argv[0], "remove") == 0)
                ret = do_remove(&host, argc - 1, argv + 1);
        else
                ret = usage();
        free(host.state_dir);
        free(host.probe_dir);
        config_free(config);
        return ret;
}
