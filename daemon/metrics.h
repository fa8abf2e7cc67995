/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Prometheus metrics through node_exporter's textfile collector: the daemon
 * keeps avmigrate.prom in PrometheusTextfileDirectory= (Debian's
 * prometheus-node-exporter reads /var/lib/prometheus/node-exporter) up to
 * date, replaced atomically (node_exporter reads only *.prom, and the
 * temporary file is not one). Switched on by PrometheusTextfile=yes or by the
 * fleet manifest's "report": {"prometheus": true}. Written when a metric
 * changed, at most once a second: progress ticks change no metric.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manager.h"

#define METRICS_FILE "avmigrate.prom"
#define METRICS_TEXT_MAX 4096

typedef struct MetricsInput {
        const char *state; /* manager_state() */
        bool protected_;
        uint64_t last_gap_usec;
        unsigned deferrals_used, deferrals_left;
        bool have_manifest;
        uint64_t manifest_serial;
        const char *last_result; /* "" before the first job */
        uint64_t last_job_id;
        uint64_t last_finished_usec; /* CLOCK_REALTIME; 0: not known (finished before this start) */
} MetricsInput;

/* The exposition text (Prometheus text format 0.0.4, HELP and TYPE for every
 * family): the number of bytes written, or -ENOBUFS. */
int metrics_format(const MetricsInput *in, char *buf, size_t size);

/* Registers the observer; the file follows from the first change on. */
int metrics_setup(Manager *m);
/* Cancels a pending write (the file stays: node_exporter keeps serving the last state). */
void metrics_done(void);
