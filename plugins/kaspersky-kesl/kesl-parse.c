/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "kesl-parse.h"
#include "plugin-util.h"

typedef enum Field {
        F_NONE,
        F_NAME,
        F_VERSION,
        F_DB_RELEASE,
        F_DB_LOADED,
        F_FILE_MONITORING,
        F_POLICY,
        F_STATE,
} Field;

/* English labels are matched case-insensitively, Russian ones byte for byte. */
static const struct {
        const char *label;
        Field field;
} labels[] = {
        { "Name", F_NAME },
        { "Имя", F_NAME },
        { "Название", F_NAME },
        { "Version", F_VERSION },
        { "Версия", F_VERSION },
        { "Last release date of databases", F_DB_RELEASE },
        { "Дата последнего выпуска баз приложения", F_DB_RELEASE },
        /* a certified-configuration check script greps this one (README.md) */
        { "Дата последнего выпуска баз программы", F_DB_RELEASE },
        { "Дата последнего выпуска баз", F_DB_RELEASE },
        { "Application databases loaded", F_DB_LOADED },
        { "Anti-virus databases loaded", F_DB_LOADED },
        { "Базы программы загружены", F_DB_LOADED },
        { "Базы приложения загружены", F_DB_LOADED },
        { "Антивирусные базы загружены", F_DB_LOADED },
        { "File monitoring", F_FILE_MONITORING },
        { "Файловый мониторинг", F_FILE_MONITORING },
        { "Policy", F_POLICY },
        { "Политика", F_POLICY },
        { "State", F_STATE },
        { "Состояние", F_STATE },
};

static Field field_of(const char *label) {
        for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
                if (strcasecmp(label, labels[i].label) == 0)
                        return labels[i].field;
        return F_NONE;
}

const char *kesl_exit_message(int code) {
        switch (code) {
        case 0:
                return "success";
        case 1:
                return "invalid command-line arguments";
        case 2:
                return "invalid application settings";
        case 64:
                return "Kaspersky Endpoint Security is not running";
        case 65:
                return "other error";
        case 66:
                return "the anti-virus databases are not loaded";
        case 67:
                return "activation failed: network error";
        case 68:
                return "the command is refused: settings are locked by a Kaspersky Security Center policy";
        case 69:
                return "the application is located in the Amazon Paid AMI infrastructure";
        case 70:
                return "the task is already in the requested state";
        case 71:
                return "the KSN statement has not been accepted";
        case 72:
                return "threats were detected during the scan";
        case 73:
                return "Application Control needs --accept";
        case 74:
                return "Kaspersky Endpoint Security must be restarted after the update";
        case 75:
                return "a reboot is required";
        case 76:
                return "connection prohibited: only root may have write access to the specified path";
        case 77:
                return "the license key is already in use on the device";
        case 78:
                return "the command cannot run: the application is used in Light Agent mode";
        case 79:
                return "the command cannot run: the application is used in standard mode";
        case 80:
                return "the update download failed because of network problems";
        case 128:
                return "unknown error";
        default:
                return "undocumented exit code";
        }
}

int kesl_exit_errno(int code) {
        switch (code) {
        case 0:
        case 70:
                return 0;
        case 1:
        case 2:
                return -EINVAL;
        case 64:
                return -ESRCH;
        case 66:
                return -ENODATA;
        case 67:
                return -ENETUNREACH;
        case 68:
                return -EPERM;
        case 71:
        case 73:
        case 76:
                return -EACCES;
        case 69:
        case 78:
        case 79:
                return -EOPNOTSUPP;
        case 77:
                return -EEXIST;
        case 80:
                return -ENETUNREACH;
        case 72:
                return -EILSEQ; /* not a failure for scans: the caller handles it */
        case 74:
        case 75:
                return -EAGAIN;
        default:
                return -EIO;
        }
}

/* Bounded, text-only output: no NULs, no control bytes but \t \r \n, lines bounded. */
static int output_check(const char *out, size_t size) {
        return plugin_text_check(out, size, KESL_OUTPUT_MAX, KESL_LINE_MAX, false);
}

static char *trim(char *s) {
        char *e;

        while (*s == ' ' || *s == '\t')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                *--e = '\0';
        return s;
}

typedef int (*kv_cb)(Field f, const char *value, void *userdata);

static int parse_text(const char *out, size_t size, kv_cb cb, void *userdata, unsigned *ret_known) {
        char *copy = strndup(out, size), *p, *nl;
        unsigned known = 0;
        int r = 0;

        if (!copy)
                return -ENOMEM;
        for (p = copy; p && *p; p = nl) {
                char *colon, *label, *value;
                Field f;

                nl = strchr(p, '\n');
                if (nl)
                        *nl++ = '\0';
                colon = strchr(p, ':');
                if (!colon)
                        continue;
                *colon = '\0';
                label = trim(p);
                value = trim(colon + 1);
                f = field_of(label);
                if (f == F_NONE)
                        continue;
                known++;
                r = cb(f, value, userdata);
                if (r < 0)
                        break;
        }
        free(copy);
        *ret_known = known;
        return r;
}

static int parse_json(const char *out, size_t size, kv_cb cb, void *userdata, unsigned *ret_known) {
        struct json_tokener *tok = json_tokener_new_ex(8);
        struct json_object *obj;
        unsigned known = 0;
        int r = 0;

        if (!tok)
                return -ENOMEM;
        obj = json_tokener_parse_ex(tok, out, (int) size);
        if (!obj || json_tokener_get_error(tok) != json_tokener_success || tok->char_offset != (int) size) {
                /* trailing whitespace is fine */
                bool ok = obj && json_tokener_get_error(tok) == json_tokener_success;
                for (size_t i = ok ? (size_t) tok->char_offset : size; ok && i < size; i++)
                        if (!strchr(" \t\r\n", out[i]))
                                ok = false;
                if (!ok) {
                        json_object_put(obj);
                        json_tokener_free(tok);
                        return -EBADMSG;
                }
        }
        json_tokener_free(tok);
        if (!json_object_is_type(obj, json_type_object)) {
                json_object_put(obj);
                return -EBADMSG;
        }
        json_object_object_foreach(obj, key, val) {
                Field f = field_of(key);
                const char *s;

                if (f == F_NONE)
                        continue;
                if (!json_object_is_type(val, json_type_string) && !json_object_is_type(val, json_type_int) &&
                    !json_object_is_type(val, json_type_boolean)) {
                        r = -EBADMSG;
                        break;
                }
                s = json_object_get_string(val);
                if (!s || strlen(s) > KESL_LINE_MAX) {
                        r = -EBADMSG;
                        break;
                }
                known++;
                r = cb(f, s, userdata);
                if (r < 0)
                        break;
        }
        json_object_put(obj);
        *ret_known = known;
        return r;
}

static int parse_kv(const char *out, size_t size, kv_cb cb, void *userdata) {
        unsigned known = 0;
        const char *p = out;
        int r;

        r = output_check(out, size);
        if (r < 0)
                return r;
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
                p++;
        if (*p == '{')
                r = parse_json(out, size, cb, userdata, &known);
        else
                r = parse_text(out, size, cb, userdata, &known);
        if (r < 0)
                return r;
        return known > 0 ? 0 : -EBADMSG;
}

/* "Yes"/"Да"/"true" → 1, "No"/"Нет"/"false" → 0 */
static int parse_yes_no(const char *v) {
        if (strcasecmp(v, "Yes") == 0 || strcmp(v, "Да") == 0 || strcasecmp(v, "true") == 0)
                return 1;
        if (strcasecmp(v, "No") == 0 || strcmp(v, "Нет") == 0 || strcasecmp(v, "false") == 0)
                return 0;
        return -1;
}

/* "2026-11-22 06:36:58" or "22.11.2026 06:36:58"; taken as UTC (inferred). */
static int parse_date(const char *v, time_t *ret) {
        static const char *const formats[] = { "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%Y-%m-%d" };

        for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
                struct tm tm = { 0 };
                const char *e = strptime(v, formats[i], &tm);
                if (e && *e == '\0') {
                        *ret = timegm(&tm);
                        return 0;
                }
        }
        return -EBADMSG;
}

static bool value_printable(const char *v, size_t max) {
        return strlen(v) < max;
}

static int app_info_cb(Field f, const char *v, void *userdata) {
        KeslAppInfo *ai = userdata;

        switch (f) {
        case F_NAME:
                if (!value_printable(v, sizeof ai->name))
                        return -EBADMSG;
                strcpy(ai->name, v);
                break;
        case F_VERSION:
                if (!*v || !value_printable(v, sizeof ai->version) || strspn(v, "0123456789.") != strlen(v))
                        return -EBADMSG;
                strcpy(ai->version, v);
                break;
        case F_DB_RELEASE:
                if (*v && parse_date(v, &ai->db_release) < 0)
                        return -EBADMSG;
                break;
        case F_DB_LOADED:
                ai->db_loaded = parse_yes_no(v);
                break;
        case F_FILE_MONITORING:
                /* "Available and running|stopped", "Unavailable"; RU "Доступен и запущен|остановлен" */
                if (strstr(v, "running") || strstr(v, "запущен"))
                        ai->file_monitoring = 1;
                else if (strstr(v, "stopped") || strstr(v, "остановлен") || strstr(v, "Unavailable") || strstr(v, "Недоступен"))
                        ai->file_monitoring = 0;
                break;
        case F_POLICY:
                if (strcasecmp(v, "Applied") == 0 || strcmp(v, "Применена") == 0)
                        ai->policy_applied = 1;
                else if (strcasecmp(v, "Not applied") == 0 || strcmp(v, "Не применена") == 0)
                        ai->policy_applied = 0;
                break;
        default:
                break;
        }
        return 0;
}

int kesl_parse_app_info(const char *out, size_t size, KeslAppInfo *ret) {
        KeslAppInfo ai = { .db_release = (time_t) -1, .db_loaded = -1, .file_monitoring = -1, .policy_applied = -1 };
        int r;

        r = parse_kv(out, size, app_info_cb, &ai);
        if (r < 0)
                return r;
        /* Truncated, or not --app-info output: the version and the database state are always there. */
        if (!ai.version[0] || (ai.db_loaded < 0 && ai.db_release == (time_t) -1))
                return -EBADMSG;
        *ret = ai;
        return 0;
}

static const struct {
        const char *word;
        KeslTaskState state;
} task_states[] = {
        { "Started", KESL_TASK_STARTED },
        { "Running", KESL_TASK_STARTED },
        { "Starting", KESL_TASK_STARTING },
        { "Stopped", KESL_TASK_STOPPED },
        { "Stopping", KESL_TASK_STOPPING },
        { "Pausing", KESL_TASK_PAUSING },
        { "Suspended", KESL_TASK_SUSPENDED },
        { "Resuming", KESL_TASK_RESUMING },
        /* Russian task states: inferred, not seen in vendor material */
        { "Запущена", KESL_TASK_STARTED },
        { "Выполняется", KESL_TASK_STARTED },
        { "Запускается", KESL_TASK_STARTING },
        { "Остановлена", KESL_TASK_STOPPED },
        { "Останавливается", KESL_TASK_STOPPING },
        { "Приостановлена", KESL_TASK_SUSPENDED },
};

const char *kesl_task_state_name(KeslTaskState s) {
        for (size_t i = 0; i < sizeof task_states / sizeof task_states[0]; i++)
                if (task_states[i].state == s)
                        return task_states[i].word;
        return "unknown";
}

typedef struct TaskStateParse {
        bool found;
        KeslTaskState state;
} TaskStateParse;

static int task_state_cb(Field f, const char *v, void *userdata) {
        TaskStateParse *t = userdata;

        if (f != F_STATE)
                return 0;
        for (size_t i = 0; i < sizeof task_states / sizeof task_states[0]; i++)
                if (strcasecmp(v, task_states[i].word) == 0) {
                        t->state = task_states[i].state;
                        t->found = true;
                        return 0;
                }
        return -EBADMSG;
}

int kesl_parse_task_state(const char *out, size_t size, KeslTaskState *ret) {
        TaskStateParse t = { 0 };
        int r;

        r = parse_kv(out, size, task_state_cb, &t);
        if (r < 0)
                return r;
        if (!t.found)
                return -EBADMSG;
        *ret = t.state;
        return 0;
}


/* `kesl-control -E --query 'EventType == "ThreatDetected"'`: "Key=Value" lines,
 * one event after another, each starting with EventType= (the keys real
 * scripts read: EventType, FileName, DetectName). The last event whose
 * FileName is path counts. */
int kesl_parse_events(const char *out, size_t size, const char *path, KeslScan *ret, PluginParseError *err) {
        const char *line, *p = out, *v;
        size_t len, vl;
        unsigned n = 0;
        bool in_event = false, file_matches = false;
        char name[128] = "";
        KeslScan s = { 0 };

        *ret = s;
        if (!out && size == 0)
                return 0;
        if (plugin_text_check(out, size, KESL_OUTPUT_MAX, KESL_LINE_MAX, true) < 0)
                return plugin_parse_fail(err, 0, "oversized or binary output", 26);
        while (plugin_text_next_line(&p, &line, &len)) {
                n++;
                if (plugin_text_kv(line, len, "EventType", '=', &v, &vl)) {
                        if (in_event && file_matches && name[0]) {
                                s.detected++;
                                snprintf(s.threat, sizeof s.threat, "%s", name);
                        }
                        in_event = vl == 14 && memcmp(v, "ThreatDetected", 14) == 0;
                        file_matches = false;
                        name[0] = '\0';
                        continue;
                }
                if (!in_event)
                        continue;
                if (plugin_text_kv(line, len, "FileName", '=', &v, &vl))
                        file_matches = path && strlen(path) == vl && memcmp(v, path, vl) == 0;
                else if (plugin_text_kv(line, len, "DetectName", '=', &v, &vl)) {
                        if (vl == 0 || vl >= sizeof name)
                                return plugin_parse_fail(err, n, line, len);
                        memcpy(name, v, vl);
                        name[vl] = '\0';
                }
        }
        if (in_event && file_matches && name[0]) {
                s.detected++;
                snprintf(s.threat, sizeof s.threat, "%s", name);
        }
        *ret = s;
        return 0;
}
