/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "job.h"

/* The JSON report of a job (GetReport, history): the job state plus a
 * summary that classifies every continuity sample as protected, unprotected
 * inside a measured gap, or unprotected outside one (an invariant breach). */
json_object *report_build(const Job *j);
/* true if the sample's time range overlaps a measured gap. */
bool report_sample_in_gap(const Job *j, json_object *sample);
