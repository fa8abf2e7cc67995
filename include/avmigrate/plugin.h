/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * avmigrate plugin ABI.
 *
 * A plugin is a shared object in $libdir/avmigrate/plugins/ that exports one
 * symbol:
 *
 *     extern const AvmPlugin avm_plugin;   // .api_version = AVM_PLUGIN_API_VERSION
 *
 * One plugin describes one product. Every operation runs inside a forked
 * worker process of avmigrated, so it may block; the daemon enforces a
 * timeout. Operations return 0 on success or a negative errno; a plugin
 * explains a failure in words with avm_host_error() before returning it.
 *
 * Plugins never call system() or a shell: they use the host services below
 * (avm_host_*), which are exported by the avmigrated executable.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AVM_PLUGIN_API_VERSION 2u

typedef struct AvmHost AvmHost;

typedef enum AvmCapability {
        AVM_CAP_ON_ACCESS = 1u << 0,         /* blocks access to infected files; daemon probes it */
        AVM_CAP_PASSIVE_MODE = 1u << 1,      /* can be installed with real-time protection off */
        AVM_CAP_BLOCKING_FANOTIFY = 1u << 2, /* uses fanotify permission events: never overlap two */
        AVM_CAP_INSTALL = 1u << 3,           /* can install itself */
        AVM_CAP_UNINSTALL = 1u << 4,         /* can remove itself */
} AvmCapability;

typedef struct AvmDetection {
        bool installed;
        char version[64];
} AvmDetection;

typedef struct AvmStatus {
        bool running;                /* the product's service is up */
        bool realtime;               /* real-time (on-access) protection is enabled */
        bool passive;                /* product is in passive mode */
        bool healthy;                /* the product says it is healthy */
        int64_t definitions_age_sec; /* age of the signature definitions, -1 if unknown */
        char detail[256];            /* one human line */
} AvmStatus;

/* Where a product's on-access protection applies, read from the product's
 * own configuration (not from what avmigrate asked for). */
#define AVM_SCOPE_MAX_PATHS 64
#define AVM_SCOPE_PATH_MAX 256
typedef struct AvmScope {
        bool known;         /* false: the product's configuration does not say ("unknown") */
        unsigned n_include; /* "/" = the whole file system */
        unsigned n_exclude;
        char include[AVM_SCOPE_MAX_PATHS][AVM_SCOPE_PATH_MAX]; /* absolute paths, recursive */
        char exclude[AVM_SCOPE_MAX_PATHS][AVM_SCOPE_PATH_MAX];
        char source[128]; /* where it was read, e.g. "clamonacc configuration /var/lib/..." */
} AvmScope;

typedef struct AvmScanResult {
        bool detected;
        char threat[128];
} AvmScanResult;

typedef struct AvmPlugin {
        uint32_t api_version; /* AVM_PLUGIN_API_VERSION */
        uint32_t struct_size; /* sizeof(AvmPlugin) */
        const char *id;       /* "kaspersky-kesl", [a-z0-9-], at most 63 chars */
        const char *vendor;
        const char *product;
        uint32_t capabilities; /* AvmCapability bits */

        int (*detect)(AvmHost *host, AvmDetection *ret);
        int (*status)(AvmHost *host, AvmStatus *ret);
        int (*install)(AvmHost *host);
        int (*set_realtime)(AvmHost *host, bool enable);
        int (*uninstall)(AvmHost *host);
        /* Scans one file on demand with the product's own scanner. */
        int (*scan_file)(AvmHost *host, const char *path, AvmScanResult *ret);

        /* ---- API version 2: protection scope and a short handover ---- */
        /* The scope its on-access protection covers, from the product's own
         * configuration. NULL or ret->known == false: unknown. */
        int (*scope)(AvmHost *host, AvmScope *ret);
        /* 0 if the product can protect PATH on access when asked to (through
         * avm_host_protected_paths()), else -EOPNOTSUPP with avm_host_error()
         * saying why. NULL: it can protect any path. Called before anything
         * changes, also when the product is not installed yet. */
        int (*can_protect)(AvmHost *host, const char *path);
        /* Everything set_realtime(true) needs that can be done while the old
         * product still protects (services up, definitions loaded,
         * configuration written, units reloaded), so the handover gap holds
         * only the switch itself. Must not enable real-time protection. NULL: nothing. */
        int (*prepare_realtime)(AvmHost *host);
        /* NULL-terminated directories holding the product's own files
         * (binaries, definitions, quarantine), or NULL. During a migration
         * the other product is told to exclude them (mutual exclusions). */
        const char *const *own_paths;
        /* Scans the open file fd (positioned at 0) on demand, like scan_file.
         * Preferred by the daemon when present: the other product's
         * on-access protection may deny opening a file that holds EICAR
         * anywhere (KESL's default scope is "/"), so the daemon opens the
         * probe file while it is still empty and passes that descriptor. */
        int (*scan_fd)(AvmHost *host, int fd, AvmScanResult *ret);
} AvmPlugin;

/* ---- Host services, provided by avmigrated ---- */

/* Id of the plugin this host belongs to. */
const char *avm_host_plugin_id(AvmHost *host);

/* Value of KEY in the configuration section [Product <plugin id>], or NULL. */
const char *avm_host_config(AvmHost *host, const char *key);

/* Private, persistent directory for this plugin (created on demand). */
const char *avm_host_state_dir(AvmHost *host);

/* Directory the daemon writes its on-access probes into. A product with
 * AVM_CAP_ON_ACCESS must watch it while its real-time protection is on. */
const char *avm_host_probe_dir(AvmHost *host);

/* The protection scope the daemon must keep protected (ProtectedPaths=,
 * resolved for this machine): NULL-terminated absolute paths. A replacement
 * configures its on-access protection to cover all of them when
 * set_realtime(true) is called. Valid until the operation returns. */
const char *const *avm_host_protected_paths(AvmHost *host);
/* Paths its on-access protection must leave out: ProtectedPathsExclude=, and
 * while another product is installed beside it, that product's own files. */
const char *const *avm_host_excluded_paths(AvmHost *host);

/* Artifact downloaded and verified for this product by the fetch step, or NULL. */
const char *avm_host_artifact(AvmHost *host);

void avm_host_log(AvmHost *host, int priority, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* Sets the human-readable reason of the failure the plugin is about to return. */
void avm_host_error(AvmHost *host, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Reports progress (0..100 within the current operation) and a status line. */
void avm_host_progress(AvmHost *host, unsigned percent, const char *status);

typedef struct AvmRunResult {
        int exit_status; /* exit code, or 128 + signal number */
        char *output;    /* stdout, NUL-terminated, at most max_output bytes; free with avm_run_result_done() */
        size_t output_size;
        bool truncated; /* output was longer than max_output */
} AvmRunResult;

/* Runs argv[0] (absolute path) with argv, without a shell, stdin from
 * /dev/null, stderr to the log. env: extra "KEY=value" entries or NULL; LANG
 * and LC_ALL are forced to C unless given. Returns 0 when the program ran to an
 * exit (whatever its status), -ETIME on timeout (the process group is
 * killed), or another -errno. */
int avm_host_run(AvmHost *host, const char *const argv[], const char *const env[], uint64_t timeout_usec, size_t max_output,
                 AvmRunResult *ret);
void avm_run_result_done(AvmRunResult *r);

/* Package backend (dpkg/apt or rpm/dnf, chosen at run time). */
/* Returns 1 and fills version if installed, 0 if not, -errno on failure. */
int avm_host_package_query(AvmHost *host, const char *name, char *version, size_t version_size);
/* Installs names from the configured repositories, or the local file if file != NULL. */
int avm_host_package_install(AvmHost *host, const char *const names[], const char *file);
int avm_host_package_remove(AvmHost *host, const char *const names[], bool purge);

/* systemd units over D-Bus (org.freedesktop.systemd1). verb: start, stop,
 * restart, enable, disable. */
int avm_host_unit_control(AvmHost *host, const char *unit, const char *verb);
/* Returns 1 if the unit is active, 0 if not (or not loaded), -errno on failure. */
int avm_host_unit_is_active(AvmHost *host, const char *unit);

/* Builds the 68-byte EICAR test string at run time into buf (size >= 69). */
void avm_eicar(char buf[static 69]);

#ifdef __cplusplus
}
#endif
