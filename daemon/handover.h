/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "ops.h"

/* Hands real-time protection from `from` to `to` (inside a worker).
 * overlap: enable new → verify → stop old (gap 0); otherwise stop old →
 * enable new → verify (gap measured on CLOCK_MONOTONIC). If the new product
 * does not verify, the old one is started and verified again before the
 * error is returned. DATA: {"order":…, "gap_usec":…}. */
int handover_run(OpContext *c, Product *from, Product *to, bool overlap);

/* Rollback to a protected state: old product protecting and the replacement
 * gone (if we installed it). If the old product cannot protect, the
 * replacement protects and stays. DATA: {"protected_by":…, "restored":bool}. */
int rollback_run(OpContext *c, Product *from, Product *to, bool overlap, bool uninstall_to);

/* Daemon start-up found an open gap window (a crash or power cut inside a
 * handover or rollback): makes some product protect, verified — the
 * replacement first when prefer_new, else the old one — and closes every
 * open window (EVENT gap-end). */
int restore_protection(OpContext *c, Product *from, Product *to, bool prefer_new);
