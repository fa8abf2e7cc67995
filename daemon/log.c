/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
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

void log_event(const char *message_id, int level, uint64_t job_id, const char *format, ...) {
        char buf[2048];
        va_list ap;

        va_start(ap, format);
        vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);

        if (journal)
                (void) sd_journal_send("MESSAGE=%s", buf, "MESSAGE_ID=%s", message_id, "PRIORITY=%d", level,
                                       "AVMIGRATE_JOB_ID=%" PRIu64, job_id, "SYSLOG_IDENTIFIER=avmigrated", NULL);
        else
                log_internal(level, 0, "%s", buf);
}
