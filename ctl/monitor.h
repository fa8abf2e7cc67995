/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What 'avmigratectl monitor' prints for each signal: a line with a time
 * stamp, or with --json one compact JSON object per line. */

#include <stdint.h>

#include <json-c/json.h>

int monitor_step_started(uint64_t id, const char *step, uint32_t idx, uint32_t count);
int monitor_step_finished(uint64_t id, const char *step, const char *result);
int monitor_job_removed(uint64_t id, const char *path, const char *result);
int monitor_properties_changed(json_object *changed, json_object *invalidated);
int monitor_name_owner_changed(const char *old_owner, const char *new_owner);
