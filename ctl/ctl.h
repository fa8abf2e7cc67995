/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every part of avmigratectl shares: the exit codes and the command
 * line's options (set by parse_argv() in avmigratectl.c, read by the
 * verbs and the output). */

#include <stdbool.h>

enum {
        EXIT_OK = 0,
        EXIT_FAIL = 1,
        EXIT_NOTHING_TO_DO = 2,
};

extern bool arg_json;
extern bool arg_wait;
extern bool arg_force;
extern bool arg_dry_run;
extern bool arg_ask_password;
extern const char *arg_replacement;
