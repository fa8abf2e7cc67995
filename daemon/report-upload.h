/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Report upload: every finished job's JSON report (report.c) is spooled
 * (report-spool.h) and PUT over HTTPS to <URL>/<machine-id>-<job id>.json on
 * any WebDAV-capable server (nginx "dav_methods PUT;"): the fleet manifest's
 * report.upload_url, else ReportUploadURL=. The server is verified against
 * ReportUploadCA= (else TrustedCA=, else the system's CAs); a client
 * certificate (ReportUploadClientCertificate=/ReportUploadClientKey=) gives
 * mTLS. One report at a time, oldest first, with libcurl on the event loop
 * (fleet/fetch.h, never blocking it); a spooled report is deleted only after
 * a 2xx. Failures are retried with exponential backoff from
 * ReportUploadRetrySec= up to ReportUploadRetryMaxSec=, with jitter so a
 * fleet coming back online does not arrive at once.
 */

#include <stdint.h>

#include "manager.h"

/* The delay before attempt failures+1: base·2^(failures-1) capped at max,
 * then "equal jitter": half of it fixed, half chosen by random. */
uint64_t report_upload_backoff(unsigned failures, uint64_t base_usec, uint64_t max_usec, uint64_t random);

int report_upload_setup(Manager *m);
/* Cancels a transfer in flight (its report stays spooled) and the retry timer. */
void report_upload_done(void);
