/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "config.h"
#include "fetch.h"
#include "reason.h"
#include "util.h"

#define STALL_SEC_DEFAULT 30
#define CONNECT_TIMEOUT_SEC_DEFAULT 30
#define REDIRECTS_MAX 5
#define HEADER_MAX 8192 /* one response header line; longer ones are not ours to read */

struct FleetFetch {
        sd_event *event;
        sd_event_source *timer;
        CURLM *multi;
        CURL *easy;
        struct curl_slist *headers;
        EVP_MD_CTX *md;
        FleetFetchOptions o; /* strings below are our copies */
        char *url, *ca_file, *client_cert, *client_key, *etag;
        char *put; /* our copy of put_data */
        size_t put_sent;
        uint8_t sha256[32];
        fleet_fetch_done_t done;
        void *userdata;
        FleetFetchResult result;
        size_t allocated;
        int error; /* set by the write callback when it aborts */
        char errbuf[CURL_ERROR_SIZE];
};

static void result_free(FleetFetchResult *r) {
        r->data = mfree(r->data);
}

FleetFetch *fleet_fetch_free(FleetFetch *f) {
        if (!f)
                return NULL;
        if (f->multi && f->easy)
                curl_multi_remove_handle(f->multi, f->easy);
        curl_easy_cleanup(f->easy);
        /* Removing the handle closed its sockets: the socket callback has
         * dropped their event sources already. */
        curl_multi_cleanup(f->multi);
        curl_slist_free_all(f->headers);
        sd_event_source_disable_unref(f->timer);
        sd_event_unref(f->event);
        EVP_MD_CTX_free(f->md);
        result_free(&f->result);
        free(f->url);
        free(f->ca_file);
        free(f->client_cert);
        free(f->client_key);
        free(f->etag);
        free(f->put);
        free(f);
        return NULL;
}

/* ---- body, headers ---- */

static int store(FleetFetch *f, const char *p, size_t n) {
        if (f->o.output_fd >= 0) {
                while (n > 0) {
                        ssize_t k = write(f->o.output_fd, p, n);

                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                return reason_set(f->result.reason, sizeof(f->result.reason), errno, "cannot write: %m");
                        p += k;
                        n -= (size_t) k;
                }
                return 0;
        }
        if (f->result.size + n + 1 > f->allocated) {
                size_t a = (f->result.size + n + 1) * 2;
                char *d;

                if (a > f->o.max_size + 1)
                        a = f->o.max_size + 1;
                d = realloc(f->result.data, a);
                if (!d)
                        return -ENOMEM;
                f->result.data = d;
                f->allocated = a;
        }
        memcpy(f->result.data + f->result.size, p, n);
        f->result.size += n;
        f->result.data[f->result.size] = 0;
        return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *userdata) {
        FleetFetch *f = userdata;
        size_t n = size * nmemb;
        int r;

        if (f->result.total + n > f->o.max_size) {
                f->error = reason_set(f->result.reason, sizeof(f->result.reason), EFBIG, "%s: more than the %llu bytes allowed",
                                      f->url, (unsigned long long) f->o.max_size);
                return 0; /* aborts the transfer */
        }
        r = store(f, p, n);
        if (r < 0) {
                f->error = r;
                return 0;
        }
        /* Hashed as it streams: the artifact is never read twice. */
        if (EVP_DigestUpdate(f->md, p, n) != 1) {
                f->error = -EIO;
                return 0;
        }
        f->result.total += n;
        return n;
}

static size_t on_put_read(char *p, size_t size, size_t nmemb, void *userdata) {
        FleetFetch *f = userdata;
        size_t n = f->o.put_size - f->put_sent;

        if (n > size * nmemb)
                n = size * nmemb;
        memcpy(p, f->put + f->put_sent, n);
        f->put_sent += n;
        return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *userdata) {
        FleetFetch *f = userdata;
        size_t n = size * nmemb, l;

        /* A new response (after a redirect) forgets the previous one's ETag. */
        if (n >= 5 && strncmp(p, "HTTP/", 5) == 0)
                f->result.etag[0] = 0;
        if (n > 5 && n < HEADER_MAX && strncasecmp(p, "ETag:", 5) == 0) {
                p += 5;
                n -= 5;
                while (n > 0 && (*p == ' ' || *p == '\t'))
                        p++, n--;
                l = n;
                while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == '\n' || p[l - 1] == ' '))
                        l--;
                if (l <= FLEET_ETAG_MAX) {
                        memcpy(f->result.etag, p, l);
                        f->result.etag[l] = 0;
                }
        }
        return size * nmemb;
}

/* ---- completion ---- */

static int map_curl_error(FleetFetch *f, CURLcode c) {
        char *reason = f->result.reason;
        size_t rs = sizeof(f->result.reason);
        const char *detail = f->errbuf[0] ? f->errbuf : curl_easy_strerror(c);

        if (f->error < 0)
                return f->error; /* ours, with its reason */
        switch (c) {
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
                return reason_set(reason, rs, EPERM, "%s: TLS verification failed: %s", f->url, detail);
        case CURLE_HTTP_RETURNED_ERROR:
                return reason_set(reason, rs, f->result.http_code == 404 || f->result.http_code == 410 ? ENOENT : EIO,
                                  "%s: HTTP %ld", f->url, f->result.http_code);
        case CURLE_FILESIZE_EXCEEDED:
                return reason_set(reason, rs, EFBIG, "%s: more than the %llu bytes allowed", f->url,
                                  (unsigned long long) f->o.max_size);
        case CURLE_OPERATION_TIMEDOUT:
                return reason_set(reason, rs, ETIMEDOUT, "%s: stalled or timed out: %s", f->url, detail);
        case CURLE_PARTIAL_FILE:
                return reason_set(reason, rs, EPIPE, "%s: transfer ended early after %llu bytes: %s", f->url,
                                  (unsigned long long) f->result.total, detail);
        case CURLE_RANGE_ERROR:
                return reason_set(reason, rs, ERANGE, "%s: the server cannot resume at byte %llu", f->url,
                                  (unsigned long long) f->o.resume_from);
        default:
                return reason_set(reason, rs, EIO, "%s: %s", f->url, detail);
        }
}

static int check_body(FleetFetch *f) {
        unsigned len = 0;

        if (EVP_DigestFinal_ex(f->md, f->result.sha256, &len) != 1)
                return -EIO;
        if (f->o.expected_size && f->result.total != f->o.expected_size)
                return reason_set(f->result.reason, sizeof(f->result.reason), EBADMSG, "%s: %llu bytes, expected %llu", f->url,
                                  (unsigned long long) f->result.total, (unsigned long long) f->o.expected_size);
        if (f->o.sha256 && memcmp(f->result.sha256, f->sha256, sizeof(f->sha256)) != 0)
                return reason_set(f->result.reason, sizeof(f->result.reason), EBADMSG, "%s: SHA-256 does not match the manifest",
                                  f->url);
        return 0;
}

static void finish(FleetFetch *f, CURLcode c) {
        int r = 0;

        (void) curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &f->result.http_code);
        sd_event_source_set_enabled(f->timer, SD_EVENT_OFF);
        if (c != CURLE_OK)
                r = map_curl_error(f, c);
        else if (f->result.http_code == 304)
                f->result.not_modified = true;
        else
                r = check_body(f);
        f->done(f, r, &f->result, f->userdata); /* may free f: nothing after this */
}

static void check_done(FleetFetch *f) {
        CURLMsg *msg;
        int left;

        while ((msg = curl_multi_info_read(f->multi, &left)))
                if (msg->msg == CURLMSG_DONE && msg->easy_handle == f->easy) {
                        finish(f, msg->data.result);
                        return;
                }
}

/* ---- sd-event glue (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION) ---- */

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        FleetFetch *f = userdata;
        int action = 0, running;

        if (revents & (EPOLLIN | EPOLLHUP))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;
        (void) curl_multi_socket_action(f->multi, fd, action, &running);
        check_done(f);
        return 0;
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
        FleetFetch *f = userp;
        sd_event_source *io = socketp;
        uint32_t events = 0;

        if (what == CURL_POLL_REMOVE) {
                sd_event_source_disable_unref(io);
                curl_multi_assign(f->multi, s, NULL);
                return 0;
        }
        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;
        if (io)
                return sd_event_source_set_io_events(io, events) < 0 ? -1 : 0;
        if (sd_event_add_io(f->event, &io, s, events, on_io, f) < 0)
                return -1;
        (void) sd_event_source_set_description(io, "fleet-fetch-io");
        return curl_multi_assign(f->multi, s, io) == CURLM_OK ? 0 : -1;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        FleetFetch *f = userdata;
        int running;

        (void) curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        check_done(f);
        return 0;
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *userp) {
        FleetFetch *f = userp;
        uint64_t now;

        if (timeout_ms < 0)
                return sd_event_source_set_enabled(f->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        if (sd_event_now(f->event, CLOCK_MONOTONIC, &now) < 0 ||
            sd_event_source_set_time(f->timer, now + (uint64_t) timeout_ms * USEC_PER_MSEC) < 0 ||
            sd_event_source_set_enabled(f->timer, SD_EVENT_ONESHOT) < 0)
                return -1;
        return 0;
}

/* ---- set-up ---- */

static int copy_options(FleetFetch *f, const FleetFetchOptions *o) {
        f->o = *o;
        f->url = strdup(o->url);
        f->ca_file = o->ca_file ? strdup(o->ca_file) : NULL;
        f->client_cert = o->client_cert ? strdup(o->client_cert) : NULL;
        f->client_key = o->client_key ? strdup(o->client_key) : NULL;
        f->etag = o->etag ? strdup(o->etag) : NULL;
        if (!f->url || (o->ca_file && !f->ca_file) || (o->client_cert && !f->client_cert) || (o->client_key && !f->client_key) ||
            (o->etag && !f->etag))
                return -ENOMEM;
        if (o->put_data) {
                f->put = malloc(o->put_size ?: 1);
                if (!f->put)
                        return -ENOMEM;
                memcpy(f->put, o->put_data, o->put_size);
        }
        f->o.put_data = NULL; /* f->put from now on */
        if (o->sha256)
                memcpy(f->sha256, o->sha256, sizeof(f->sha256));
        f->o.sha256 = o->sha256 ? f->sha256 : NULL;
        return 0;
}

/* The bytes we already have count for the hash, as if streamed now. */
static int seed_hash(FleetFetch *f) {
        char buf[64 * 1024];
        uint64_t off = 0;

        while (off < f->o.resume_from) {
                size_t want = f->o.resume_from - off < sizeof(buf) ? (size_t) (f->o.resume_from - off) : sizeof(buf);
                ssize_t k = pread(f->o.output_fd, buf, want, (off_t) off);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return reason_set(f->result.reason, sizeof(f->result.reason), k < 0 ? errno : EBADMSG,
                                          "cannot read the %llu bytes to resume from", (unsigned long long) f->o.resume_from);
                if (EVP_DigestUpdate(f->md, buf, (size_t) k) != 1)
                        return -EIO;
                off += (uint64_t) k;
        }
        f->result.total = off;
        return 0;
}

#define SETOPT(f, opt, val)                                            \
        do {                                                           \
                if (curl_easy_setopt((f)->easy, opt, val) != CURLE_OK) \
                        return -EIO;                                   \
        } while (0)

static int setup_easy(FleetFetch *f) {
        const FleetFetchOptions *o = &f->o;
        char h[FLEET_ETAG_MAX + 32];

        SETOPT(f, CURLOPT_URL, f->url);
        SETOPT(f, CURLOPT_PROTOCOLS_STR, "https");
        SETOPT(f, CURLOPT_REDIR_PROTOCOLS_STR, "https");
        SETOPT(f, CURLOPT_FOLLOWLOCATION, f->put ? 0L : 1L);
        SETOPT(f, CURLOPT_MAXREDIRS, (long) REDIRECTS_MAX);
        if (f->put) {
                SETOPT(f, CURLOPT_UPLOAD, 1L);
                SETOPT(f, CURLOPT_INFILESIZE_LARGE, (curl_off_t) o->put_size);
                SETOPT(f, CURLOPT_READFUNCTION, on_put_read);
                SETOPT(f, CURLOPT_READDATA, f);
        }
        SETOPT(f, CURLOPT_NOSIGNAL, 1L);
        SETOPT(f, CURLOPT_FAILONERROR, 1L); /* an error page is no manifest */
        SETOPT(f, CURLOPT_USERAGENT, "avmigrate/" PACKAGE_VERSION);
        SETOPT(f, CURLOPT_ERRORBUFFER, f->errbuf);
        SETOPT(f, CURLOPT_SSL_VERIFYPEER, 1L);
        SETOPT(f, CURLOPT_SSL_VERIFYHOST, 2L);
        if (f->ca_file)
                SETOPT(f, CURLOPT_CAINFO, f->ca_file);
        if (f->client_cert) {
                SETOPT(f, CURLOPT_SSLCERT, f->client_cert);
                SETOPT(f, CURLOPT_SSLKEY, f->client_key ?: f->client_cert);
        }
        SETOPT(f, CURLOPT_CONNECTTIMEOUT, (long) (o->connect_timeout_sec ?: CONNECT_TIMEOUT_SEC_DEFAULT));
        SETOPT(f, CURLOPT_LOW_SPEED_TIME, (long) (o->stall_sec ?: STALL_SEC_DEFAULT));
        SETOPT(f, CURLOPT_LOW_SPEED_LIMIT, (long) (o->stall_bytes_per_sec ?: 1));
        /* Refused early when Content-Length says so; on_body() enforces it anyway. */
        SETOPT(f, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) (o->max_size - o->resume_from));
        if (o->resume_from > 0)
                SETOPT(f, CURLOPT_RESUME_FROM_LARGE, (curl_off_t) o->resume_from);
        if (f->etag) {
                snprintf(h, sizeof(h), "If-None-Match: %s", f->etag);
                f->headers = curl_slist_append(NULL, h);
                if (!f->headers)
                        return -ENOMEM;
                SETOPT(f, CURLOPT_HTTPHEADER, f->headers);
        }
        SETOPT(f, CURLOPT_WRITEFUNCTION, on_body);
        SETOPT(f, CURLOPT_WRITEDATA, f);
        SETOPT(f, CURLOPT_HEADERFUNCTION, on_header);
        SETOPT(f, CURLOPT_HEADERDATA, f);
        return 0;
}

static int validate(const FleetFetchOptions *o) {
        if (!o || !o->url || strncmp(o->url, "https://", 8) != 0 || o->max_size == 0 || o->resume_from >= o->max_size ||
            (o->resume_from > 0 && o->output_fd < 0) || (o->etag && strlen(o->etag) > FLEET_ETAG_MAX) ||
            (o->client_key && !o->client_cert) || (o->put_data && (o->resume_from > 0 || o->etag || o->output_fd >= 0)))
                return -EINVAL;
        return 0;
}

int fleet_fetch_start(sd_event *e, const FleetFetchOptions *o, fleet_fetch_done_t done, void *userdata, FleetFetch **ret) {
        FleetFetch *f;
        int r;

        if (!e || !done || !ret || validate(o) < 0)
                return -EINVAL;
        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->event = sd_event_ref(e);
        f->done = done;
        f->userdata = userdata;
        r = copy_options(f, o);
        if (r >= 0)
                r = (f->md = EVP_MD_CTX_new()) && EVP_DigestInit_ex(f->md, EVP_sha256(), NULL) == 1 ? 0 : -ENOMEM;
        if (r >= 0 && o->resume_from > 0)
                r = seed_hash(f);
        if (r >= 0)
                r = (f->multi = curl_multi_init()) && (f->easy = curl_easy_init()) ? 0 : -ENOMEM;
        if (r >= 0)
                r = setup_easy(f);
        if (r >= 0)
                r = sd_event_add_time(e, &f->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_timer, f);
        if (r >= 0 &&
            (curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
             curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f) != CURLM_OK ||
             curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, on_timer_change) != CURLM_OK ||
             curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f) != CURLM_OK))
                r = -EIO;
        /* Adding the handle arms the timer; the transfer starts from the loop. */
        if (r >= 0 && curl_multi_add_handle(f->multi, f->easy) != CURLM_OK)
                r = -EIO;
        if (r < 0) {
                fleet_fetch_free(f);
                return r;
        }
        *ret = f;
        return 0;
}

typedef struct SyncState {
        int error;
        FleetFetchResult *ret;
        sd_event *event;
} SyncState;

static void on_sync_done(FleetFetch *f, int error, FleetFetchResult *result, void *userdata) {
        SyncState *st = userdata;

        *st->ret = *result;
        result->data = NULL; /* now the caller's */
        st->error = error;
        (void) sd_event_exit(st->event, 0);
}

int fleet_fetch(const FleetFetchOptions *o, FleetFetchResult *ret) {
        sd_event *e = NULL;
        FleetFetch *f = NULL;
        SyncState st = { .error = -EIO, .ret = ret };
        int r;

        *ret = (FleetFetchResult){};
        r = sd_event_new(&e);
        if (r < 0)
                return r;
        st.event = e;
        r = fleet_fetch_start(e, o, on_sync_done, &st, &f);
        if (r >= 0)
                r = sd_event_loop(e);
        fleet_fetch_free(f);
        sd_event_unref(e);
        return r < 0 ? r : st.error;
}
