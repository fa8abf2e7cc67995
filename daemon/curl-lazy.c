/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* avmigrated needs libcurl only for the fleet (ManifestURL=, the manifest's
 * artifact, ReportUploadURL=), but linking it maps and relocates 28 more
 * shared objects at every start (nghttp2, ssh2, rtmp, ldap, krb5, gnutls…):
 * bench/run measured 9.3 MB RSS, 4.2 MB PSS and a start 2.9× the bare sd-bus
 * daemon's, on desktops that mostly have no fleet configured. These
 * definitions of the functions fleet/fetch.c calls load libcurl on the first
 * call (dlopen) and forward to it, as daemon/worker-lazy.c does for the
 * worker. Only avmigrated is built with this file; avmigrate-fleet and the
 * tests link libcurl as usual. The executable does not export them, so
 * libcurl's own calls stay inside libcurl.
 *
 * If libcurl cannot be loaded, every call fails (NULL, CURLE_FAILED_INIT,
 * CURLM_INTERNAL_ERROR) after one logged error: the fetch reports it and
 * changes nothing, as an unreachable server would. */
#define CURL_DISABLE_TYPECHECK 1 /* the functions, not the type-checking macros */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>

#include "log.h"

#define LIBCURL_SONAME "libcurl.so.4"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void *curl_handle;

static void load_curl(void) {
        curl_handle = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!curl_handle)
                log_error("Cannot load %s: %s", LIBCURL_SONAME, dlerror());
}

static void *curl_sym(const char *name) {
        void *p;

        (void) pthread_once(&curl_once, load_curl);
        if (!curl_handle)
                return NULL;
        p = dlsym(curl_handle, name);
        if (!p)
                log_error("%s has no %s: %s", LIBCURL_SONAME, name, dlerror());
        return p;
}

/* The library's function of that name, with its header's type; looked up once. */
#define CURL_FN(name)                         \
        static __typeof__(&name) name##_real; \
        if (!name##_real)                     \
                name##_real = (__typeof__(&name)) curl_sym(#name);

CURL *curl_easy_init(void) {
        CURL_FN(curl_easy_init);
        return curl_easy_init_real ? curl_easy_init_real() : NULL;
}

void curl_easy_cleanup(CURL *curl) {
        if (!curl)
                return;
        CURL_FN(curl_easy_cleanup);
        if (curl_easy_cleanup_real)
                curl_easy_cleanup_real(curl);
}

/* One argument of the type the option's number range says (curl.h: long,
 * object pointer, function pointer, curl_off_t, blob), read as libcurl
 * itself reads it. */
CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...) {
        CURL_FN(curl_easy_setopt);
        CURLcode r;
        va_list ap;

        if (!curl_easy_setopt_real)
                return CURLE_FAILED_INIT;
        va_start(ap, option);
        if (option < CURLOPTTYPE_OBJECTPOINT)
                r = curl_easy_setopt_real(curl, option, va_arg(ap, long));
        else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB)
                r = curl_easy_setopt_real(curl, option, va_arg(ap, curl_off_t));
        else
                r = curl_easy_setopt_real(curl, option, va_arg(ap, void *));
        va_end(ap);
        return r;
}

/* Every CURLINFO takes a pointer to where the value goes. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...) {
        CURL_FN(curl_easy_getinfo);
        CURLcode r;
        va_list ap;

        if (!curl_easy_getinfo_real)
                return CURLE_FAILED_INIT;
        va_start(ap, info);
        r = curl_easy_getinfo_real(curl, info, va_arg(ap, void *));
        va_end(ap);
        return r;
}

const char *curl_easy_strerror(CURLcode code) {
        CURL_FN(curl_easy_strerror);
        return curl_easy_strerror_real ? curl_easy_strerror_real(code) : "libcurl is not available";
}

void curl_free(void *p) {
        if (!p)
                return;
        CURL_FN(curl_free);
        if (curl_free_real)
                curl_free_real(p);
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *data) {
        CURL_FN(curl_slist_append);
        return curl_slist_append_real ? curl_slist_append_real(list, data) : NULL;
}

void curl_slist_free_all(struct curl_slist *list) {
        if (!list)
                return;
        CURL_FN(curl_slist_free_all);
        if (curl_slist_free_all_real)
                curl_slist_free_all_real(list);
}

CURLM *curl_multi_init(void) {
        CURL_FN(curl_multi_init);
        return curl_multi_init_real ? curl_multi_init_real() : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *multi) {
        if (!multi)
                return CURLM_OK;
        CURL_FN(curl_multi_cleanup);
        return curl_multi_cleanup_real ? curl_multi_cleanup_real(multi) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_add_handle(CURLM *multi, CURL *curl) {
        CURL_FN(curl_multi_add_handle);
        return curl_multi_add_handle_real ? curl_multi_add_handle_real(multi, curl) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM *multi, CURL *curl) {
        CURL_FN(curl_multi_remove_handle);
        return curl_multi_remove_handle_real ? curl_multi_remove_handle_real(multi, curl) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_assign(CURLM *multi, curl_socket_t s, void *p) {
        CURL_FN(curl_multi_assign);
        return curl_multi_assign_real ? curl_multi_assign_real(multi, s, p) : CURLM_INTERNAL_ERROR;
}

CURLMsg *curl_multi_info_read(CURLM *multi, int *left) {
        CURL_FN(curl_multi_info_read);
        return curl_multi_info_read_real ? curl_multi_info_read_real(multi, left) : NULL;
}

CURLMcode curl_multi_socket_action(CURLM *multi, curl_socket_t s, int ev_bitmask, int *running) {
        CURL_FN(curl_multi_socket_action);
        return curl_multi_socket_action_real ? curl_multi_socket_action_real(multi, s, ev_bitmask, running) : CURLM_INTERNAL_ERROR;
}

/* As curl_easy_setopt: long, object or function pointer, curl_off_t. */
CURLMcode curl_multi_setopt(CURLM *multi, CURLMoption option, ...) {
        CURL_FN(curl_multi_setopt);
        CURLMcode r;
        va_list ap;

        if (!curl_multi_setopt_real)
                return CURLM_INTERNAL_ERROR;
        va_start(ap, option);
        if (option < CURLOPTTYPE_OBJECTPOINT)
                r = curl_multi_setopt_real(multi, option, va_arg(ap, long));
        else if (option >= CURLOPTTYPE_OFF_T)
                r = curl_multi_setopt_real(multi, option, va_arg(ap, curl_off_t));
        else
                r = curl_multi_setopt_real(multi, option, va_arg(ap, void *));
        va_end(ap);
        return r;
}

CURLU *curl_url(void) {
        CURL_FN(curl_url);
        return curl_url_real ? curl_url_real() : NULL;
}

void curl_url_cleanup(CURLU *u) {
        if (!u)
                return;
        CURL_FN(curl_url_cleanup);
        if (curl_url_cleanup_real)
                curl_url_cleanup_real(u);
}

CURLUcode curl_url_get(CURLU *u, CURLUPart what, char **part, unsigned int flags) {
        CURL_FN(curl_url_get);
        return curl_url_get_real ? curl_url_get_real(u, what, part, flags) : CURLUE_OUT_OF_MEMORY;
}

CURLUcode curl_url_set(CURLU *u, CURLUPart what, const char *part, unsigned int flags) {
        CURL_FN(curl_url_set);
        return curl_url_set_real ? curl_url_set_real(u, what, part, flags) : CURLUE_OUT_OF_MEMORY;
}
