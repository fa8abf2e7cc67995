/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A directory of fleet reports, one JSON file per desktop (*.json), as the
 * daemon will PUT them to the manifest's report.upload_url: the job report
 * (GetReport) plus "machine_id", "wave", "blockers" and "protected". Read
 * with one reused buffer and one reused tokener, each file bounded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>

#include "phasing.h"
#include "summary-sources.h"
#include "util.h"

#define REPORT_MAX (4u * 1024u * 1024u) /* a job report with its samples stays far below */
#define BLOCKERS_MAX 32

static json_object *member(json_object *o, const char *key, json_type type) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, type) ? v : NULL;
}

static int machine_id_of(json_object *o, const char *filename, sd_id128_t *ret) {
        json_object *v = member(o, "machine_id", json_type_string);
        char stem[FLEET_MACHINE_ID_LEN + 1];

        if (v)
                return fleet_machine_id_valid(json_object_get_string(v)) ? sd_id128_from_string(json_object_get_string(v), ret) :
                                                                           -EBADMSG;
        /* Else the file is named after the machine: <machine-id>.json. */
        snprintf(stem, sizeof(stem), "%s", filename);
        return fleet_machine_id_valid(stem) && streq(filename + FLEET_MACHINE_ID_LEN, ".json") ? sd_id128_from_string(stem, ret) :
                                                                                                 -EBADMSG;
}

static void fold_report(Summary *s, Machine *m, json_object *o) {
        json_object *v, *blockers;
        const char *state = NULL;

        if ((v = member(o, "state", json_type_string)))
                state = json_object_get_string(v);
        /* A job report says "finished" and puts the outcome in "result". */
        if (streq_ptr(state, "finished") && (v = member(o, "result", json_type_string)))
                state = json_object_get_string(v);
        m->state = machine_state_from_string(state);
        if ((v = member(o, "gap_usec", json_type_int)) && json_object_get_int64(v) >= 0) {
                json_object *h = member(o, "handover_started", json_type_boolean);

                m->gap_usec = (uint64_t) json_object_get_int64(v);
                m->has_gap = m->gap_usec > 0 || (h && json_object_get_boolean(h));
        }
        if ((v = member(o, "wave", json_type_int)) && json_object_get_int64(v) >= 1 && json_object_get_int64(v) <= 100)
                m->wave = (uint16_t) json_object_get_int64(v);
        if ((v = member(o, "protected", json_type_boolean)))
                m->unprotected = !json_object_get_boolean(v);
        blockers = member(o, "blockers", json_type_array);
        for (size_t i = 0; blockers && i < json_object_array_length(blockers) && i < BLOCKERS_MAX; i++) {
                json_object *b = json_object_array_get_idx(blockers, i);

                if (json_object_is_type(b, json_type_string))
                        summary_add_blocker(s, m, json_object_get_string(b));
        }
}

/* Reads fd into buf (REPORT_MAX + 1 bytes); -EFBIG past REPORT_MAX. */
static ssize_t read_bounded_fd(int fd, char *buf) {
        size_t n = 0;

        for (;;) {
                ssize_t k = read(fd, buf + n, REPORT_MAX + 1 - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return (ssize_t) n;
                n += (size_t) k;
                if (n > REPORT_MAX)
                        return -EFBIG;
        }
}

static int read_one(Summary *s, int dfd, const char *name, char *buf, json_tokener *tok) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        json_object *o;
        sd_id128_t id;
        Machine *m;
        ssize_t n;
        int r = 0;

        if (fd < 0)
                return -errno;
        n = read_bounded_fd(fd, buf);
        if (n < 0)
                return (int) n;
        json_tokener_reset(tok);
        o = json_tokener_parse_ex(tok, buf, (int) n);
        if (!o || !json_object_is_type(o, json_type_object) || machine_id_of(o, name, &id) < 0)
                r = -EBADMSG;
        else if (!(m = summary_machine(s, id)))
                r = -ENOMEM;
        else
                fold_report(s, m, o);
        json_object_put(o);
        return r;
}

int summary_read_reports(Summary *s, const char *dir) {
        _cleanup_free_ char *buf = malloc(REPORT_MAX + 1);
        json_tokener *tok = json_tokener_new_ex(16);
        struct dirent *de;
        DIR *d;
        int fd, r = 0;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || !buf || !tok) {
                r = fd < 0 ? -errno : -ENOMEM;
                safe_close_fd(fd);
                json_tokener_free(tok);
                return r;
        }
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                safe_close_fd(fd);
                json_tokener_free(tok);
                return r;
        }
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);

                if (de->d_name[0] == '.' || l < 6 || !streq(de->d_name + l - 5, ".json"))
                        continue;
                r = read_one(s, dirfd(d), de->d_name, buf, tok);
                if (r == -ENOMEM)
                        break;
                if (r < 0)
                        s->skipped++;
                else
                        s->events++;
                r = 0;
        }
        closedir(d);
        json_tokener_free(tok);
        return r;
}
