/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* avmigrate-worker is executed afresh for every step, detection and sample;
 * linking libsystemd (with libgcrypt, liblzma, libzstd, liblz4, libcap) and
 * libcrypto costs it ~3.5 ms of CPU at every start — most of the per-step
 * overhead of issue 13 — while most runs use neither: libsystemd only when
 * a plugin starts, stops, enables or disables a unit (unit-control.c) or an
 * event goes to the journal (log.c), libcrypto only when fetch hashes an
 * artifact (steps.c). The worker therefore does not link them: these
 * definitions of the few functions it calls load the library on first use
 * (dlopen) and forward to it. Only the worker is built with this file; the
 * daemon and the tests link the libraries as usual. The functions are not
 * exported to plugins (avmigrate-plugin-abi.sym).
 *
 * The release functions (unref, free) of an object the library never made
 * are no-ops that load nothing: job_free() releases its NULL slot and event
 * source at every step. If a library cannot be loaded, the calls fail
 * (-EOPNOTSUPP, NULL) after one logged error, as a missing service would. */
#include <dlfcn.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-journal.h>

#include "log.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

typedef struct LazyLib {
        const char *soname;
        pthread_once_t once;
        void *handle;
} LazyLib;

static LazyLib lib_systemd = { "libsystemd.so.0", PTHREAD_ONCE_INIT, NULL };
static LazyLib lib_crypto = { "libcrypto.so." STRINGIFY(OPENSSL_SHLIB_VERSION), PTHREAD_ONCE_INIT, NULL };

static void load_systemd(void) {
        lib_systemd.handle = dlopen(lib_systemd.soname, RTLD_NOW | RTLD_LOCAL);
        if (!lib_systemd.handle)
                log_error("Cannot load %s: %s", lib_systemd.soname, dlerror());
}

static void load_crypto(void) {
        lib_crypto.handle = dlopen(lib_crypto.soname, RTLD_NOW | RTLD_LOCAL);
        if (!lib_crypto.handle)
                log_error("Cannot load %s: %s", lib_crypto.soname, dlerror());
}

static void *lazy_sym(LazyLib *l, void (*load)(void), const char *name) {
        void *p;

        (void) pthread_once(&l->once, load);
        if (!l->handle)
                return NULL;
        p = dlsym(l->handle, name);
        if (!p)
                log_error("%s has no %s: %s", l->soname, name, dlerror());
        return p;
}

static bool loaded(LazyLib *l) {
        return __atomic_load_n(&l->handle, __ATOMIC_ACQUIRE) != NULL;
}

/* The library's function of that name, with the type its header declares;
 * looked up once. */
#define SD_FN(name)                           \
        static __typeof__(&name) name##_real; \
        if (!name##_real)                     \
                name##_real = (__typeof__(&name)) lazy_sym(&lib_systemd, load_systemd, #name);
#define CRYPTO_FN(name)                       \
        static __typeof__(&name) name##_real; \
        if (!name##_real)                     \
                name##_real = (__typeof__(&name)) lazy_sym(&lib_crypto, load_crypto, #name);

/* ---- libsystemd: sd-bus (unit-control.c, utf8.c), sd-journal (log.c) ---- */

int sd_bus_open_system(sd_bus **ret) {
        SD_FN(sd_bus_open_system);
        return sd_bus_open_system_real ? sd_bus_open_system_real(ret) : -EOPNOTSUPP;
}

sd_bus *sd_bus_flush_close_unref(sd_bus *bus) {
        if (!bus || !loaded(&lib_systemd))
                return NULL;
        SD_FN(sd_bus_flush_close_unref);
        return sd_bus_flush_close_unref_real ? sd_bus_flush_close_unref_real(bus) : NULL;
}

int sd_bus_call(sd_bus *bus, sd_bus_message *m, uint64_t usec, sd_bus_error *ret_error, sd_bus_message **reply) {
        SD_FN(sd_bus_call);
        return sd_bus_call_real ? sd_bus_call_real(bus, m, usec, ret_error, reply) : -EOPNOTSUPP;
}

int sd_bus_call_method(sd_bus *bus, const char *destination, const char *path, const char *interface, const char *member,
                       sd_bus_error *ret_error, sd_bus_message **reply, const char *types, ...) {
        SD_FN(sd_bus_call_methodv);
        va_list ap;
        int r;

        if (!sd_bus_call_methodv_real)
                return -EOPNOTSUPP;
        va_start(ap, types);
        r = sd_bus_call_methodv_real(bus, destination, path, interface, member, ret_error, reply, types, ap);
        va_end(ap);
        return r;
}

int sd_bus_get_property_string(sd_bus *bus, const char *destination, const char *path, const char *interface, const char *member,
                               sd_bus_error *ret_error, char **ret) {
        SD_FN(sd_bus_get_property_string);
        return sd_bus_get_property_string_real ?
                sd_bus_get_property_string_real(bus, destination, path, interface, member, ret_error, ret) :
                -EOPNOTSUPP;
}

int sd_bus_match_signal(sd_bus *bus, sd_bus_slot **ret, const char *sender, const char *path, const char *interface,
                        const char *member, sd_bus_message_handler_t callback, void *userdata) {
        SD_FN(sd_bus_match_signal);
        return sd_bus_match_signal_real ? sd_bus_match_signal_real(bus, ret, sender, path, interface, member, callback, userdata) :
                                          -EOPNOTSUPP;
}

int sd_bus_process(sd_bus *bus, sd_bus_message **r) {
        SD_FN(sd_bus_process);
        return sd_bus_process_real ? sd_bus_process_real(bus, r) : -EOPNOTSUPP;
}

int sd_bus_wait(sd_bus *bus, uint64_t timeout_usec) {
        SD_FN(sd_bus_wait);
        return sd_bus_wait_real ? sd_bus_wait_real(bus, timeout_usec) : -EOPNOTSUPP;
}

sd_bus_slot *sd_bus_slot_unref(sd_bus_slot *slot) {
        if (!slot || !loaded(&lib_systemd))
                return NULL;
        SD_FN(sd_bus_slot_unref);
        return sd_bus_slot_unref_real ? sd_bus_slot_unref_real(slot) : NULL;
}

int sd_bus_message_new_method_call(sd_bus *bus, sd_bus_message **m, const char *destination, const char *path,
                                   const char *interface, const char *member) {
        SD_FN(sd_bus_message_new_method_call);
        return sd_bus_message_new_method_call_real ?
                sd_bus_message_new_method_call_real(bus, m, destination, path, interface, member) :
                -EOPNOTSUPP;
}

sd_bus_message *sd_bus_message_unref(sd_bus_message *m) {
        if (!m || !loaded(&lib_systemd))
                return NULL;
        SD_FN(sd_bus_message_unref);
        return sd_bus_message_unref_real ? sd_bus_message_unref_real(m) : NULL;
}

int sd_bus_message_append(sd_bus_message *m, const char *types, ...) {
        SD_FN(sd_bus_message_appendv);
        va_list ap;
        int r;

        if (!sd_bus_message_appendv_real)
                return -EOPNOTSUPP;
        va_start(ap, types);
        r = sd_bus_message_appendv_real(m, types, ap);
        va_end(ap);
        return r;
}

int sd_bus_message_append_basic(sd_bus_message *m, char type, const void *p) {
        SD_FN(sd_bus_message_append_basic);
        return sd_bus_message_append_basic_real ? sd_bus_message_append_basic_real(m, type, p) : -EOPNOTSUPP;
}

int sd_bus_message_append_strv(sd_bus_message *m, char **l) {
        SD_FN(sd_bus_message_append_strv);
        return sd_bus_message_append_strv_real ? sd_bus_message_append_strv_real(m, l) : -EOPNOTSUPP;
}

int sd_bus_message_read(sd_bus_message *m, const char *types, ...) {
        SD_FN(sd_bus_message_readv);
        va_list ap;
        int r;

        if (!sd_bus_message_readv_real)
                return -EOPNOTSUPP;
        va_start(ap, types);
        r = sd_bus_message_readv_real(m, types, ap);
        va_end(ap);
        return r;
}

/* An error the library never filled in holds no allocation (_need_free 0). */
void sd_bus_error_free(sd_bus_error *e) {
        if (!e)
                return;
        if (!loaded(&lib_systemd)) {
                *e = SD_BUS_ERROR_NULL;
                return;
        }
        SD_FN(sd_bus_error_free);
        if (sd_bus_error_free_real)
                sd_bus_error_free_real(e);
}

/* A comparison of names: no need to load anything. */
int sd_bus_error_has_name(const sd_bus_error *e, const char *name) {
        return e && e->name && name && strcmp(e->name, name) == 0;
}

/* Variadic, NULL-terminated: the library has no va_list variant. */
int sd_bus_error_has_names_sentinel(const sd_bus_error *e, ...) {
        const char *name;
        va_list ap;
        int r = 0;

        va_start(ap, e);
        while ((name = va_arg(ap, const char *)))
                if (sd_bus_error_has_name(e, name)) {
                        r = 1;
                        break;
                }
        va_end(ap);
        return r;
}

sd_event_source *sd_event_source_disable_unref(sd_event_source *s) {
        if (!s || !loaded(&lib_systemd))
                return NULL;
        SD_FN(sd_event_source_disable_unref);
        return sd_event_source_disable_unref_real ? sd_event_source_disable_unref_real(s) : NULL;
}

int sd_journal_sendv_with_location(const char *file, const char *line, const char *func, const struct iovec *iov, int n) {
        SD_FN(sd_journal_sendv_with_location);
        return sd_journal_sendv_with_location_real ? sd_journal_sendv_with_location_real(file, line, func, iov, n) : -EOPNOTSUPP;
}

/* ---- libcrypto: SHA-256 of an artifact (steps.c) ---- */

const EVP_MD *EVP_sha256(void) {
        CRYPTO_FN(EVP_sha256);
        return EVP_sha256_real ? EVP_sha256_real() : NULL;
}

EVP_MD_CTX *EVP_MD_CTX_new(void) {
        CRYPTO_FN(EVP_MD_CTX_new);
        return EVP_MD_CTX_new_real ? EVP_MD_CTX_new_real() : NULL;
}

void EVP_MD_CTX_free(EVP_MD_CTX *ctx) {
        if (!ctx || !loaded(&lib_crypto))
                return;
        CRYPTO_FN(EVP_MD_CTX_free);
        if (EVP_MD_CTX_free_real)
                EVP_MD_CTX_free_real(ctx);
}

int EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl) {
        CRYPTO_FN(EVP_DigestInit_ex);
        return EVP_DigestInit_ex_real ? EVP_DigestInit_ex_real(ctx, type, impl) : 0;
}

int EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt) {
        CRYPTO_FN(EVP_DigestUpdate);
        return EVP_DigestUpdate_real ? EVP_DigestUpdate_real(ctx, d, cnt) : 0;
}

int EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s) {
        CRYPTO_FN(EVP_DigestFinal_ex);
        return EVP_DigestFinal_ex_real ? EVP_DigestFinal_ex_real(ctx, md, s) : 0;
}
