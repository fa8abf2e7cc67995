/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* A decimal number and nothing else: no sign, no white space. */
int parse_uint64(const char *v, uint64_t *ret);
