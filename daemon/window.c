/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util.h"
#include "window.h"

static const char *const day_names[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

static int parse_day(const char *s, size_t n) {
        for (int i = 0; i < 7; i++)
                if (n == 3 && strncasecmp(s, day_names[i], 3) == 0)
                        return i;
        return -EINVAL;
}

static int parse_days(const char *s, unsigned *ret) {
        const char *range = strstr(s, "..");
        unsigned days = 0;

        if (range) {
                int a = parse_day(s, (size_t) (range - s)), b = parse_day(range + 2, strlen(range + 2));
                if (a < 0 || b < 0)
                        return -EINVAL;
                for (int d = a;; d = (d + 1) % 7) {
                        days |= 1u << d;
                        if (d == b)
                                break;
                }
        } else
                for (const char *p = s; *p;) {
                        size_t n = strcspn(p, ",");
                        int d = parse_day(p, n);
                        if (d < 0)
                                return -EINVAL;
                        days |= 1u << d;
                        p += n;
                        if (*p == ',')
                                p++;
                }
        *ret = days;
        return 0;
}

static int parse_hhmm(const char *s, unsigned *ret) {
        unsigned h, m;
        char tail;

        if (sscanf(s, "%2u:%2u%c", &h, &m, &tail) != 2 || h > 24 || m > 59 || (h == 24 && m != 0))
                return -EINVAL;
        *ret = h * 60 + m;
        return 0;
}

static int parse_span(char *s, Window *w) {
        char *sp, *dash, *times = s;
        unsigned days = 0x7f;

        if (w->n >= WINDOW_MAX)
                return -E2BIG;
        while (*s == ' ')
                s++;
        sp = strchr(s, ' ');
        if (sp) {
                *sp = 0;
                if (parse_days(s, &days) < 0)
                        return -EINVAL;
                times = sp + 1;
                while (*times == ' ')
                        times++;
        } else
                times = s;
        dash = strchr(times, '-');
        if (!dash)
                return -EINVAL;
        *dash = 0;
        if (parse_hhmm(times, &w->spans[w->n].start_min) < 0 || parse_hhmm(dash + 1, &w->spans[w->n].end_min) < 0)
                return -EINVAL;
        w->spans[w->n].days = days;
        w->n++;
        return 0;
}

int window_parse(const char *s, Window *ret) {
        char buf[512], *save = NULL;
        Window w = {};

        if (isempty(s)) {
                *ret = w;
                return 0;
        }
        if (strlen(s) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, s);
        for (char *t = strtok_r(buf, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
                int r = parse_span(t, &w);
                if (r < 0)
                        return r;
        }
        if (w.n == 0)
                return -EINVAL;
        *ret = w;
        return 0;
}

bool window_contains(const Window *w, time_t t) {
        struct tm tm;
        unsigned now;

        if (w->n == 0)
                return true;
        if (!localtime_r(&t, &tm))
                return true;
        now = (unsigned) (tm.tm_hour * 60 + tm.tm_min);
        for (unsigned i = 0; i < w->n; i++) {
                unsigned s = w->spans[i].start_min, e = w->spans[i].end_min;
                int yday = (tm.tm_wday + 6) % 7;

                if (s <= e) {
                        if ((w->spans[i].days & (1u << tm.tm_wday)) && now >= s && now < e)
                                return true;
                } else {
                        /* Wraps midnight: the evening part belongs to the listed day,
                         * the morning part to the day after it. */
                        if ((w->spans[i].days & (1u << tm.tm_wday)) && now >= s)
                                return true;
                        if ((w->spans[i].days & (1u << yday)) && now < e)
                                return true;
                }
        }
        return false;
}
