/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the [Product <id>] key declarations and their validation
 * (configuration.c), the host services reading them (host.c), the loader's
 * ABI import with struct_size (plugin-loader.c) and the disk space check
 * (diskspace.c). No bus, no plugin shared object. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "configuration.h"
#include "diskspace.h"
#include "host.h"
#include "plugin-loader.h"
#include "util.h"

#include "avm-test.h"

static char tmpdir[PATH_MAX];

static const AvmConfigKey keys[] = {
        { "Tool", AVM_CONFIG_PATH, "/usr/bin/tool", 0, 0, NULL },
        { "Flag", AVM_CONFIG_BOOL, "yes", 0, 0, NULL },
        { "Count", AVM_CONFIG_UINT, "3", 1, 10, NULL },
        { "WaitSec", AVM_CONFIG_SECONDS, "30", 1, 3600, NULL },
        { "Mode", AVM_CONFIG_ENUM, "systemd", 0, 0, "systemd|exec" },
        { "Label", AVM_CONFIG_STRING, NULL, 0, 0, NULL },
        {},
};

static int detect(AvmHost *host, AvmDetection *ret) {
        return 0;
}

static int status(AvmHost *host, AvmStatus *ret) {
        return 0;
}

static const AvmPlugin plugin = {
        .api_version = AVM_PLUGIN_API_VERSION,
        .struct_size = sizeof(AvmPlugin),
        .id = "demo",
        .detect = detect,
        .status = status,
        .config_keys = keys,
};

/* Parses text as "t.conf" and validates it against plugin; returns the first error. */
static int load(const char *text, AvmConfig **ret, char *error, size_t size) {
        const AvmPlugin *plugins[] = { &plugin };
        char path[PATH_MAX + 16];
        AvmConfig *c = config_new();
        FILE *f;
        int r;

        snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
        f = fopen(path, "we");
        if (!f || !c)
                abort();
        fputs(text, f);
        fclose(f);
        error[0] = 0;
        r = config_parse_file(c, path, error, size);
        if (r >= 0)
                r = config_validate_products(c, plugins, 1, error, size);
        if (r < 0 || !ret)
                config_free(c);
        else
                *ret = c;
        return r;
}

static void test_validation(void) {
        char error[512];
        AvmConfig *c = NULL;

        CHECK(load("[Product demo]\nTool=/opt/t\nFlag=no\nCount=10\nWaitSec=0.5\nMode=exec\nLabel=x y\n"
                   "MaxDefinitionsAgeDays=0\n[Product other]\nWhatever=1\n",
                   &c, error, sizeof(error)) == -EINVAL); /* WaitSec below 1 s */
        CHECK(strstr(error, "t.conf:5: [Product demo] WaitSec=") != NULL);
        CHECK(load("[Product demo]\nTool=/opt/t\nFlag=no\nCount=10\nWaitSec=2.5\nMode=exec\nLabel=x y\n"
                   "Tool=\nMaxDefinitionsAgeDays=0\n[Product other]\nWhatever=1\n",
                   &c, error, sizeof(error)) == 0);
        if (c) {
                CHECK(c->entries[0].line == 2 && strstr(c->entries[0].file, "/t.conf") != NULL);
                config_free(c);
        }

        /* Unknown key: file, line and the plugin that does not declare it. */
        CHECK(load("# comment\n[Product demo]\n\nTool=/bin/t\nToool=/bin/t\n", NULL, error, sizeof(error)) == -EINVAL);
        CHECK(strstr(error, "t.conf:5: unknown key 'Toool' in section [Product demo]") != NULL);
        /* Bad values, each with its line. */
        CHECK(load("[Product demo]\nFlag=maybe\n", NULL, error, sizeof(error)) == -EINVAL);
        CHECK(strstr(error, "t.conf:2: [Product demo] Flag=: expected a boolean") != NULL);
        CHECK(load("[Product demo]\nCount=11\n", NULL, error, sizeof(error)) == -EINVAL);
        CHECK(strstr(error, "t.conf:2:") != NULL && strstr(error, "out of range 1..10") != NULL);
        CHECK(load("[Product demo]\nCount=-1\n", NULL, error, sizeof(error)) == -EINVAL);
        CHECK(load("[Product demo]\nWaitSec=60s\n", NULL, error, sizeof(error)) == -EINVAL);
        CHECK(load("[Product demo]\nMode=fork\n", NULL, error, sizeof(error)) == -EINVAL);
        CHECK(strstr(error, "expected one of systemd|exec") != NULL);
        CHECK(load("[Product demo]\nTool=bin/t\n", NULL, error, sizeof(error)) == -EINVAL);
        CHECK(strstr(error, "absolute path") != NULL);

        /* Common keys are checked while parsing, with no plugin at all. */
        CHECK(load("[Product nosuchplugin]\n\nMaxDefinitionsAgeDays=abc\n", NULL, error, sizeof(error)) == -EBADMSG);
        CHECK(strstr(error, "t.conf:3: MaxDefinitionsAgeDays=: expected a number, got 'abc'") != NULL);
        CHECK(load("[Product demo]\nArtifactSHA256=1234\n", NULL, error, sizeof(error)) == -EBADMSG);
        CHECK(strstr(error, "t.conf:2: ArtifactSHA256=") != NULL);
        CHECK(load("[Product demo]\nArtifact=relative.deb\n", NULL, error, sizeof(error)) == -EBADMSG);
        /* [Manager] keys are not product keys. */
        CHECK(load("[Product demo]\nStepTimeoutSec=5\n", NULL, error, sizeof(error)) == -EINVAL);
        CHECK(strstr(error, "unknown key 'StepTimeoutSec'") != NULL);
}

static void test_manager_values(void) {
        char error[512];
        AvmConfig *c = NULL;

        CHECK(load("[Manager]\nUnitTimeoutSec=7\nStepTimeoutSec=120\nPackageBackend=rpm\n", &c, error, sizeof(error)) == 0);
        if (c) {
                CHECK(c->unit_timeout_usec == 7 * USEC_PER_SEC);
                CHECK(c->step_timeout_usec == 120 * USEC_PER_SEC);
                CHECK(streq(c->package_backend, "rpm"));
                config_free(c);
        }
        CHECK(load("[Manager]\nUnitTimeoutSec=never\n", NULL, error, sizeof(error)) == -EBADMSG);
        /* DownloadStallTimeoutSec=: 30 s by default, whole seconds 1..3600 (libcurl's unit). */
        CHECK(load("[Manager]\n", &c, error, sizeof(error)) == 0);
        if (c) {
                CHECK(c->download_stall_timeout_usec == 30 * USEC_PER_SEC);
                config_free(c);
        }
        CHECK(load("[Manager]\nDownloadStallTimeoutSec=2.5\n", &c, error, sizeof(error)) == 0);
        if (c) {
                CHECK(c->download_stall_timeout_usec == 2500 * USEC_PER_MSEC);
                config_free(c);
        }
        for (unsigned i = 0; i < 3; i++) {
                static const char *const bad[] = { "0.5", "3601", "soon" };
                char text[128];

                snprintf(text, sizeof(text), "[Manager]\nDownloadStallTimeoutSec=%s\n", bad[i]);
                CHECK(load(text, NULL, error, sizeof(error)) == -EBADMSG);
                CHECK(strstr(error, "DownloadStallTimeoutSec=: expected 1..3600 seconds") != NULL);
        }
        CHECK(load("[Manager]\nPackageBackend=apt\n", NULL, error, sizeof(error)) == -EBADMSG);
}

static void test_host_services(void) {
        char error[512];
        AvmConfig *c = NULL;
        AvmHost host = { .plugin = &plugin, .progress_fd = -1 };

        CHECK(load("[Product demo]\nWaitSec=2.5\nFlag=off\n", &c, error, sizeof(error)) == 0);
        host.config = c;
        CHECK(avm_host_config_usec(&host, "WaitSec") == 2500000);
        CHECK(!avm_host_config_bool(&host, "Flag"));
        CHECK(avm_host_max_definitions_age_sec(&host) == 7 * 24 * 3600); /* the default */
        CHECK(host_definitions_too_old(&host, 8 * 24 * 3600));
        CHECK(!host_definitions_too_old(&host, -1));
        config_free(c);

        CHECK(load("[Product demo]\nWaitSec=\nMaxDefinitionsAgeDays=0\n", &c, error, sizeof(error)) == 0);
        host.config = c;
        CHECK(avm_host_config_usec(&host, "WaitSec") == 30 * USEC_PER_SEC); /* empty: the declared default */
        CHECK(avm_host_config_bool(&host, "Flag"));
        CHECK(avm_host_max_definitions_age_sec(&host) == 0);
        CHECK(!host_definitions_too_old(&host, 400 * 24 * 3600));
        CHECK(avm_host_config_usec(&host, "Flag") == 0); /* not a seconds key */
        config_free(c);

        CHECK(load("[Product demo]\nMaxDefinitionsAgeDays=2\n", &c, error, sizeof(error)) == 0);
        host.config = c;
        CHECK(avm_host_max_definitions_age_sec(&host) == 2 * 24 * 3600);
        CHECK(host_definitions_too_old(&host, 2 * 24 * 3600 + 1));
        config_free(c);
}

/* A plugin built against the header before config_keys was appended: its
 * structure ends there, and what follows in memory is not ours to read. */
static void test_struct_size(void) {
        union {
                AvmPlugin p;
                unsigned char bytes[sizeof(AvmPlugin) + 64];
        } old;
        AvmPlugin got;
        char why[256];

        memset(&old, 0xa5, sizeof(old));
        memcpy(&old.p, &plugin, AVM_PLUGIN_STRUCT_SIZE_MIN_V2);
        old.p.struct_size = (uint32_t) AVM_PLUGIN_STRUCT_SIZE_MIN_V2;
        CHECK(plugin_abi_import(&old.p, &got, why, sizeof(why)) == 0);
        CHECK(got.config_keys == NULL && got.detect == detect && streq(got.id, "demo"));

        /* A newer, larger structure of the same major version: our part is read. */
        memcpy(&old.p, &plugin, sizeof(plugin));
        old.p.struct_size = sizeof(AvmPlugin) + 16;
        CHECK(plugin_abi_import(&old.p, &got, why, sizeof(why)) == 0 && got.config_keys == keys);

        old.p.struct_size = 8;
        CHECK(plugin_abi_import(&old.p, &got, why, sizeof(why)) == -EPROTO && strstr(why, "too small") != NULL);

        memcpy(&old.p, &plugin, sizeof(plugin));
        old.p.api_version = AVM_PLUGIN_API_VERSION + 1;
        CHECK(plugin_abi_import(&old.p, &got, why, sizeof(why)) == -EPROTO && strstr(why, "ABI version 3") != NULL);

        memcpy(&old.p, &plugin, sizeof(plugin));
        old.p.capabilities = AVM_CAP_UNINSTALL;
        CHECK(plugin_abi_import(&old.p, &got, why, sizeof(why)) == -EINVAL && strstr(why, "AVM_CAP_UNINSTALL") != NULL);
        old.p.capabilities = AVM_CAP_INSTALL;
        CHECK(plugin_abi_import(&old.p, &got, why, sizeof(why)) == -EINVAL && strstr(why, "AVM_CAP_INSTALL") != NULL);
        old.p.capabilities = 1u << 1; /* the retired AVM_CAP_PASSIVE_MODE: ignored */
        CHECK(plugin_abi_import(&old.p, &got, why, sizeof(why)) == 0);
}

static uint64_t free_mb(const char *path, dev_t *dev) {
        struct statvfs sv;
        struct stat st;

        if (statvfs(path, &sv) < 0 || stat(path, &st) < 0)
                return 0;
        *dev = st.st_dev;
        return (uint64_t) sv.f_bavail * sv.f_frsize / (1024 * 1024);
}

/* Not only "/": a later file system with less room is what refuses. Needs two
 * file systems with different free space (/ and the tmpfs of /dev/shm or /run). */
static void test_disk_space_second_fs(void) {
        const char *candidates[] = { "/dev/shm", "/run", "/tmp", NULL };
        dev_t root_dev = 0, dev = 0;
        uint64_t root_mb = free_mb("/", &root_dev);
        char why[256] = "";

        for (size_t i = 0; candidates[i]; i++) {
                uint64_t mb = free_mb(candidates[i], &dev);
                const char *const paths[] = { mb < root_mb ? "/" : candidates[i], mb < root_mb ? candidates[i] : "/", NULL };
                uint64_t small = mb < root_mb ? mb : root_mb;

                if (dev == root_dev || mb == root_mb || mb == 0)
                        continue;
                CHECK(disk_space_check(paths, small + 1, why, sizeof(why)) == -ENOSPC);
                CHECK(strstr(why, paths[1]) != NULL);
                CHECK(disk_space_check(paths, small, why, sizeof(why)) == 0);
                return;
        }
        printf("skipped: no second file system with other free space\n");
}

static void test_disk_space(void) {
        const char *const none_missing[] = { "/", tmpdir, NULL };
        const char *const missing[] = { "/nonexistent-avm-test/deeper/dir", NULL };
        const char *const relative[] = { "relative", NULL };
        char why[256] = "";

        CHECK(disk_space_check(none_missing, 0, why, sizeof(why)) == 0);
        CHECK(disk_space_check(none_missing, 1, why, sizeof(why)) == 0);
        /* More than any disk has: refused, naming the first file system. */
        CHECK(disk_space_check(none_missing, UINT64_MAX / (2 * 1024 * 1024), why, sizeof(why)) == -ENOSPC);
        CHECK(strstr(why, "MB free on /,") != NULL);
        /* A path that does not exist yet is measured on its parent's file system. */
        CHECK(disk_space_check(missing, UINT64_MAX / (2 * 1024 * 1024), why, sizeof(why)) == -ENOSPC);
        CHECK(strstr(why, "on /, ") != NULL && strstr(why, "(for /nonexistent-avm-test/deeper/dir)") != NULL);
        CHECK(disk_space_check(missing, 1, why, sizeof(why)) == 0);
        CHECK(disk_space_check(relative, 1, why, sizeof(why)) == -EINVAL);
        CHECK(disk_space_default_paths[0] && streq(disk_space_default_paths[0], "/"));
        test_disk_space_second_fs();
}

int main(void) {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/avm-test-product-config-XXXXXX");
        if (!mkdtemp(tmpdir))
                return 2;
        test_validation();
        test_manager_values();
        test_host_services();
        test_struct_size();
        test_disk_space();
        {
                char path[PATH_MAX + 16];
                snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
                (void) unlink(path);
                (void) rmdir(tmpdir);
        }
        return avm_test_finish();
}
