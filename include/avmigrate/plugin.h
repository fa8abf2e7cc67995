/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * avmigrate plugin ABI.
 *
 * A plugin is a shared object in $libdir/avmigrate/plugins/ that exports one
 * symbol:
 *
 *     extern const AvmPlugin avm_plugin;   // .api_version = AVM_PLUGIN_API_VERSION,
 *                                          // .struct_size = sizeof(AvmPlugin)
 *
 * One plugin describes one product.
 *
 * Where and how operations run. Every operation (the function pointers of
 * AvmPlugin) runs in a worker process (the step helper avmigrated starts for
 * each step), never in the daemon's event loop: one operation at a time per
 * process, on its main thread, with
 * the worker's privileges (root on a desktop). An operation may block, up to
 * the step timeout ([Manager] StepTimeoutSec=); when that passes, the whole
 * process group is killed (SIGTERM, then SIGKILL), so an operation must leave
 * the system in a state its next call (check, apply or undo of a step) can
 * recognise. Plugins need not be thread-safe and must not create threads that
 * outlive an operation; host services may only be called from the thread
 * that runs the operation, with the AvmHost it was given.
 *
 * Results. Operations and host services return 0 (or the documented
 * non-negative value) on success, a negative errno on failure. Before it
 * returns a failure, a plugin says why in words with avm_host_error(): that
 * text reaches the admin (report, journal, D-Bus error).
 *
 * Strings. A plugin's own strings (id, vendor, product, own_paths,
 * config_keys) must live as long as the shared object is loaded (static
 * storage). Strings a host service returns are owned by the host and stay
 * valid until the operation that obtained them returns, unless said
 * otherwise; the plugin never frees them.
 *
 * Compatibility. api_version is the major version: the daemon refuses any
 * other. Within a major version fields are only ever appended to AvmPlugin;
 * struct_size tells the daemon how far the plugin's structure goes, and fields
 * past it are treated as NULL/0, so a plugin built against an older header of
 * the same major version still loads (and one built against a newer header is
 * read up to the fields this daemon knows). Appending a field keeps the major
 * version; changing or removing one bumps AVM_PLUGIN_API_VERSION.
 *
 * Configuration. A plugin declares the keys of its [Product <id>] section in
 * config_keys; with the common keys (see AvmConfigKey below) they are all
 * the keys that section may hold. Values are validated when the plugins
 * are loaded: an unknown key or a bad value is an error naming the file and
 * line, and nothing runs with that configuration.
 *
 * Plugins never call system() or a shell: they use the host services below
 * (avm_host_*), which are exported by the executable that loads plugins.
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

/* Bit 1u << 1 was AVM_CAP_PASSIVE_MODE: never read, so gone; ignored if set.
 * Passive or not, install() must leave real-time protection off, and
 * status() says which. */
typedef enum AvmCapability {
        AVM_CAP_ON_ACCESS = 1u << 0,         /* blocks access to infected files; daemon probes it */
        AVM_CAP_BLOCKING_FANOTIFY = 1u << 2, /* uses fanotify permission events: never overlap two */
        AVM_CAP_INSTALL = 1u << 3,           /* can install itself: install() is required */
        AVM_CAP_UNINSTALL = 1u << 4,         /* can remove itself: uninstall() is required */
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

/* ---- Declared configuration keys ([Product <id>]) ---- */

typedef enum AvmConfigType {
        AVM_CONFIG_STRING,  /* any text on one line */
        AVM_CONFIG_BOOL,    /* yes/no, true/false, on/off, 1/0 */
        AVM_CONFIG_UINT,    /* decimal integer in [min, max] */
        AVM_CONFIG_SECONDS, /* seconds, fractions allowed ("0.5"), in [min, max] whole seconds */
        AVM_CONFIG_PATH,    /* absolute path */
        AVM_CONFIG_ENUM,    /* one of the words in choices */
} AvmConfigType;

typedef struct AvmConfigKey {
        const char *name; /* "ClamdSocket": letters and digits */
        AvmConfigType type;
        const char *default_value; /* what applies when unset, in the key's syntax; NULL: none or computed */
        uint64_t min, max;         /* UINT and SECONDS: bounds (max 0: none) */
        const char *choices;       /* ENUM: the allowed words, separated by '|' ("systemd|exec") */
} AvmConfigKey;

/* Keys every [Product <id>] section may hold, whatever the plugin declares;
 * the daemon validates them itself, while parsing, and a plugin must not
 * declare them again: MaxDefinitionsAgeDays= (whole days, 0..3650, default 7,
 * 0: no limit; read it with avm_host_max_definitions_age_sec()), Artifact=
 * (absolute path of a local package to install instead of the repositories)
 * and ArtifactSHA256= (its SHA-256, 64 hex digits, required with Artifact=). */

typedef struct AvmPlugin {
        uint32_t api_version; /* AVM_PLUGIN_API_VERSION */
        uint32_t struct_size; /* sizeof(AvmPlugin) as the plugin was built: fields past it count as NULL */
        const char *id;       /* "kaspersky-kesl", [a-z0-9-], at most 63 chars */
        const char *vendor;
        const char *product;
        uint32_t capabilities; /* AvmCapability bits */

        /* Required. Is the product installed, which version? Must not change
         * anything. 0 with ret->installed false when it is not installed;
         * -errno only when it cannot tell. */
        int (*detect)(AvmHost *host, AvmDetection *ret);
        /* Required. The product's state now (service, real-time protection,
         * health, definitions age); must not change anything. Only called when
         * detect() found it installed. */
        int (*status)(AvmHost *host, AvmStatus *ret);
        /* Installs the product (from avm_host_artifact() if set, else from the
         * package repositories) with real-time protection OFF. Idempotent:
         * installing an installed product succeeds. Required with AVM_CAP_INSTALL. */
        int (*install)(AvmHost *host);
        /* Turns real-time protection on (covering avm_host_protected_paths(),
         * leaving out avm_host_excluded_paths()) or off, and returns when the
         * product reports the new state (or -ETIME). Idempotent. */
        int (*set_realtime)(AvmHost *host, bool enable);
        /* Removes the product (purge: its configuration too). Idempotent:
         * removing an absent product succeeds. Required with AVM_CAP_UNINSTALL. */
        int (*uninstall)(AvmHost *host);
        /* Scans one file on demand with the product's own scanner: 0 and
         * ret->detected when it ran, -errno when it could not scan. Never
         * deletes, moves or quarantines the file. */
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
         * probe file while it is still empty and passes that descriptor. The
         * descriptor stays the caller's: do not close it. */
        int (*scan_fd)(AvmHost *host, int fd, AvmScanResult *ret);

        /* ---- Appended in 2.1 (read only when struct_size covers it) ---- */
        /* The keys of [Product <id>] besides the common ones, ended by
         * an entry with name NULL. NULL: only the common keys are allowed. */
        const AvmConfigKey *config_keys;
} AvmPlugin;

/* struct_size of a version-2 plugin built before config_keys was appended:
 * the smallest the daemon accepts. */
#define AVM_PLUGIN_STRUCT_SIZE_MIN_V2 (offsetof(AvmPlugin, config_keys))

/* ---- Host services, provided by the executable that loads the plugin ----
 *
 * Every service takes the AvmHost the operation was given, and may only be
 * called during that operation, from its thread. None of them is
 * async-signal-safe. */

/* Id of the plugin this host belongs to. Static for the life of the plugin. */
const char *avm_host_plugin_id(AvmHost *host);

/* Raw value of KEY in the configuration section [Product <plugin id>] (the
 * last assignment wins), or NULL when it is not set. Already validated
 * against the key's declaration; "" means "set to empty" (use the default).
 * Owned by the host, valid for the life of the process. */
const char *avm_host_config(AvmHost *host, const char *key);
/* KEY (declared AVM_CONFIG_SECONDS) in microseconds: its value, else its
 * declared default; 0 when KEY is not declared as seconds (logged). */
uint64_t avm_host_config_usec(AvmHost *host, const char *key);
/* KEY (declared AVM_CONFIG_BOOL): its value, else its declared default;
 * false when KEY is not declared as a boolean (logged). */
bool avm_host_config_bool(AvmHost *host, const char *key);
/* The oldest signature definitions this product may run with, in seconds
 * (MaxDefinitionsAgeDays=, default 7 days); 0 means no limit. The daemon's
 * verify step and the plugin's own status() use this one value. */
uint64_t avm_host_max_definitions_age_sec(AvmHost *host);

/* Private, persistent directory for this plugin (created on demand, mode
 * 0700), or NULL if it cannot be created. Valid for the life of the process. */
const char *avm_host_state_dir(AvmHost *host);

/* Directory the daemon writes its on-access probes into. A product with
 * AVM_CAP_ON_ACCESS must watch it while its real-time protection is on.
 * NULL if it cannot be created. Valid for the life of the process. */
const char *avm_host_probe_dir(AvmHost *host);

/* The protection scope the daemon must keep protected (ProtectedPaths=,
 * resolved for this machine): NULL-terminated absolute paths, never NULL
 * itself (empty outside a job). A replacement configures its on-access
 * protection to cover all of them when set_realtime(true) is called. Valid
 * until the operation returns. */
const char *const *avm_host_protected_paths(AvmHost *host);
/* Paths its on-access protection must leave out: ProtectedPathsExclude=, and
 * while another product is installed beside it, that product's own files.
 * Same lifetime as avm_host_protected_paths(). */
const char *const *avm_host_excluded_paths(AvmHost *host);

/* Artifact downloaded and verified for this product by the fetch step, or
 * NULL. Valid until the operation returns. */
const char *avm_host_artifact(AvmHost *host);

/* Logs a line to the journal, prefixed with the plugin id. priority: LOG_ERR..LOG_DEBUG. */
void avm_host_log(AvmHost *host, int priority, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* Sets the human-readable reason of the failure the plugin is about to
 * return (at most 511 bytes; the last call wins). */
void avm_host_error(AvmHost *host, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Reports progress (0..100 within the current operation) and a status line
 * (may be NULL). Never blocks; dropped when nobody listens. */
void avm_host_progress(AvmHost *host, unsigned percent, const char *status);

typedef struct AvmRunResult {
        int exit_status; /* exit code, or 128 + signal number */
        char *output;    /* stdout, NUL-terminated, at most max_output bytes; free with avm_run_result_done() */
        size_t output_size;
        bool truncated; /* output was longer than max_output */
} AvmRunResult;

/* Runs argv[0] (absolute path) with argv, without a shell, stdin from
 * /dev/null, stderr to the log, in a process group of its own. env: extra
 * "KEY=value" entries or NULL; LANG and LC_ALL are forced to C unless given.
 * timeout_usec 0: none (the step timeout still applies). max_output 0: 1 MiB.
 * Returns 0 when the program ran to an exit (whatever its status; *ret is
 * filled and the caller owns ret->output), -ETIME on timeout (the process
 * group is killed), or another -errno (then *ret is untouched). */
int avm_host_run(AvmHost *host, const char *const argv[], const char *const env[], uint64_t timeout_usec, size_t max_output,
                 AvmRunResult *ret);
/* Frees r->output; r may be NULL or already done. */
void avm_run_result_done(AvmRunResult *r);

/* Package backend (dpkg/apt or rpm/dnf, [Manager] PackageBackend=). Each runs
 * the package tools with the step timeout ([Manager] StepTimeoutSec=). */
/* Returns 1 and fills version (NUL-terminated, truncated to version_size) if
 * installed, 0 if not, -errno on failure. */
int avm_host_package_query(AvmHost *host, const char *name, char *version, size_t version_size);
/* Installs names (NULL-terminated) from the configured repositories, or the
 * local package file if file != NULL (then names may be NULL). 0 or -errno. */
int avm_host_package_install(AvmHost *host, const char *const names[], const char *file);
/* Removes names (NULL-terminated); purge removes their configuration too.
 * Packages that are not installed are not an error. 0 or -errno. */
int avm_host_package_remove(AvmHost *host, const char *const names[], bool purge);

/* systemd units over D-Bus (org.freedesktop.systemd1). verb: start, stop,
 * restart (wait for the job, [Manager] UnitTimeoutSec=), enable, disable,
 * daemon-reload. 0 or -errno. */
int avm_host_unit_control(AvmHost *host, const char *unit, const char *verb);
/* Returns 1 if the unit is active, 0 if not (or not loaded), -errno on failure. */
int avm_host_unit_is_active(AvmHost *host, const char *unit);

/* Builds the 68-byte EICAR test string at run time into buf, which must hold
 * at least AVM_EICAR_SIZE bytes (NUL included). Thread-safe, no host needed. */
#define AVM_EICAR_SIZE 69
void avm_eicar(char *buf);

#ifdef __cplusplus
}
#endif
