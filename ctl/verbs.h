/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The commands of avmigratectl, one file each (verb-<name>.c). Each takes
 * its arguments with the verb as argv[0] and returns the exit code. */

#include <systemd/sd-bus.h>

int verb_status(sd_bus *bus, int argc, char **argv);
int verb_plan(sd_bus *bus, int argc, char **argv);
int verb_products(sd_bus *bus, int argc, char **argv);
int verb_start(sd_bus *bus, int argc, char **argv);
int verb_pause(sd_bus *bus, int argc, char **argv);
int verb_resume(sd_bus *bus, int argc, char **argv);
int verb_cancel(sd_bus *bus, int argc, char **argv);
int verb_refresh(sd_bus *bus, int argc, char **argv);
int verb_postpone(sd_bus *bus, int argc, char **argv);
int verb_report(sd_bus *bus, int argc, char **argv);
int verb_history(sd_bus *bus, int argc, char **argv);
int verb_monitor(sd_bus *bus, int argc, char **argv);
