/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* $STATE_DIRECTORY/history.jsonl: one report per finished job, append-only.
 * A torn last line (power loss mid-write) is skipped by readers. */

int history_append(json_object *report);
bool history_has(uint64_t id);
/* Full report of job id (0: most recent), or -ENOENT. */
int history_find(uint64_t id, json_object **ret);
/* Summaries of all jobs, oldest first. */
int history_list(json_object **ret);
uint64_t history_last_id(void);
