/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The agent's own configuration: notify.conf in the configuration directory
 * ($CONFIGURATION_DIRECTORY, else /etc/avmigrate), read with libinih from a
 * bounded buffer. avmigrated rejects unknown sections in avmigrate.conf, so
 * the agent has its own file:
 *
 *   [Notify]
 *   Contact=the IT service desk, phone 070 123 4567
 *   Contact[nl]=de servicedesk ICT, telefoon 070 123 4567
 *   PostponeSec=7200
 *
 * Contact[LANG]= (ll or ll_CC, as in desktop entries) wins over Contact= when
 * the session's language matches. A missing file means the defaults; a
 * malformed one is reported (file and line) and the defaults are kept for
 * what could not be read, because a typo must not silence the agent. */

#define NOTIFY_CONFIG_MAX_FILE_SIZE (64u * 1024u)
#define NOTIFY_CONTACT_MAX 512u
#define NOTIFY_POSTPONE_DEFAULT_USEC (2u * 3600u * UINT64_C(1000000))

typedef struct NotifyConfig {
        char contact[NOTIFY_CONTACT_MAX]; /* "" when not configured */
        uint64_t postpone_usec;
        int contact_rank; /* 0 unset, 1 Contact=, 2 Contact[ll]=, 3 Contact[ll_CC]= */
} NotifyConfig;

void notify_config_init(NotifyConfig *c);

/* Parses one file on top of c. lang is the LC_MESSAGES locale ("nl_NL.UTF-8",
 * "C"...). Returns 0, -ENOENT when the file does not exist, or another
 * -errno; on a parse error puts "FILE:LINE: why" into error. */
int notify_config_parse_file(NotifyConfig *c, const char *path, const char *lang, char *error, size_t error_size);

/* Loads $CONFIGURATION_DIRECTORY/notify.conf (or /etc/avmigrate/notify.conf),
 * logging problems; never fails. */
void notify_config_load(NotifyConfig *c, const char *lang);
