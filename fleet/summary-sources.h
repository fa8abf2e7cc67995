/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "summary.h"

/* The readiness census a desktop logs before its wave (to be added to
 * docs/avmigrate.catalog with the daemon's integration): AVMIGRATE_WAVE,
 * AVMIGRATE_STATE, AVMIGRATE_BLOCKERS. */
#define FLEET_MID_CENSUS "8df63d31d9074706a0027fedecea2ca7"

/* What the daemon logs and reports, folded into s. Unreadable records are
 * counted in s->skipped, not fatal; 0 or -errno (directory unreadable, OOM). */

/* A journal directory as systemd-journal-remote writes it (see
 * summary-journal.c for the MESSAGE_IDs and fields read). */
int summary_read_journal(Summary *s, const char *dir);

/* A directory of <anything>.json fleet reports (summary-reports.c). */
int summary_read_reports(Summary *s, const char *dir);
