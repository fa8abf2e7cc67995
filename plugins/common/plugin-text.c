/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>

#include "plugin-util.h"

int plugin_text_check(const char *out, size_t size, size_t max, size_t line_max, bool allow_empty) {
        size_t line = 0;

        if (!out || size > max || strlen(out) != size || (!allow_empty && size == 0))
                return -EBADMSG;
        for (size_t i = 0; i < size; i++) {
                unsigned char c = (unsigned char) out[i];
                if (c == '\n') {
                        line = 0;
                        continue;
                }
                if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
                        return -EBADMSG;
                if (line_max && ++line > line_max)
                        return -EBADMSG;
        }
        return 0;
}
