/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-id128.h>

/* Who a process is, beyond its pid: pids are reused, and files in
 * $STATE_DIRECTORY survive reboots. A process is the one recorded only if it
 * runs in the same boot and started at the same moment (the start time in
 * clock ticks since boot, /proc/PID/stat field 22). Nothing is ever signalled
 * on the strength of a pid alone. */

typedef struct ProcessId {
        pid_t pid;
        uint64_t start_time; /* clock ticks after boot */
        sd_id128_t boot_id;
} ProcessId;

/* The identity of a running process (pid 0: ourselves). */
int process_id_get(pid_t pid, ProcessId *ret);
/* "PID START-TIME BOOT-ID\n" */
int process_id_format(const ProcessId *id, char *buf, size_t size);
int process_id_parse(const char *s, ProcessId *ret);
/* True if the process recorded in id still runs (not a zombie) and is the
 * same process: same boot, same start time. */
bool process_id_alive(const ProcessId *id);

/* Records process pid in path (no fsync: after a power cut the boot id no
 * longer matches, so a lost record costs nothing). */
int process_id_record(const char *path, pid_t pid);
/* Reads a record; -ENOENT none, -EBADMSG unparsable (the file is left). */
int process_id_load(const char *path, ProcessId *ret);
