/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "plugin-loader.h"
#include "scope.h"

/* Plugin operations as the steps use them, inside a worker: each logs,
 * reports failures with the plugin's own explanation (ERRMSG) and records
 * timeline events (EVENT) on the worker socket fd. */

typedef struct OpContext {
        int fd; /* worker socket */
        const char *step;
        uint64_t verify_timeout_usec;
        const ScopeList *scope; /* roots the on-access probes cover; NULL: status only */
        bool all_blockers;      /* preflight of the readiness census: go on after a refusal */
        char failure[512];      /* the last op_fail() message */
} OpContext;

int op_detect(OpContext *c, Product *p, AvmDetection *ret);
int op_status(OpContext *c, Product *p, AvmStatus *ret);
int op_install(OpContext *c, Product *p);
int op_uninstall(OpContext *c, Product *p);
int op_set_realtime(OpContext *c, Product *p, bool enable);
/* Polls status (and the on-access probe where the product has one) until
 * real-time protection is verified active, or the verify timeout passes. */
int op_verify_protecting(OpContext *c, Product *p);
/* On-access probes in every scope root for product p (the "before" test of
 * the old product); records one event per root. Returns the number of roots
 * blocked. Never fails the step: coverage is compared afterwards. */
int op_probe_scope(OpContext *c, Product *p, uint64_t wait_usec);
/* On-demand EICAR scan that must detect. */
int op_verify_detects(OpContext *c, Product *p);

void op_event(OpContext *c, const char *event, const char *product, const char *detail);
/* Sends ERRMSG once (the first explanation wins). */
int op_fail(OpContext *c, int error, const char *format, ...) __attribute__((format(printf, 3, 4)));
