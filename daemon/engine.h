/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

/* The migration engine: runs a job's steps one worker at a time, persists the
 * job before and after each, rolls back on failure, and finishes every job
 * with JobRemoved. */

int engine_start(Manager *m, ProductInfo *from, ProductInfo *to, bool force, bool dry_run, Job **ret);
/* Continues a job loaded from job.json after a restart. */
/* At start-up, before detection and the bus name: if job.json or gap.json
 * shows an open protection gap, makes some product protect (a restore
 * worker, run to completion) and closes the window. j may be NULL. */
int engine_restore_first(Manager *m, Job *j);
void engine_resume_after_restart(Manager *m, Job *j);
int engine_pause(Manager *m, sd_bus_error *error);
int engine_resume(Manager *m, sd_bus_error *error);
int engine_cancel(Manager *m, Job *j, sd_bus_error *error);
/* Sets Progress, never lower than before within a job. */
void engine_set_progress(Job *j, unsigned percent);
