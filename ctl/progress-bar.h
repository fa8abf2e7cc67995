/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one-line progress bar of 'start --wait' on a terminal, redrawn in
 * place; step lines are printed above it after progress_bar_clear(). */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ProgressBar {
        FILE *out;    /* also where the step lines go */
        bool enabled; /* out is a terminal */
        bool drawn;
} ProgressBar;

void progress_bar_clear(ProgressBar *b);
void progress_bar_draw(ProgressBar *b, uint32_t progress, const char *step, const char *status_text);
