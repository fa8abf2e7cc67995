/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Package backend: avm_host_package_query/install/remove.
 *
 * The backend is chosen at run time from [Manager] PackageBackend=:
 *   auto  dpkg/apt if /usr/bin/dpkg-query exists, else rpm/dnf (default)
 *   dpkg  dpkg-query + apt-get
 *   rpm   rpm + dnf (yum when dnf is missing)
 *   test  a package database of plain files in $STATE_DIRECTORY/test-packages/:
 *         <name> holds the installed version; <name>.fail-install and
 *         <name>.fail-remove inject failures; an executable <name>.postinst
 *         (run as "<name>.postinst configure <version>" after installing) or
 *         <name>.postrm ("<name>.postrm remove|purge" after removing) plays
 *         the package's maintainer script, e.g. a simulated product that
 *         really goes away when its package is purged. A failing script
 *         fails the operation, as with dpkg.
 *
 * Every tool runs through avm_host_run() (argv, no shell, captured output,
 * timeout [Manager] StepTimeoutSec=, default 900 s).
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

#ifndef _public_
#        define _public_ __attribute__((visibility("default")))
#endif

#define PKG_DEFAULT_TIMEOUT_USEC (900ULL * 1000000ULL) /* without a configuration: the built-in default */
#define PKG_QUERY_MAX_OUTPUT 4096
#define PKG_OP_MAX_OUTPUT (256 * 1024)
#define PKG_NAME_MAX 128
#define PKG_MAX_NAMES 32
#define TEST_VERSION_MAX 64

typedef enum PkgBackend {
        PKG_BACKEND_DPKG,
        PKG_BACKEND_RPM,
        PKG_BACKEND_TEST,
} PkgBackend;

static void run_result_donep(AvmRunResult *r) {
        avm_run_result_done(r);
}
#define _cleanup_run_result_ __attribute__((cleanup(run_result_donep)))

static void closep_pkg(int *fd) {
        if (*fd >= 0)
                close(*fd);
}

/* PackageBackend= and StepTimeoutSec= come parsed and validated from
 * AvmConfig (configuration.c), so the daemon and the package tools can never
 * disagree about them. */
static int backend_get(AvmHost *host, PkgBackend *ret) {
        const char *v = host->config ? host->config->package_backend : NULL;

        if (!v || !*v || strcmp(v, "auto") == 0)
                *ret = access("/usr/bin/dpkg-query", X_OK) == 0 ? PKG_BACKEND_DPKG : PKG_BACKEND_RPM;
        else if (strcmp(v, "dpkg") == 0)
                *ret = PKG_BACKEND_DPKG;
        else if (strcmp(v, "rpm") == 0)
                *ret = PKG_BACKEND_RPM;
        else if (strcmp(v, "test") == 0)
                *ret = PKG_BACKEND_TEST;
        else {
                /* Unreachable: configuration.c accepts only the four above. */
                avm_host_error(host, "Invalid PackageBackend=%s in [Manager]", v);
                return -EINVAL;
        }
        return 0;
}

static uint64_t step_timeout(AvmHost *host) {
        return host->config ? host->config->step_timeout_usec : PKG_DEFAULT_TIMEOUT_USEC;
}

/* Package names as dpkg and rpm allow them; also protects the test backend's file names. */
static bool package_name_valid(const char *name) {
        size_t n;

        if (!name || !*name)
                return false;
        n = strlen(name);
        if (n > PKG_NAME_MAX || name[0] == '-' || name[0] == '.')
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("+-._:", *p)))
                        return false;
        return true;
}

static int names_validate(AvmHost *host, const char *const names[], size_t *ret_n) {
        size_t n = 0;

        if (!names)
                return -EINVAL;
        for (; names[n]; n++) {
                if (n >= PKG_MAX_NAMES) {
                        avm_host_error(host, "Too many package names (at most %d)", PKG_MAX_NAMES);
                        return -E2BIG;
                }
                if (!package_name_valid(names[n])) {
                        avm_host_error(host, "Invalid package name '%.*s'", PKG_NAME_MAX, names[n]);
                        return -EINVAL;
                }
        }
        *ret_n = n;
        return 0;
}

static int run_checked(AvmHost *host, const char *what, const char *const argv[], const char *const env[]) {
        _cleanup_run_result_ AvmRunResult r = { 0 };
        int ret;

        ret = avm_host_run(host, argv, env, step_timeout(host), PKG_OP_MAX_OUTPUT, &r);
        if (ret == -ETIME) {
                avm_host_error(host, "%s timed out (%s)", what, argv[0]);
                return ret;
        }
        if (ret < 0) {
                avm_host_error(host, "%s: could not run %s: %s", what, argv[0], strerror(-ret));
                return ret;
        }
        if (r.exit_status != 0) {
                avm_host_error(host, "%s failed: %s exited with status %d", what, argv[0], r.exit_status);
                return -EIO;
        }
        return 0;
}

/* ---- test backend ---- */

static int test_dir(AvmHost *host, char *buf, size_t size) {
        const char *sd = getenv("STATE_DIRECTORY");
        const char *colon;
        size_t len;
        int n;

        if (!sd || !*sd)
                sd = AVM_STATE_DIR;
        colon = strchr(sd, ':');
        len = colon ? (size_t) (colon - sd) : strlen(sd);
        if (len == 0 || sd[0] != '/') {
                avm_host_error(host, "STATE_DIRECTORY is not an absolute path");
                return -EINVAL;
        }
        n = snprintf(buf, size, "%.*s/test-packages", (int) len, sd);
        if (n < 0 || (size_t) n >= size)
                return -ENAMETOOLONG;
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
                int e = errno;
                avm_host_error(host, "Cannot create %s: %s", buf, strerror(e));
                return -e;
        }
        return 0;
}

static void test_log_op(AvmHost *host, const char *dir, const char *op, const char *name, const char *version) {
        char path[PATH_MAX], line[512];
        int fd, n;

        if (snprintf(path, sizeof path, "%s/operations.log", dir) >= (int) sizeof path)
                return;
        n = snprintf(line, sizeof line, "%lld %s %s %s\n", (long long) time(NULL), op, name, version ? version : "-");
        if (n < 0 || (size_t) n >= sizeof line)
                return;
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
                avm_host_log(host, 4 /* LOG_WARNING */, "Cannot append to %s: %m", path);
                return;
        }
        if (write(fd, line, (size_t) n) != n)
                avm_host_log(host, 4, "Short write to %s", path);
        (void) fsync(fd);
        close(fd);
}

static int test_query(AvmHost *host, const char *name, char *version, size_t version_size) {
        char dir[PATH_MAX], path[PATH_MAX], buf[TEST_VERSION_MAX + 2];
        int fd, r;
        ssize_t n;

        r = test_dir(host, dir, sizeof dir);
        if (r < 0)
                return r;
        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int) sizeof path)
                return -ENAMETOOLONG;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                r = -errno;
                avm_host_error(host, "Cannot open %s: %s", path, strerror(-r));
                return r;
        }
        n = read(fd, buf, sizeof buf - 1);
        r = n < 0 ? -errno : 0;
        close(fd);
        if (r < 0)
                return r;
        if ((size_t) n > TEST_VERSION_MAX) {
                avm_host_error(host, "Test package record %s is oversized", path);
                return -EBADMSG;
        }
        buf[n] = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        if (version && version_size > 0)
                snprintf(version, version_size, "%s", buf);
        return 1;
}

static int test_fail_injected(const char *dir, const char *name, const char *op) {
        char path[PATH_MAX];

        if (snprintf(path, sizeof path, "%s/%s.fail-%s", dir, name, op) >= (int) sizeof path)
                return 0;
        return access(path, F_OK) == 0;
}

/* Runs DIR/NAME.SCRIPT ARG [ARG2] if it exists (a maintainer script of the test backend). */
static int test_run_script(AvmHost *host, const char *dir, const char *name, const char *script, const char *arg, const char *arg2) {
        _cleanup_run_result_ AvmRunResult r = { 0 };
        char path[PATH_MAX];
        const char *argv[] = { path, arg, arg2, NULL };
        int ret;

        if (snprintf(path, sizeof path, "%s/%s.%s", dir, name, script) >= (int) sizeof path)
                return -ENAMETOOLONG;
        if (access(path, F_OK) < 0)
                return 0;
        ret = avm_host_run(host, argv, NULL, step_timeout(host), PKG_OP_MAX_OUTPUT, &r);
        if (ret < 0) {
                avm_host_error(host, "Test package %s: could not run %s: %s", name, path, strerror(-ret));
                return ret;
        }
        if (r.exit_status != 0) {
                char op[32];
                snprintf(op, sizeof op, "%s-failed", script);
                test_log_op(host, dir, op, name, NULL);
                avm_host_error(host, "Test package %s: %s exited with status %d", name, path, r.exit_status);
                return -EIO;
        }
        return 0;
}

static int test_install_one(AvmHost *host, const char *dir, const char *name, const char *version) {
        char path[PATH_MAX], tmp[PATH_MAX];
        int fd, n;

        if (test_fail_injected(dir, name, "install")) {
                test_log_op(host, dir, "install-failed", name, version);
                avm_host_error(host, "Installing test package %s failed (injected failure)", name);
                return -EIO;
        }
        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int) sizeof path ||
            snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= (int) sizeof tmp)
                return -ENAMETOOLONG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        n = dprintf(fd, "%s\n", version);
        if (n < 0 || fsync(fd) < 0) {
                int e = errno ? errno : EIO;
                close(fd);
                unlink(tmp);
                return -e;
        }
        close(fd);
        if (rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return -e;
        }
        test_log_op(host, dir, "install", name, version);
        return test_run_script(host, dir, name, "postinst", "configure", version);
}

/* "name_1.2-3_amd64.deb" → name "name", version "1.2-3"; "name-1.2-3.x86_64.rpm" → name-1.2-3 as name. */
static int test_name_from_file(const char *file, char *name, size_t name_size, char *version, size_t version_size) {
        const char *base = strrchr(file, '/');
        const char *us, *us2;

        base = base ? base + 1 : file;
        us = strchr(base, '_');
        if (us) {
                us2 = strchr(us + 1, '_');
                snprintf(name, name_size, "%.*s", (int) (us - base), base);
                snprintf(version, version_size, "%.*s", us2 ? (int) (us2 - us - 1) : (int) strcspn(us + 1, "."), us + 1);
        } else {
                size_t l = strlen(base);
                const char *dot = strrchr(base, '.');
                snprintf(name, name_size, "%.*s", dot ? (int) (dot - base) : (int) l, base);
                snprintf(version, version_size, "1.0-test");
        }
        return package_name_valid(name) ? 0 : -EINVAL;
}

static int test_install(AvmHost *host, const char *const names[], const char *file) {
        char dir[PATH_MAX];
        int r;

        r = test_dir(host, dir, sizeof dir);
        if (r < 0)
                return r;
        if (file) {
                char name[PKG_NAME_MAX + 1], version[TEST_VERSION_MAX];
                __attribute__((cleanup(closep_pkg))) int fd = open(file, O_RDONLY | O_CLOEXEC);

                if (fd < 0) {
                        r = -errno;
                        avm_host_error(host, "Cannot open package file %s: %s", file, strerror(-r));
                        return r;
                }
                if (test_name_from_file(file, name, sizeof name, version, sizeof version) < 0) {
                        avm_host_error(host, "Cannot derive a package name from %s", file);
                        return -EINVAL;
                }
                return test_install_one(host, dir, name, version);
        }
        for (size_t i = 0; names[i]; i++) {
                const char *v = host_setting(host, "Manager", "TestPackageVersion");
                r = test_install_one(host, dir, names[i], v && *v ? v : "1.0-test");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int test_remove(AvmHost *host, const char *const names[], bool purge) {
        char dir[PATH_MAX], path[PATH_MAX];
        int r;

        r = test_dir(host, dir, sizeof dir);
        if (r < 0)
                return r;
        for (size_t i = 0; names[i]; i++) {
                if (test_fail_injected(dir, names[i], "remove")) {
                        test_log_op(host, dir, "remove-failed", names[i], NULL);
                        avm_host_error(host, "Removing test package %s failed (injected failure)", names[i]);
                        return -EIO;
                }
                if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int) sizeof path)
                        return -ENAMETOOLONG;
                if (unlink(path) < 0) {
                        if (errno != ENOENT) {
                                r = -errno;
                                avm_host_error(host, "Cannot remove %s: %s", path, strerror(-r));
                                return r;
                        }
                        continue;
                }
                test_log_op(host, dir, purge ? "purge" : "remove", names[i], NULL);
                r = test_run_script(host, dir, names[i], "postrm", purge ? "purge" : "remove", NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- dpkg / rpm ---- */

/* A package operation killed half-way (daemon or worker killed, power loss)
 * leaves dpkg "interrupted"; apt then refuses everything. Finish the pending
 * configuration first: idempotent and cheap when nothing is pending. */
static int dpkg_recover(AvmHost *host) {
        const char *argv[] = { "/usr/bin/dpkg", "--configure", "-a", NULL };
        const char *env[] = { "DEBIAN_FRONTEND=noninteractive", NULL };

        if (access(argv[0], X_OK) < 0)
                return 0;
        return run_checked(host, "dpkg --configure -a", argv, env);
}

static int dpkg_query(AvmHost *host, const char *name, char *version, size_t version_size, bool present_only) {
        const char *argv[] = { "/usr/bin/dpkg-query", "-W", "-f=${Status}\t${Version}", name, NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 };
        const char *tab;
        int ret;

        ret = avm_host_run(host, argv, NULL, 60ULL * 1000000ULL, PKG_QUERY_MAX_OUTPUT, &r);
        if (ret < 0) {
                avm_host_error(host, "Cannot query package %s with dpkg-query: %s", name, strerror(-ret));
                return ret;
        }
        if (r.exit_status == 1)
                return 0; /* no such package known */
        if (r.exit_status != 0) {
                avm_host_error(host, "dpkg-query -W %s exited with status %d", name, r.exit_status);
                return -EIO;
        }
        if (r.truncated || !r.output || strlen(r.output) != r.output_size || strchr(r.output, '\n')) {
                avm_host_error(host, "Malformed dpkg-query output for %s", name);
                return -EBADMSG;
        }
        tab = strchr(r.output, '\t');
        if (!tab) {
                avm_host_error(host, "Malformed dpkg-query output for %s (no status/version separator)", name);
                return -EBADMSG;
        }
        /* Status is "want flag status", e.g. "install ok installed", "deinstall ok config-files". */
        if (present_only) {
                /* For removal: anything dpkg still has files of, including a
                 * package whose removal was interrupted ("half-installed",
                 * "half-configured", "unpacked", "triggers-*"). */
                size_t n = (size_t) (tab - r.output);
                return !((n >= strlen(" not-installed") &&
                          strncmp(tab - strlen(" not-installed"), " not-installed", strlen(" not-installed")) == 0) ||
                         (n >= strlen(" config-files") &&
                          strncmp(tab - strlen(" config-files"), " config-files", strlen(" config-files")) == 0));
        }
        if ((size_t) (tab - r.output) < strlen(" installed") ||
            strncmp(tab - strlen(" installed"), " installed", strlen(" installed")) != 0)
                return 0;
        if (version && version_size > 0)
                snprintf(version, version_size, "%s", tab + 1);
        return 1;
}

static int rpm_query(AvmHost *host, const char *name, char *version, size_t version_size) {
        const char *argv[] = { "/usr/bin/rpm", "-q", "--qf", "%{VERSION}-%{RELEASE}", name, NULL };
        _cleanup_run_result_ AvmRunResult r = { 0 };
        int ret;

        ret = avm_host_run(host, argv, NULL, 60ULL * 1000000ULL, PKG_QUERY_MAX_OUTPUT, &r);
        if (ret < 0) {
                avm_host_error(host, "Cannot query package %s with rpm: %s", name, strerror(-ret));
                return ret;
        }
        if (r.exit_status == 1)
                return 0;
        if (r.exit_status != 0) {
                avm_host_error(host, "rpm -q %s exited with status %d", name, r.exit_status);
                return -EIO;
        }
        if (r.truncated || !r.output || strlen(r.output) != r.output_size || r.output_size == 0 || strchr(r.output, '\n')) {
                avm_host_error(host, "Malformed rpm -q output for %s", name);
                return -EBADMSG;
        }
        if (version && version_size > 0)
                snprintf(version, version_size, "%s", r.output);
        return 1;
}

static const char *dnf_path(void) {
        return access("/usr/bin/dnf", X_OK) == 0 ? "/usr/bin/dnf" : "/usr/bin/yum";
}

_public_ int avm_host_package_query(AvmHost *host, const char *name, char *version, size_t version_size) {
        PkgBackend b;
        int r;

        if (!package_name_valid(name)) {
                avm_host_error(host, "Invalid package name");
                return -EINVAL;
        }
        r = backend_get(host, &b);
        if (r < 0)
                return r;
        if (version && version_size > 0)
                version[0] = '\0';
        switch (b) {
        case PKG_BACKEND_DPKG:
                return dpkg_query(host, name, version, version_size, false);
        case PKG_BACKEND_RPM:
                return rpm_query(host, name, version, version_size);
        case PKG_BACKEND_TEST:
                return test_query(host, name, version, version_size);
        }
        return -EINVAL;
}

_public_ int avm_host_package_install(AvmHost *host, const char *const names[], const char *file) {
        static const char *const apt_env[] = { "DEBIAN_FRONTEND=noninteractive", "APT_LISTCHANGES_FRONTEND=none", NULL };
        const char *argv[PKG_MAX_NAMES + 16];
        size_t n = 0, k = 0;
        PkgBackend b;
        int r;

        r = backend_get(host, &b);
        if (r < 0)
                return r;
        if (file) {
                if (file[0] != '/' || access(file, R_OK) < 0) {
                        avm_host_error(host, "Package file %s is not an absolute, readable path", file);
                        return -EINVAL;
                }
        } else {
                r = names_validate(host, names, &n);
                if (r < 0)
                        return r;
                if (n == 0)
                        return 0;
        }
        if (b == PKG_BACKEND_TEST)
                return test_install(host, names, file);

        if (b == PKG_BACKEND_DPKG) {
                r = dpkg_recover(host);
                if (r < 0)
                        return r;
                argv[k++] = "/usr/bin/apt-get";
                argv[k++] = "install";
                argv[k++] = "-y";
                argv[k++] = "-q";
                argv[k++] = "-o";
                argv[k++] = "Dpkg::Options::=--force-confdef";
                argv[k++] = "-o";
                argv[k++] = "Dpkg::Options::=--force-confold";
        } else {
                argv[k++] = dnf_path();
                argv[k++] = "install";
                argv[k++] = "-y";
        }
        if (file)
                argv[k++] = file; /* absolute path: apt-get and dnf treat it as a local package */
        else
                for (size_t i = 0; i < n; i++)
                        argv[k++] = names[i];
        argv[k] = NULL;
        avm_host_log(host, 6 /* LOG_INFO */, "Installing %s with %s", file ? file : names[0], argv[0]);
        return run_checked(host, "Package installation", argv, b == PKG_BACKEND_DPKG ? apt_env : NULL);
}

_public_ int avm_host_package_remove(AvmHost *host, const char *const names[], bool purge) {
        static const char *const apt_env[] = { "DEBIAN_FRONTEND=noninteractive", "APT_LISTCHANGES_FRONTEND=none", NULL };
        const char *installed[PKG_MAX_NAMES + 1];
        const char *argv[PKG_MAX_NAMES + 8];
        size_t n, m = 0, k = 0;
        PkgBackend b;
        int r;

        r = backend_get(host, &b);
        if (r < 0)
                return r;
        r = names_validate(host, names, &n);
        if (r < 0)
                return r;

        /* Idempotent: only remove what is installed (apt/dnf fail on unknown names). */
        for (size_t i = 0; i < n; i++) {
                r = b == PKG_BACKEND_DPKG ? dpkg_query(host, names[i], NULL, 0, true) :
                                            avm_host_package_query(host, names[i], NULL, 0);
                if (r < 0)
                        return r;
                if (r > 0)
                        installed[m++] = names[i];
                else
                        avm_host_log(host, 7 /* LOG_DEBUG */, "Package %s is not installed, nothing to remove", names[i]);
        }
        installed[m] = NULL;
        if (m == 0)
                return 0;

        if (b == PKG_BACKEND_TEST)
                return test_remove(host, installed, purge);

        if (b == PKG_BACKEND_DPKG) {
                int r2 = dpkg_recover(host);
                if (r2 < 0)
                        return r2;
                argv[k++] = "/usr/bin/apt-get";
                argv[k++] = purge ? "purge" : "remove";
                argv[k++] = "-y";
                argv[k++] = "-q";
        } else {
                argv[k++] = dnf_path();
                argv[k++] = "remove";
                argv[k++] = "-y";
        }
        for (size_t i = 0; i < m; i++)
                argv[k++] = installed[i];
        argv[k] = NULL;
        avm_host_log(host, 6, "Removing %zu package(s) starting with %s (%s)", m, installed[0], purge ? "purge" : "remove");
        r = run_checked(host, "Package removal", argv, b == PKG_BACKEND_DPKG ? apt_env : NULL);
        if (r < 0)
                return r;

        for (size_t i = 0; i < m; i++) {
                r = avm_host_package_query(host, installed[i], NULL, 0);
                if (r < 0)
                        return r;
                if (r > 0) {
                        avm_host_error(host, "Package %s is still installed after removal", installed[i]);
                        return -EBUSY;
                }
        }
        return 0;
}
