/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the person at the desktop is told: the text of the one notification,
 * computed from the daemon's state alone (no bus, no I/O), in the language
 * of the current LC_MESSAGES. */

typedef enum NoticeKind {
        NOTICE_NONE,      /* nothing to say (idle, or an old result) */
        NOTICE_PLANNED,   /* pending or scheduled; may be postponed */
        NOTICE_RUNNING,   /* keep the computer on */
        NOTICE_PAUSED,    /* paused by the administrator */
        NOTICE_COMPLETED, /* replaced, protected by the new product */
        NOTICE_FAILED,    /* failed or rolled back: still protected, whom to contact */
        _NOTICE_KIND_MAX,
        _NOTICE_KEEP = -1, /* the agent's: leave what is shown as it is */
} NoticeKind;

typedef struct NoticeInput {
        NoticeKind kind;
        const char *old_name;        /* product being replaced; "" when unknown */
        const char *new_name;        /* the replacement; "" when unknown */
        const char *protecting_name; /* a product whose real-time protection is on; "" */
        bool protected_;             /* the daemon's Protected */
        uint64_t scheduled_at;       /* CLOCK_REALTIME µs, 0 when not scheduled */
        unsigned deferrals_left;
        uint64_t postpone_usec;     /* what the Postpone action asks for */
        uint64_t postponed_until;   /* CLOCK_REALTIME µs of our last Postpone, 0 */
        const char *postpone_error; /* why our last Postpone failed, "" */
        const char *contact;        /* whom to contact, "" when not configured */
        bool server_has_actions;    /* the server announced "actions" */
} NoticeInput;

#define NOTICE_ACTION_POSTPONE "postpone"

typedef struct Notice {
        NoticeKind kind;
        char summary[256];
        char body[2048];
        uint8_t urgency; /* 0 low, 1 normal, 2 critical */
        bool postpone_action;
        char postpone_label[128];
} Notice;

void notice_render(const NoticeInput *in, Notice *ret);

/* "2h", "30min", "1d", "90s": what `avmigratectl postpone` accepts. */
void format_cli_duration(char *buf, size_t size, uint64_t usec);
/* "2 hours", "2 uur": for people. */
void format_span(char *buf, size_t size, uint64_t usec);

/* Escapes &, < and > for servers that announce "body-markup". When buf is
 * too small the result is cut short, never inside an entity. */
void notice_escape_markup(const char *s, char *buf, size_t size);
