/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "configuration.h"
#include "job.h"
#include "plugin-loader.h"

/* The steps of a job, run by avmigrate-worker (worker-main.c) with the job
 * as job.json holds it and the job's two plugins loaded. Messages go to fd
 * (worker-proto.h). Every step starts with its check, so running it again
 * after a crash never applies it twice. 0 or -errno. */
/* all_blockers: the readiness census (a dry run's preflight only): every
 * independent refusal is sent as DATA {"blockers": [{errno, message}]}
 * before the step fails with the first. */
int steps_run(int fd, Job *j, const AvmConfig *cfg, ProductSet *products, bool all_blockers);
int steps_rollback(int fd, Job *j, const AvmConfig *cfg, ProductSet *products);
/* Start-up after a crash inside a gap: restore protection first (handover.h). */
int steps_restore(int fd, Job *j, const AvmConfig *cfg, ProductSet *products);
