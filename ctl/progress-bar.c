/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "progress-bar.h"

static unsigned terminal_columns(int fd) {
        struct winsize ws = {};
        const char *e = getenv("COLUMNS");

        if (e) {
                long c = strtol(e, NULL, 10);
                if (c > 0 && c < 10000)
                        return (unsigned) c;
        }
        if (ioctl(fd, TIOCGWINSZ, &ws) >= 0 && ws.ws_col > 0)
                return ws.ws_col;
        return 80;
}

void progress_bar_clear(ProgressBar *b) {
        if (b->enabled && b->drawn) {
                fputs("\r\033[K", b->out);
                fflush(b->out);
                b->drawn = false;
        }
}

void progress_bar_draw(ProgressBar *b, uint32_t progress, const char *step, const char *status_text) {
        char line[1024];
        unsigned cols, filled, width = 24;
        size_t l, max;
        uint32_t p = progress > 100 ? 100 : progress;

        if (!b->enabled)
                return;

        filled = p * width / 100;
        l = 0;
        line[l++] = '[';
        for (unsigned i = 0; i < width; i++)
                line[l++] = i < filled ? '#' : '-';
        snprintf(line + l, sizeof(line) - l, "] %3" PRIu32 "%% %s%s%s", p, step && *step ? step : "starting",
                 status_text && *status_text ? ": " : "", status_text ?: "");

        /* Fit the terminal, without cutting a UTF-8 sequence in half. */
        cols = terminal_columns(fileno(b->out));
        max = cols > 1 ? cols - 1 : 1;
        if (strlen(line) > max) {
                l = max;
                while (l > 0 && ((unsigned char) line[l] & 0xC0) == 0x80)
                        l--;
                line[l] = 0;
        }

        fprintf(b->out, "\r\033[K%s", line);
        fflush(b->out);
        b->drawn = true;
}
