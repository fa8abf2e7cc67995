/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/uio.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "log.h"

static int max_level = LOG_INFO;
static bool prefix;
static bool journal;

void log_setup(void) {
        const char *l = getenv("AVMIGRATE_LOG_LEVEL");

        prefix = getenv("JOURNAL_STREAM") != NULL;
        journal = prefix;
        if (l && strcmp(l, "debug") == 0)
                max_level = LOG_DEBUG;
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_internal(int level, int error, const char *format, ...) {
        char buf[2048];
        va_list ap;

        if (error < 0)
                error = -error;
        if (level > max_level)
                return -error;

        errno = error;
        va_start(ap, format);
        vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);

        if (prefix)
                fprintf(stderr, "<%d>%s\n", level, buf);
        else
                fprintf(stderr, "%s[%d]: %s\n", program_invocation_short_name, (int) getpid(), buf);
        errno = error;
        return -error;
}

static void log_event_va(const char *message_id, int level, uint64_t job_id, const char *const *fields, const char *format,
                         va_list ap) __attribute__((format(printf, 5, 0)));

static void log_event_va(const char *message_id, int level, uint64_t job_id, const char *const *fields, const char *format,
                         va_list ap) {
        char buf[2048], mid[64], prio[32], job[64];
        struct iovec iov[5 + LOG_EVENT_MAX_FIELDS];
        size_t n = 0;

        vsnprintf(buf, sizeof(buf), format, ap);
        if (!journal) {
                /* No journal (a shell, the test environment): the fields
                 * follow the message, so nothing a central journal would
                 * get is lost from the log. */
                char extra[1024] = "";
                for (size_t i = 0; fields && fields[i] && i < LOG_EVENT_MAX_FIELDS; i++)
                        snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " %s", fields[i]);
                if (fields && fields[0])
                        log_internal(level, 0, "%s [MESSAGE_ID=%s%s]", buf, message_id, extra);
                else
                        log_internal(level, 0, "%s", buf);
                return;
        }
        snprintf(mid, sizeof(mid), "MESSAGE_ID=%s", message_id);
        snprintf(prio, sizeof(prio), "PRIORITY=%d", level);
        snprintf(job, sizeof(job), "AVMIGRATE_JOB_ID=%" PRIu64, job_id);
        {
                char msg[sizeof(buf) + 16];
                snprintf(msg, sizeof(msg), "MESSAGE=%s", buf);
                iov[n++] = (struct iovec){ msg, strlen(msg) };
                iov[n++] = (struct iovec){ mid, strlen(mid) };
                iov[n++] = (struct iovec){ prio, strlen(prio) };
                iov[n++] = (struct iovec){ job, strlen(job) };
                iov[n++] = (struct iovec){ (char *) "SYSLOG_IDENTIFIER=avmigrated", strlen("SYSLOG_IDENTIFIER=avmigrated") };
                for (size_t i = 0; fields && fields[i] && i < LOG_EVENT_MAX_FIELDS; i++)
                        iov[n++] = (struct iovec){ (char *) fields[i], strlen(fields[i]) };
                (void) sd_journal_sendv(iov, (int) n);
        }
}

void log_event(const char *message_id, int level, uint64_t job_id, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        log_event_va(message_id, level, job_id, NULL, format, ap);
        va_end(ap);
}

void log_event_fields(const char *message_id, int level, uint64_t job_id, const char *const *fields, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        log_event_va(message_id, level, job_id, fields, format, ap);
        va_end(ap);
}
