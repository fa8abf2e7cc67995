/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* The continuity monitor: while a job runs, samples every installed
 * product's real-time protection state (in a worker) every
 * MonitorIntervalSec, appends the samples to the job, and keeps the
 * Protected property current. Idle, it costs nothing. */
void monitor_start(Manager *m);
void monitor_stop(Manager *m);
/* Ends the measured "restart" gaps of a job at stop (CLOCK_MONOTONIC µs). */
