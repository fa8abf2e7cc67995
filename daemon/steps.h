/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "job.h"

/* Worker entry points (run in the child; userdata is the Job). Every step
 * starts with its check, so running it again after a crash never applies it
 * twice. */
int steps_run_child(int fd, void *userdata);
int steps_rollback_child(int fd, void *userdata);
/* Start-up after a crash inside a gap: restore protection first (handover.h). */
int steps_restore_child(int fd, void *userdata);
