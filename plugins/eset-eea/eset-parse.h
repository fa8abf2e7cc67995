/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Parsers for ESET Endpoint Antivirus tool output (upd, odscan, lslog, cfg).
 * No I/O: unit tests link this alone. */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define ESET_OUTPUT_MAX (64 * 1024)

enum {
        ESET_ODSCAN_CLEAN = 0,
        ESET_ODSCAN_CLEANED = 1,
        ESET_ODSCAN_INCOMPLETE = 10,
        ESET_ODSCAN_THREAT = 50,
        ESET_ODSCAN_ERROR = 100,
};

/* "/opt/eset/eea/bin/upd (eea) 12.0.13.0" → "12.0.13.0" */
int eset_parse_upd_version(const char *out, size_t size, char *buf, size_t buf_size);
/* `upd --list-modules`: date of "EM002 <ver> (<YYYYMMDD>) Detection engine" as UTC midnight. */
int eset_parse_engine_date(const char *out, size_t size, time_t *ret);
/* odscan's JSON line {"type":0,"session_id":N,"log_name":"…"} → log_name */
int eset_parse_odscan(const char *out, size_t size, char *log_name, size_t log_name_size);
/* `lslog --ods-details=…`: "Detections occurred: N" and the first threat name. */
int eset_parse_lslog(const char *out, size_t size, unsigned *ret_detections, char *threat, size_t threat_size);
/* "Real-time file system protection: enabled|disabled" → 1/0 */
int eset_parse_rtp_status(const char *out, size_t size);
const char *eset_odscan_exit_message(int code);
