/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include <avmigrate/plugin.h>

/* The File Threat Protection scope from `kesl-control --get-settings 1`
 * (INI text): every [ScanScope.item_NNNN] with UseScanArea=Yes adds its
 * Path= (recursive), every [ExcludedFromScanScope.item_NNNN] with
 * UseScanArea=Yes its Path=. Format: Kaspersky's help, KES4Linux 11.2
 * (197965.htm) and 11.3 (234812.htm); see the plugin README. Returns 0 with
 * ret->known set when at least one scope area was found, -EBADMSG on
 * malformed input (overlong lines, a relative Path=, too many areas). */
int kesl_parse_scope(const char *text, size_t size, AvmScope *ret);
