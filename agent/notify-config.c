/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>

#include "config.h"
#include "log.h"
#include "notify-config.h"
#include "util.h"

#define POSTPONE_MAX_USEC (7u * 24u * 3600u * USEC_PER_SEC)

typedef struct ParseContext {
        NotifyConfig *config;
        char lang[16];    /* "nl" */
        char country[16]; /* "nl_NL" */
        char message[256];
} ParseContext;

void notify_config_init(NotifyConfig *c) {
        *c = (NotifyConfig){
                .postpone_usec = NOTIFY_POSTPONE_DEFAULT_USEC,
        };
}

/* "nl_NL.UTF-8@euro" → lang "nl", country "nl_NL"; "C"/"POSIX" → both "". */
static void split_locale(const char *locale, char *lang, size_t lang_size, char *country, size_t country_size) {
        size_t n;

        lang[0] = country[0] = 0;
        if (isempty(locale) || streq(locale, "C") || streq(locale, "POSIX") || strncmp(locale, "C.", 2) == 0)
                return;
        n = strcspn(locale, "_.@");
        if (n == 0 || n >= lang_size)
                return;
        snprintf(lang, lang_size, "%.*s", (int) n, locale);
        if (locale[n] == '_') {
                size_t m = n + 1 + strcspn(locale + n + 1, ".@");
                if (m < country_size)
                        snprintf(country, country_size, "%.*s", (int) m, locale);
        }
}

static int contact_rank(const ParseContext *ctx, const char *key) {
        const char *open = strchr(key, '['), *close = strchr(key, ']');
        size_t n;

        if (streq(key, "Contact"))
                return 1;
        /* Contact[ll] or Contact[ll_CC]: "[" right after the name, "]" last. */
        if (!open || open - key != 7 || strncmp(key, "Contact", 7) != 0 || !close || close[1] != 0 || close < open + 2)
                return -1;
        n = (size_t) (close - open - 1);
        if (ctx->country[0] && strlen(ctx->country) == n && strncmp(open + 1, ctx->country, n) == 0)
                return 3;
        if (ctx->lang[0] && strlen(ctx->lang) == n && strncmp(open + 1, ctx->lang, n) == 0)
                return 2;
        return 0; /* another language: valid, not ours */
}

static int handler(void *user, const char *section, const char *name, const char *value) {
        ParseContext *ctx = user;
        NotifyConfig *c = ctx->config;
        int rank;

        if (!streq(section, "Notify")) {
                snprintf(ctx->message, sizeof(ctx->message),
                         !section[0] ? "assignment outside of a section%s" : "unknown section [%.64s] (expected [Notify])",
                         section);
                return 0;
        }

        rank = contact_rank(ctx, name);
        if (rank >= 0) {
                if (strlen(value) >= sizeof(c->contact)) {
                        snprintf(ctx->message, sizeof(ctx->message), "%.64s=: longer than %u bytes", name, NOTIFY_CONTACT_MAX - 1);
                        return 0;
                }
                if (rank > 0 && rank >= c->contact_rank) {
                        snprintf(c->contact, sizeof(c->contact), "%s", value);
                        c->contact_rank = rank;
                }
                return 1;
        }

        if (streq(name, "PostponeSec")) {
                uint64_t usec;
                if (parse_sec(value, &usec) < 0 || usec < USEC_PER_SEC || usec > POSTPONE_MAX_USEC) {
                        snprintf(ctx->message, sizeof(ctx->message), "PostponeSec=: expected 1..604800 seconds, got '%.64s'",
                                 value);
                        return 0;
                }
                c->postpone_usec = usec;
                return 1;
        }

        snprintf(ctx->message, sizeof(ctx->message), "unknown key '%.64s' in section [Notify]", name);
        return 0;
}

int notify_config_parse_file(NotifyConfig *c, const char *path, const char *lang, char *error, size_t error_size) {
        _cleanup_free_ char *data = NULL;
        ParseContext ctx = { .config = c };
        size_t size = 0;
        int r;

        error[0] = 0;
        split_locale(lang, ctx.lang, sizeof(ctx.lang), ctx.country, sizeof(ctx.country));

        r = read_file_bounded(path, NOTIFY_CONFIG_MAX_FILE_SIZE, &data, &size);
        if (r == -EFBIG) {
                snprintf(error, error_size, "%s: larger than %u bytes", path, NOTIFY_CONFIG_MAX_FILE_SIZE);
                return r;
        }
        if (r < 0) {
                snprintf(error, error_size, "%s: %s", path, strerror(-r));
                return r;
        }
        if (strlen(data) != size) {
                snprintf(error, error_size, "%s: contains NUL bytes", path);
                return -EBADMSG;
        }

        /* Valid assignments are kept even when another line is bad. */
        r = ini_parse_string(data, handler, &ctx);
        if (r != 0) {
                snprintf(error, error_size, "%s:%d: %s", path, r, ctx.message[0] ? ctx.message : "syntax error");
                return -EBADMSG;
        }
        return 0;
}

void notify_config_load(NotifyConfig *c, const char *lang) {
        char buf[PATH_MAX], path[PATH_MAX + 16], error[512];
        int r;

        notify_config_init(c);
        snprintf(path, sizeof(path), "%s/notify.conf", env_dir("CONFIGURATION_DIRECTORY", AVM_SYSCONF_DIR, buf, sizeof(buf)));
        r = notify_config_parse_file(c, path, lang, error, sizeof(error));
        if (r == -ENOENT)
                log_debug("No %s, using the defaults.", path);
        else if (r < 0)
                log_warning("Ignoring what could not be read: %s", error);
}
