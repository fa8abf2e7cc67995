/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "job.h"

/* $STATE_DIRECTORY/job.json: the job in progress, replaced atomically before
 * and after every step. */

int state_save_job(const Job *j);
/* Loads job.json into a new Job. Returns 0 and *ret = NULL if there is none;
 * a corrupt file is moved aside (job.json.corrupt-<time>), reported, and
 * treated as none. */
int state_load_job(Manager *m, Job **ret, char *corrupt_path, size_t corrupt_size);
/* The worker's read of a job file (path NULL: job.json): never moves or
 * changes anything. -ENOENT none, -EBADMSG corrupt (why says how). */
int state_read_job(const char *path, Job **ret, char *why, size_t why_size);
int state_remove_job(void);
/* Serialises the job as the report (also the history record). */
json_object *job_to_json(const Job *j);
int job_from_json(Job *j, json_object *o, char *why, size_t why_size);
