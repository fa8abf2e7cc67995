/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "avmigrate/plugin.h"

/* Checks the AvmPlugin a plugin exports against this build's ABI and copies
 * it into *ret: only the struct_size bytes the plugin declares are read, the
 * fields past them stay NULL/0 (a plugin built against an older header of the
 * same major version). Returns 0, or -EPROTO/-EINVAL with why (one phrase,
 * for "Refusing plugin X: why."). */
int plugin_abi_import(const AvmPlugin *p, AvmPlugin *ret, char *why, size_t why_size);
