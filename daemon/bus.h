/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* D-Bus surface: org.avmigrate.Migrate1.Manager and .Job. */
int bus_manager_setup(Manager *m);
int bus_job_add(Job *j);
void bus_job_remove(Job *j);
void bus_emit_step_started(Job *j, StepId s);
void bus_emit_step_finished(Job *j, StepId s, const char *result);
void bus_emit_job_removed(Job *j);
void bus_job_changed(Job *j);
