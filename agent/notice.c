/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "i18n.h"
#include "notice.h"
#include "util.h"

#define SEC_PER_MIN UINT64_C(60)
#define SEC_PER_HOUR UINT64_C(3600)
#define SEC_PER_DAY UINT64_C(86400)

/* Appends a sentence (with a space between sentences), truncating safely. */
__attribute__((format(printf, 3, 4))) static void append(char *buf, size_t size, const char *format, ...) {
        size_t n = strnlen(buf, size);
        va_list ap;

        if (n + 2 >= size)
                return;
        if (n > 0) {
                buf[n++] = ' ';
                buf[n] = 0;
        }
        va_start(ap, format);
        vsnprintf(buf + n, size - n, format, ap);
        va_end(ap);
}

void format_cli_duration(char *buf, size_t size, uint64_t usec) {
        uint64_t s = usec / USEC_PER_SEC;

        if (s > 0 && s % SEC_PER_DAY == 0)
                snprintf(buf, size, "%" PRIu64 "d", s / SEC_PER_DAY);
        else if (s > 0 && s % SEC_PER_HOUR == 0)
                snprintf(buf, size, "%" PRIu64 "h", s / SEC_PER_HOUR);
        else if (s > 0 && s % SEC_PER_MIN == 0)
                snprintf(buf, size, "%" PRIu64 "min", s / SEC_PER_MIN);
        else
                snprintf(buf, size, "%" PRIu64 "s", s);
}

void format_span(char *buf, size_t size, uint64_t usec) {
        uint64_t s = usec / USEC_PER_SEC;
        unsigned long n;

        if (s > 0 && s % SEC_PER_DAY == 0) {
                n = (unsigned long) (s / SEC_PER_DAY);
                snprintf(buf, size, ngettext("%lu day", "%lu days", n), n);
        } else if (s > 0 && s % SEC_PER_HOUR == 0) {
                n = (unsigned long) (s / SEC_PER_HOUR);
                snprintf(buf, size, ngettext("%lu hour", "%lu hours", n), n);
        } else if (s > 0 && s % SEC_PER_MIN == 0) {
                n = (unsigned long) (s / SEC_PER_MIN);
                snprintf(buf, size, ngettext("%lu minute", "%lu minutes", n), n);
        } else {
                n = (unsigned long) s;
                snprintf(buf, size, ngettext("%lu second", "%lu seconds", n), n);
        }
}

/* A local date and time for people, in the session's language. */
static void format_when(char *buf, size_t size, uint64_t realtime_usec) {
        time_t t = (time_t) (realtime_usec / USEC_PER_SEC);
        struct tm tm;

        /* TRANSLATORS: strftime(3) format of a date and time in a sentence,
         * e.g. "Tuesday 3 December at 18:00". */
        if (!localtime_r(&t, &tm) || strftime(buf, size, _("%A %-d %B at %H:%M"), &tm) == 0)
                snprintf(buf, size, "%" PRIu64, realtime_usec / USEC_PER_SEC);
}

static void protection_sentence(const NoticeInput *in, char *body, size_t size, bool still) {
        if (!in->protected_)
                return;
        if (!isempty(in->protecting_name))
                append(body, size, still ? _("Your computer is still protected by %s.") : _("Your computer is protected by %s."),
                       in->protecting_name);
        else
                append(body, size, "%s", still ? _("Your computer is still protected.") : _("Your computer is protected."));
}

void notice_render(const NoticeInput *in, Notice *ret) {
        const char *old_name = !isempty(in->old_name) ? in->old_name : _("the current antivirus program");
        const char *new_name = !isempty(in->new_name) ? in->new_name : _("the new antivirus program");
        const char *contact = !isempty(in->contact) ? in->contact : _("your IT department");
        char *body = ret->body;
        size_t size = sizeof(ret->body);
        char span[64], when[128], cli[32];

        *ret = (Notice){ .kind = in->kind, .urgency = 1 };

        switch (in->kind) {
        case NOTICE_PLANNED:
                snprintf(ret->summary, sizeof(ret->summary), "%s", _("Your antivirus program will be replaced"));
                if (in->scheduled_at > 0) {
                        format_when(when, sizeof(when), in->scheduled_at);
                        /* TRANSLATORS: 1: date and time, 2: old product, 3: new product. */
                        append(body, size, _("On %1$s, %2$s on this computer will be replaced by %3$s."), when, old_name, new_name);
                } else
                        append(body, size, _("On this computer, %s will soon be replaced by %s."), old_name, new_name);
                append(body, size, "%s", _("Your computer stays protected throughout, and you can keep working."));
                if (in->postponed_until > 0) {
                        format_when(when, sizeof(when), in->postponed_until);
                        append(body, size, _("Postponed until %s."), when);
                }
                if (in->deferrals_left > 0) {
                        format_span(span, sizeof(span), in->postpone_usec);
                        append(body, size,
                               ngettext("You can postpone it %u more time.", "You can postpone it %u more times.",
                                        in->deferrals_left),
                               in->deferrals_left);
                        if (in->server_has_actions) {
                                ret->postpone_action = true;
                                /* TRANSLATORS: a button; %s is a duration, e.g. "2 hours". */
                                snprintf(ret->postpone_label, sizeof(ret->postpone_label), _("Postpone %s"), span);
                        } else {
                                format_cli_duration(cli, sizeof(cli), in->postpone_usec);
                                /* TRANSLATORS: 1: a duration, e.g. "2 hours"; 2: the same for the command, e.g. "2h". */
                                append(body, size, _("To postpone it by %1$s, run: avmigratectl postpone %2$s"), span, cli);
                        }
                }
                if (!isempty(in->postpone_error))
                        append(body, size, _("Postponing did not succeed: %s"), in->postpone_error);
                break;

        case NOTICE_RUNNING:
                snprintf(ret->summary, sizeof(ret->summary), "%s", _("Your antivirus program is being replaced"));
                append(body, size, _("On this computer, %s is now being replaced by %s."), old_name, new_name);
                append(body, size, "%s", _("Please keep your computer switched on until this is finished. You can keep working."));
                ret->urgency = 2;
                break;

        case NOTICE_PAUSED:
                snprintf(ret->summary, sizeof(ret->summary), "%s", _("The replacement of your antivirus program is paused"));
                protection_sentence(in, body, size, false);
                append(body, size, "%s", _("The replacement will continue later. You do not need to do anything."));
                break;

        case NOTICE_COMPLETED:
                snprintf(ret->summary, sizeof(ret->summary), "%s", _("Your antivirus program has been replaced"));
                if (in->protected_) {
                        append(body, size, _("Your computer is now protected by %s; %s has been removed."),
                               !isempty(in->protecting_name) ? in->protecting_name : new_name, old_name);
                        append(body, size, "%s", _("You do not need to do anything."));
                } else
                        append(body, size, _("Installed: %s. Its protection is still being checked."), new_name);
                break;

        case NOTICE_FAILED:
                snprintf(ret->summary, sizeof(ret->summary), "%s", _("Your antivirus program could not be replaced"));
                if (in->protected_) {
                        protection_sentence(in, body, size, true);
                        append(body, size, "%s", _("You can keep working."));
                        append(body, size, _("If you have questions, please contact %s."), contact);
                } else {
                        append(body, size, "%s", _("Your computer may not be protected at the moment."));
                        append(body, size, _("Please contact %s straight away."), contact);
                        ret->urgency = 2;
                }
                break;

        default:
                break;
        }
}

void notice_escape_markup(const char *s, char *buf, size_t size) {
        size_t n = 0;

        if (size == 0)
                return;
        for (; *s; s++) {
                const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
                size_t l = e ? strlen(e) : 1;

                if (n + l >= size)
                        break;
                if (e)
                        memcpy(buf + n, e, l);
                else
                        buf[n] = *s;
                n += l;
        }
        buf[n] = 0;
}
