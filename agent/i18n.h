/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libintl.h>
#include <locale.h>
#include <stdlib.h>

#include "config.h"

#define _(s) gettext(s)
#define N_(s) (s)

/* setlocale() from the environment and the catalog of GETTEXT_PACKAGE from
 * AVM_LOCALE_DIR; $AVMIGRATE_LOCALE_DIR points at a build tree's po/ for
 * tests. */
static inline void i18n_setup(void) {
        const char *dir = getenv("AVMIGRATE_LOCALE_DIR");

        (void) setlocale(LC_ALL, "");
        (void) bindtextdomain(GETTEXT_PACKAGE, dir && *dir ? dir : AVM_LOCALE_DIR);
        (void) bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
        (void) textdomain(GETTEXT_PACKAGE);
}
