/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "generic-conf.h"

static const char *const sections[_GENERIC_ACTION_MAX] = {
        [GENERIC_DETECT] = "Detect",
        [GENERIC_STATUS] = "Status",
        [GENERIC_REALTIME_ON] = "RealtimeOn",
        [GENERIC_REALTIME_OFF] = "RealtimeOff",
        [GENERIC_SCAN] = "Scan",
        [GENERIC_INSTALL] = "Install",
        [GENERIC_UNINSTALL] = "Uninstall",
};

const char *generic_action_section(GenericAction a) {
        return a < _GENERIC_ACTION_MAX ? sections[a] : NULL;
}

typedef struct ParseState {
        GenericProduct *p;
        char *error;
        size_t error_size;
        bool failed;
} ParseState;

static int fail(ParseState *s, int line __attribute__((unused)), const char *section, const char *key, const char *why) {
        if (!s->failed)
                snprintf(s->error, s->error_size, "[%s] %s: %s", section, key, why);
        s->failed = true;
        return 0;
}

static bool copy(char *dst, size_t size, const char *v) {
        if (strlen(v) >= size)
                return false;
        strcpy(dst, v);
        return true;
}

static int parse_codes(const char *v, int *codes, size_t *n) {
        char buf[GENERIC_VALUE_MAX], *save = NULL, *tok;

        if (!copy(buf, sizeof buf, v))
                return -EINVAL;
        *n = 0;
        for (tok = strtok_r(buf, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
                char *end;
                long c = strtol(tok, &end, 10);
                if (*end || c < 0 || c > 255 || *n >= GENERIC_CODES_MAX)
                        return -EINVAL;
                codes[(*n)++] = (int) c;
        }
        return 0;
}

static int handler(void *user, const char *section, const char *key, const char *value) {
        ParseState *s = user;
        int line = 0; /* inih here has no line numbers in the handler */
        GenericProduct *p = s->p;

        if (s->failed)
                return 0;
        if (strcmp(section, "Product") == 0) {
                if (strcmp(key, "Name") == 0             ? !copy(p->name, sizeof p->name, value) :
                            strcmp(key, "Vendor") == 0   ? !copy(p->vendor, sizeof p->vendor, value) :
                            strcmp(key, "Packages") == 0 ? !copy(p->packages, sizeof p->packages, value) :
                            strcmp(key, "Unit") == 0     ? !copy(p->unit, sizeof p->unit, value) :
                                                           true)
                        return fail(s, line, section, key, "unknown key or value too long");
                return 1;
        }
        for (int a = 0; a < _GENERIC_ACTION_MAX; a++) {
                GenericCommand *c = &p->actions[a];
                bool ok;

                if (strcmp(section, sections[a]) != 0)
                        continue;
                if (strcmp(key, "Command") == 0)
                        ok = copy(c->command, sizeof c->command, value) && value[0] == '/';
                else if (strcmp(key, "SuccessExitCodes") == 0)
                        ok = parse_codes(value, c->ok_codes, &c->n_ok) == 0;
                else if (strcmp(key, "DetectedExitCodes") == 0)
                        ok = parse_codes(value, c->detected_codes, &c->n_detected) == 0;
                else if (strcmp(key, "VersionRegex") == 0)
                        ok = copy(c->version_regex, sizeof c->version_regex, value) && generic_match(value, "", NULL, 0) >= 0;
                else if (strcmp(key, "RealtimeRegex") == 0)
                        ok = copy(c->realtime_regex, sizeof c->realtime_regex, value) && generic_match(value, "", NULL, 0) >= 0;
                else if (strcmp(key, "HealthyRegex") == 0)
                        ok = copy(c->healthy_regex, sizeof c->healthy_regex, value) && generic_match(value, "", NULL, 0) >= 0;
                else if (strcmp(key, "DetectedRegex") == 0)
                        ok = copy(c->detected_regex, sizeof c->detected_regex, value) && generic_match(value, "", NULL, 0) >= 0;
                else if (strcmp(key, "ThreatRegex") == 0)
                        ok = copy(c->threat_regex, sizeof c->threat_regex, value) && generic_match(value, "", NULL, 0) >= 0;
                else if (strcmp(key, "TimeoutSec") == 0) {
                        char *end;
                        unsigned long t = strtoul(value, &end, 10);
                        ok = *end == '\0' && t > 0 && t <= 86400;
                        c->timeout_sec = (unsigned) t;
                } else
                        ok = false;
                if (!ok)
                        return fail(s, line, section, key, "unknown key, bad value (commands need an absolute path) or bad regex");
                return 1;
        }
        return fail(s, line, section, key, "unknown section");
}

int generic_conf_parse(const char *text, size_t size, GenericProduct *ret, char *error, size_t error_size) {
        ParseState s = { .p = ret, .error = error, .error_size = error_size };
        int r;

        if (!text || size > GENERIC_CONF_MAX || strlen(text) != size) {
                snprintf(error, error_size, "configuration is empty, larger than 64 KiB or contains NUL bytes");
                return -EBADMSG;
        }
        *ret = (GenericProduct){ 0 };
        r = ini_parse_string(text, handler, &s);
        if (s.failed)
                return -EINVAL;
        if (r != 0) {
                snprintf(error, error_size, "syntax error on line %d", r);
                return -EINVAL;
        }
        if (!ret->name[0]) {
                snprintf(error, error_size, "[Product] Name= is missing");
                return -EINVAL;
        }
        for (int a = 0; a < _GENERIC_ACTION_MAX; a++)
                if (ret->actions[a].n_ok == 0) {
                        ret->actions[a].ok_codes[0] = 0;
                        ret->actions[a].n_ok = 1;
                }
        return 0;
}

int generic_split(const char *cmd, const char *path, char *buf, size_t buf_size, char *argv[], size_t argv_max) {
        size_t n = 0, o = 0;
        const char *p = cmd;

        if (!cmd || argv_max < 2)
                return -EINVAL;
        for (;;) {
                char quote = 0;
                bool word = false;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                if (n + 1 >= argv_max)
                        return -E2BIG;
                argv[n] = buf + o;
                for (; *p && (quote || (*p != ' ' && *p != '\t')); p++) {
                        if (quote ? *p == quote : (*p == '\'' || *p == '"')) {
                                quote = quote ? 0 : *p;
                                word = true;
                                continue;
                        }
                        if (strncmp(p, "{path}", 6) == 0) {
                                size_t l;
                                if (!path)
                                        return -EINVAL;
                                l = strlen(path);
                                if (o + l >= buf_size)
                                        return -E2BIG;
                                memcpy(buf + o, path, l);
                                o += l;
                                p += 5;
                                word = true;
                                continue;
                        }
                        if (o + 1 >= buf_size)
                                return -E2BIG;
                        buf[o++] = *p;
                        word = true;
                }
                if (quote)
                        return -EINVAL; /* unterminated quote */
                if (o + 1 >= buf_size)
                        return -E2BIG;
                buf[o++] = '\0';
                if (word)
                        n++;
        }
        if (n == 0 || argv[0][0] != '/')
                return -EINVAL;
        argv[n] = NULL;
        return (int) n;
}

/* glibc's regcomp() copies the parse tree of a repeated atom once per
 * repetition ('+' once, {m,n} n times), so nested repetitions blow up: a
 * 256-byte "(.++++…)" or "((a{99}){99}){99}" takes gigabytes (found by
 * tests/fuzz/fuzz-generic). Estimate the expanded size and refuse large
 * ones, and refuse adjacent duplication symbols ("a++", "a*{2}"), whose
 * meaning POSIX leaves undefined. The estimate is only sound for the parse
 * tree it walks, so anything regcomp() might group differently is refused
 * too: unbalanced parentheses (glibc reads a stray ')' as a literal and
 * "^^(a{0,63}){255}){255}){255}" took 20 s), nesting deeper than a product
 * description needs, and back-references, which make regexec() exponential.
 *
 * Size alone is not enough: regexec() follows every way an optional piece
 * can be skipped at once, so its time grows with the number of optional
 * copies in the expansion. "(a{0,65}){255}" is only 17,152 atoms but 16,640
 * optional ones, and took over 10 s on 4 KiB of output (fuzz-generic again);
 * "(a?){2000}" 8 s on 64 KiB. Optional copies ('?', '*', the n-m surplus of
 * {m,n}, and a group with alternatives, which may have an empty one) are
 * counted as glibc expands them and capped where 64 KiB still takes well
 * under a second. */
#define REGEX_EXPANDED_MAX 20000UL
#define REGEX_OPTIONAL_MAX 256UL
#define REGEX_DEPTH_MAX 8

typedef struct RegexCost {
        unsigned long size;     /* atoms after expansion */
        unsigned long optional; /* of them, copies that may be skipped */
} RegexCost;

static bool regex_cost_ok(const RegexCost *c) {
        return c->size <= REGEX_EXPANDED_MAX && c->optional <= REGEX_OPTIONAL_MAX;
}

/* The atom repeated: at least m, at most n times (n = ULONG_MAX: unbounded,
 * which glibc builds as m copies and one looping optional copy). Both limits
 * are far below ULONG_MAX / (limit + 1), so the products cannot overflow. */
static int regex_repeat(RegexCost *atom, unsigned long m, unsigned long n) {
        unsigned long copies = n == ULONG_MAX ? m + 1 : n, skippable = n == ULONG_MAX ? 1 : n - m;

        if (copies > REGEX_EXPANDED_MAX)
                return -E2BIG;
        if (copies == 0) /* "{0}": glibc still parses the atom once */
                copies = 1;
        atom->optional = atom->optional * copies + atom->size * skippable;
        atom->size *= copies;
        return regex_cost_ok(atom) ? 0 : -E2BIG;
}

/* Parses the duplication symbol at *p, if any: 1 and the bounds, 0 if there
 * is none (a '{' that is not an interval is left to regcomp()). */
static int regex_dup_symbol(const char **p, unsigned long *ret_m, unsigned long *ret_n) {
        const char *q = *p + 1;
        unsigned long m = 0, n;

        switch (**p) {
        case '*':
                *ret_m = 0, *ret_n = ULONG_MAX;
                break;
        case '?':
                *ret_m = 0, *ret_n = 1;
                break;
        case '+':
                *ret_m = 1, *ret_n = ULONG_MAX;
                break;
        case '{':
                if (!((*q >= '0' && *q <= '9') || *q == ','))
                        return 0;
                for (; *q >= '0' && *q <= '9'; q++)
                        if (m <= REGEX_EXPANDED_MAX) /* saturates */
                                m = m * 10 + (unsigned long) (*q - '0');
                n = m;
                if (*q == ',') {
                        q++;
                        if (*q >= '0' && *q <= '9') {
                                n = 0;
                                for (; *q >= '0' && *q <= '9'; q++)
                                        if (n <= REGEX_EXPANDED_MAX)
                                                n = n * 10 + (unsigned long) (*q - '0');
                        } else
                                n = ULONG_MAX;
                }
                if (*q != '}')
                        return 0;
                if (n < m) /* regcomp() refuses it; count it as its larger bound */
                        n = m;
                *ret_m = m, *ret_n = n;
                *p = q;
                break;
        default:
                return 0;
        }
        (*p)++;
        return 1;
}

/* Skips the bracket expression at *p (just after its '['). */
static void regex_skip_bracket(const char **p) {
        if (**p == '^')
                (*p)++;
        if (**p == ']')
                (*p)++;
        while (**p && **p != ']') {
                const char *e;
                if (**p == '[' && (*p)[1] && strchr(":.=", (*p)[1]) && (e = strchr(*p + 2, (*p)[1])) && e[1] == ']')
                        *p = e + 2;
                else
                        (*p)++;
        }
        if (**p == ']')
                (*p)++;
}

/* Cost of the expression at *p up to the ')' closing this group (depth > 0) or the end
 * (depth 0); -E2BIG if too big or deep, -EINVAL for adjacent duplication symbols,
 * unbalanced parentheses or back-references. */
static int regex_cost(const char **p, unsigned depth, RegexCost *ret) {
        RegexCost total = {};
        bool alternatives = false;

        if (depth > REGEX_DEPTH_MAX)
                return -E2BIG;
        while (**p && **p != ')') {
                RegexCost atom = { .size = 1 };
                unsigned long m, n;
                int r;

                if (**p == '(') {
                        (*p)++;
                        r = regex_cost(p, depth + 1, &atom);
                        if (r < 0)
                                return r;
                        atom.size++;
                        if (**p != ')')
                                return -EINVAL; /* '(' never closed */
                        (*p)++;
                } else if (**p == '[') {
                        (*p)++;
                        regex_skip_bracket(p);
                } else if (**p == '\\' && (*p)[1] >= '1' && (*p)[1] <= '9')
                        return -EINVAL; /* back-reference */
                else if (**p == '\\' && (*p)[1])
                        *p += 2;
                else {
                        alternatives = alternatives || **p == '|';
                        (*p)++;
                }

                r = regex_dup_symbol(p, &m, &n);
                if (r > 0) {
                        r = regex_repeat(&atom, m, n);
                        if (r < 0)
                                return r;
                        if (regex_dup_symbol(p, &m, &n) > 0)
                                return -EINVAL; /* "a**", "a+{2}": undefined */
                }
                total.size += atom.size;
                total.optional += atom.optional;
                if (!regex_cost_ok(&total))
                        return -E2BIG;
        }
        if (depth == 0 && **p == ')')
                return -EINVAL; /* ')' without '(' */
        if (alternatives)       /* one of them may be empty: the whole may be skipped */
                total.optional += total.size;
        *ret = total;
        return regex_cost_ok(&total) ? 0 : -E2BIG;
}

static bool regex_bounded(const char *regex) {
        const char *p = regex;
        RegexCost cost;

        return regex_cost(&p, 0, &cost) >= 0 && *p == '\0';
}

int generic_match(const char *regex, const char *text, char *capture, size_t capture_size) {
        regmatch_t m[2];
        regex_t re;
        int r;

        if (!regex_bounded(regex) || regcomp(&re, regex, REG_EXTENDED | REG_NEWLINE) != 0)
                return -EINVAL;
        r = regexec(&re, text, 2, m, 0);
        if (r == 0 && capture && capture_size > 0) {
                capture[0] = '\0';
                if (re.re_nsub >= 1 && m[1].rm_so >= 0)
                        snprintf(capture, capture_size, "%.*s", (int) (m[1].rm_eo - m[1].rm_so), text + m[1].rm_so);
        }
        regfree(&re);
        return r == 0 ? 1 : 0;
}

bool generic_code_in(const int *codes, size_t n, int code) {
        for (size_t i = 0; i < n; i++)
                if (codes[i] == code)
                        return true;
        return false;
}

bool generic_name_valid(const char *name) {
        if (!name || !*name || name[0] == '.' || strlen(name) > 64)
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
                        return false;
        return true;
}
