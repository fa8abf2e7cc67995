/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/worker-lazy.c, linked as in avmigrate-worker: without libsystemd
 * and libcrypto. What every worker run does (its pid record, releasing
 * nothing) must load neither; a hash loads libcrypto and is right; sd-bus
 * calls work through the loaded libsystemd when a bus is there. */
#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "avm-test.h"
#include "process-id.h"
#include "util.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define LIBCRYPTO "libcrypto.so." STRINGIFY(OPENSSL_SHLIB_VERSION)

static bool is_loaded(const char *soname) {
        void *h = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);

        if (!h)
                return false;
        dlclose(h);
        return true;
}

static void test_nothing_loaded(void) {
        _cleanup_free_ char *boot = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char buf[96], want[40] = "";
        ProcessId id, back;
        size_t n = 0;

        /* What job_free() and the cleanup handlers release at every run. */
        CHECK(!sd_bus_slot_unref(NULL));
        CHECK(!sd_event_source_disable_unref(NULL));
        CHECK(!sd_bus_message_unref(NULL));
        CHECK(!sd_bus_flush_close_unref(NULL));
        sd_bus_error_free(&e);
        CHECK(!e.name && !e.message);

        /* The pid record: the boot id is the kernel's, read without libsystemd. */
        CHECK(process_id_get(0, &id) == 0);
        CHECK(id.pid == getpid());
        CHECK(process_id_alive(&id));
        CHECK(process_id_format(&id, buf, sizeof(buf)) == 0);
        CHECK(read_file_bounded("/proc/sys/kernel/random/boot_id", 64, &boot, NULL) == 0);
        for (const char *p = boot; p && *p && *p != '\n' && n + 1 < sizeof(want); p++)
                if (*p != '-')
                        want[n++] = *p;
        want[n] = 0;
        CHECK(n == 32 && strstr(buf, want));
        CHECK(process_id_parse(buf, &back) == 0);
        CHECK(back.pid == id.pid && back.start_time == id.start_time && sd_id128_equal(back.boot_id, id.boot_id));
        CHECK(process_id_parse("1234 5 0123456789abcdef0123456789abcdeg\n", &back) == -EBADMSG);
        CHECK(process_id_parse("1234 5 0123456789abcdef\n", &back) == -EBADMSG);

        CHECK(!is_loaded("libsystemd.so.0"));
        CHECK(!is_loaded(LIBCRYPTO));
}

static void test_names(void) {
        sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(SD_BUS_ERROR_SERVICE_UNKNOWN, "x");

        CHECK(sd_bus_error_has_name(&e, SD_BUS_ERROR_SERVICE_UNKNOWN));
        CHECK(!sd_bus_error_has_name(&e, SD_BUS_ERROR_NAME_HAS_NO_OWNER));
        CHECK(sd_bus_error_has_names(&e, SD_BUS_ERROR_NAME_HAS_NO_OWNER, SD_BUS_ERROR_SERVICE_UNKNOWN));
        CHECK(!sd_bus_error_has_names(&e, SD_BUS_ERROR_NAME_HAS_NO_OWNER, SD_BUS_ERROR_UNKNOWN_OBJECT));
        CHECK(!is_loaded("libsystemd.so.0"));
}

static void test_sha256(void) {
        static const unsigned char abc_sha256[32] = {
                0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
        };
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        CHECK(ctx);
        CHECK(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1);
        CHECK(EVP_DigestUpdate(ctx, "a", 1) == 1);
        CHECK(EVP_DigestUpdate(ctx, "bc", 2) == 1);
        CHECK(EVP_DigestFinal_ex(ctx, md, &len) == 1);
        CHECK(len == 32 && memcmp(md, abc_sha256, 32) == 0);
        EVP_MD_CTX_free(ctx);
        CHECK(is_loaded(LIBCRYPTO));
}

/* Through the bus daemon of the environment, if any (the bus tests' private
 * bus sets DBUS_SYSTEM_BUS_ADDRESS); skipped without one. */
static void test_bus(void) {
        sd_bus *bus = NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *s = NULL;
        char *owner = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        CHECK(is_loaded("libsystemd.so.0"));
        if (r < 0) {
                printf("no system bus (%s): sd-bus calls not tried\n", strerror(-r));
                return;
        }
        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner", &e,
                               &reply, "s", "org.freedesktop.DBus");
        CHECK(r >= 0);
        CHECK(r >= 0 && sd_bus_message_read(reply, "s", &s) > 0 && s && strcmp(s, "org.freedesktop.DBus") == 0);
        reply = sd_bus_message_unref(reply);

        CHECK(sd_bus_message_new_method_call(bus, &m, "org.avmigrate.NoSuchName", "/", "org.avmigrate.None", "Nothing") >= 0);
        CHECK(sd_bus_message_append(m, "") >= 0);
        r = sd_bus_call(bus, m, 0, &e, &reply);
        CHECK(r < 0 && sd_bus_error_has_names(&e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER));
        sd_bus_error_free(&e);
        CHECK(!e.name);
        m = sd_bus_message_unref(m);

        r = sd_bus_get_property_string(bus, "org.avmigrate.NoSuchName", "/", "org.avmigrate.None", "Nothing", &e, &owner);
        CHECK(r < 0);
        sd_bus_error_free(&e);
        free(owner);
        bus = sd_bus_flush_close_unref(bus);
}

int main(void) {
        test_nothing_loaded();
        test_names();
        test_sha256();
        test_bus();
        return avm_test_finish();
}
