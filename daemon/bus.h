/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* D-Bus surface: org.avmigrate.Migrate1.Manager and .Job. The core never
 * calls into it: bus_manager_setup() registers the objects and the
 * ManagerObserver (manager.h) through which the core reports changes. */
int bus_manager_setup(Manager *m);
/* The Job objects (bus-job.c), used by the observer. */
int bus_job_add(Job *j);
void bus_job_remove(Job *j);
void bus_job_changed(Job *j);
/* Cancel of one job, shared by Manager.Cancel and Job.Cancel (polkit-checked). */
int bus_job_cancel(sd_bus_message *msg, Manager *m, uint64_t id);
