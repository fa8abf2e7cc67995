/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A stand-in for daemon/worker.c in the engine's unit tests: worker_start()
 * records the command instead of running avmigrate-worker, and the test
 * decides each outcome. Commands can also be answered automatically (the
 * start-up restore runs its worker to completion inside sd_event_run()). */

#include <json-c/json.h>
#include <stdbool.h>

#include "worker.h"

/* The live worker running COMMAND (args[0]), or NULL. */
Worker *fake_worker_find(const char *command);
const char *fake_worker_arg(Worker *w, unsigned i);
bool fake_worker_stopped(Worker *w);
/* Sends KEY=VALUE as the worker would (EVENT, PROGRESS, STATUS). */
void fake_worker_message(Worker *w, const char *key, const char *value);
/* Ends the worker: error 0 or -errno, data a JSON text or NULL. */
void fake_worker_finish(Worker *w, int error, const char *message, const char *data);
/* Answers every later start of COMMAND at once (from a defer source). */
void fake_worker_auto(const char *command, int error, const char *data);
unsigned fake_worker_started(const char *command);
