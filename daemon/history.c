/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/param.h>
#include <sys/stat.h>

#include "history.h"
#include "log.h"
#include "paths.h"
#include "util.h"

#define HISTORY_FILE "history.jsonl"
#define HISTORY_NEW_FILE "history.jsonl.new"
#define HISTORY_LAST_ID_FILE "history.last-id"
#define HISTORY_CHUNK (64u * 1024u)
#define HISTORY_SUMMARY_STRING_MAX 256u
/* A damaged file must not flood the journal: the first few bad lines are
 * named, the rest only counted. */
#define HISTORY_BAD_LINES_LOGGED 10u

typedef struct HistoryEntry {
        uint64_t id;
        uint64_t offset;
        uint32_t length; /* without the '\n' */
        char *summary;   /* compact JSON object */
} HistoryEntry;

typedef struct HistoryIndex {
        char path[PATH_MAX];
        bool loaded;
        dev_t dev;
        ino_t ino;
        uint64_t end; /* indexed bytes: up to and including the last '\n' */
        uint64_t size;
        HistoryEntry *entries; /* file order */
        size_t n, allocated;
        uint64_t last_id;
        uint64_t last_id_saved;
        unsigned bad_lines;
} HistoryIndex;

static HistoryIndex idx;

static inline void json_object_putp(json_object **o) {
        json_object_put(*o);
}

int history_id_from_json(json_object *o, uint64_t *ret) {
        json_object *v;
        int64_t id;

        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "id", &v) ||
            !json_object_is_type(v, json_type_int))
                return -EINVAL;
        /* json-c clamps what does not fit in int64 to INT64_MAX, which is out
         * of range below as well. */
        id = json_object_get_int64(v);
        if (id < 1 || (uint64_t) id > HISTORY_ID_MAX)
                return -EINVAL;
        *ret = (uint64_t) id;
        return 0;
}

static void entries_clear(void) {
        for (size_t i = 0; i < idx.n; i++)
                free(idx.entries[i].summary);
        idx.n = 0;
        idx.end = idx.size = 0;
}

void history_reset(void) {
        entries_clear();
        idx.entries = mfree(idx.entries);
        idx = (HistoryIndex){};
}

static void note_bad_line(uint64_t offset, const char *why) {
        if (idx.bad_lines++ < HISTORY_BAD_LINES_LOGGED)
                log_warning("%s: line at offset %" PRIu64 " skipped: %s.", idx.path, offset, why);
}

static char *summary_new(json_object *o) {
        static const char *const keys[] = { "id", "from", "to", "result", "created_usec", "finished_usec", "gap_usec", "dry_run" };
        _cleanup_(json_object_putp) json_object *s = json_object_new_object();
        json_object *v;

        if (!s)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                if (!json_object_object_get_ex(o, keys[i], &v))
                        continue;
                /* Only small scalars: the summary stays small whatever the line holds. */
                if (json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > (int) HISTORY_SUMMARY_STRING_MAX)
                        continue;
                if (!json_object_is_type(v, json_type_string) && !json_object_is_type(v, json_type_int) &&
                    !json_object_is_type(v, json_type_boolean))
                        continue;
                json_object_object_add(s, keys[i], json_object_get(v));
        }
        return strdup(json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN));
}

static int entry_add(uint64_t id, uint64_t offset, size_t length, json_object *o) {
        char *summary;

        if (idx.n == idx.allocated) {
                size_t a = idx.allocated ? idx.allocated * 2 : 64;
                HistoryEntry *e = reallocarray(idx.entries, a, sizeof(HistoryEntry));

                if (!e)
                        return -ENOMEM;
                idx.entries = e;
                idx.allocated = a;
        }
        summary = summary_new(o);
        if (!summary)
                return -ENOMEM;
        idx.entries[idx.n++] = (HistoryEntry){ .id = id, .offset = offset, .length = (uint32_t) length, .summary = summary };
        if (id > idx.last_id)
                idx.last_id = id;
        return 0;
}

/* One complete line (without '\n', NUL-terminated by the caller). */
static int index_line(char *line, size_t length, uint64_t offset) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        uint64_t id;

        if (length == 0)
                return 0;
        o = json_tokener_parse(line);
        if (!o || !json_object_is_type(o, json_type_object)) {
                note_bad_line(offset, "not a JSON object");
                return 0;
        }
        if (history_id_from_json(o, &id) < 0) {
                note_bad_line(offset, "no integer id in 1..2^53");
                return 0;
        }
        return entry_add(id, offset, length, o);
}

typedef struct LineBuffer {
        char *data;
        size_t length, allocated;
        uint64_t offset;
        bool too_long;
} LineBuffer;

static int line_feed(LineBuffer *l, const char *p, size_t n) {
        if (l->too_long)
                return 0;
        if (l->length + n > HISTORY_RECORD_MAX) {
                l->too_long = true;
                return 0;
        }
        if (l->length + n + 1 > l->allocated) {
                size_t a = MAX(l->allocated * 2, l->length + n + 1);
                char *d = realloc(l->data, MIN(a, (size_t) HISTORY_RECORD_MAX + 1));

                if (!d)
                        return -ENOMEM;
                l->data = d;
                l->allocated = MIN(a, (size_t) HISTORY_RECORD_MAX + 1);
        }
        memcpy(l->data + l->length, p, n);
        l->length += n;
        return 0;
}

static int line_end(LineBuffer *l, uint64_t next_offset) {
        int r = 0;

        if (l->too_long)
                note_bad_line(l->offset, "longer than HISTORY_RECORD_MAX");
        else if (l->length > 0) {
                l->data[l->length] = '\0';
                r = index_line(l->data, l->length, l->offset);
        }
        l->length = 0;
        l->too_long = false;
        l->offset = next_offset;
        return r;
}

/* Indexes the complete lines of [from, to); when skip_first, the scan
 * started inside a line and what precedes the first '\n' is dropped. Leaves
 * idx.end after the last '\n'. */
static int index_scan(int fd, uint64_t from, uint64_t to, bool skip_first) {
        _cleanup_free_ char *chunk = malloc(HISTORY_CHUNK);
        LineBuffer l = { .offset = from, .too_long = skip_first };
        uint64_t pos = from;
        int r = 0;

        if (!chunk)
                return -ENOMEM;
        while (r >= 0 && pos < to) {
                ssize_t n = pread(fd, chunk, (size_t) MIN((uint64_t) HISTORY_CHUNK, to - pos), (off_t) pos);
                const char *p, *q;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        r = -errno;
                if (n <= 0)
                        break;
                for (p = chunk; r >= 0 && p < chunk + n; p = q + 1) {
                        q = memchr(p, '\n', (size_t) (chunk + n - p));
                        if (!q) {
                                r = line_feed(&l, p, (size_t) (chunk + n - p));
                                break;
                        }
                        r = line_feed(&l, p, (size_t) (q - p));
                        idx.end = pos + (uint64_t) (q - chunk) + 1;
                        if (r >= 0 && skip_first) {
                                skip_first = false;
                                l = (LineBuffer){ .data = l.data, .allocated = l.allocated, .offset = idx.end };
                        } else if (r >= 0)
                                r = line_end(&l, idx.end);
                }
                pos += (uint64_t) n;
        }
        free(l.data);
        return r;
}

static int last_id_load(void) {
        char path[PATH_MAX];
        _cleanup_free_ char *data = NULL;
        uint64_t id;
        int r;

        r = state_path(path, sizeof(path), HISTORY_LAST_ID_FILE);
        if (r < 0)
                return r;
        r = read_file_bounded(path, 32, &data, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_warning_errno(r, "Cannot read %s, ignoring: %m", path);
        data[strcspn(data, "\n")] = '\0';
        if (parse_uint64(data, &id) < 0 || id < 1 || id > HISTORY_ID_MAX) {
                log_warning("%s: \"%s\" is not a job id in 1..2^53, ignoring.", path, data);
                return 0;
        }
        idx.last_id_saved = id;
        idx.last_id = MAX(idx.last_id, id);
        return 0;
}

static int last_id_save(void) {
        char path[PATH_MAX], text[32];
        int r;

        if (idx.last_id <= idx.last_id_saved)
                return 0;
        r = state_path(path, sizeof(path), HISTORY_LAST_ID_FILE);
        if (r < 0)
                return r;
        snprintf(text, sizeof(text), "%" PRIu64 "\n", idx.last_id);
        r = write_file_atomic(path, text, strlen(text), 0600);
        if (r < 0)
                return log_error_errno(r, "Cannot write %s: %m", path);
        idx.last_id_saved = idx.last_id;
        return 0;
}

static int fsync_state_dir(void) {
        _cleanup_close_ int fd = open(state_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || fsync(fd) < 0)
                return -errno;
        return 0;
}

static int copy_range(int from_fd, int to_fd, uint64_t offset, uint64_t end) {
        _cleanup_free_ char *buf = malloc(HISTORY_CHUNK);

        if (!buf)
                return -ENOMEM;
        while (offset < end) {
                ssize_t n = pread(from_fd, buf, (size_t) MIN((uint64_t) HISTORY_CHUNK, end - offset), (off_t) offset);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                if (write(to_fd, buf, (size_t) n) != n)
                        return errno > 0 ? -errno : -EIO;
                offset += (uint64_t) n;
        }
        return 0;
}

static bool over_bounds(void) {
        return idx.n > HISTORY_KEEP_MAX + HISTORY_KEEP_MAX / 4 || idx.end > HISTORY_SIZE_MAX + HISTORY_SIZE_MAX / 4;
}

/* First entry kept: the newest ones that fit in both bounds. */
static size_t rotation_start(void) {
        size_t k = idx.n;

        while (k > 0 && idx.n - k < HISTORY_KEEP_MAX && idx.end - idx.entries[k - 1].offset <= HISTORY_SIZE_MAX)
                k--;
        return k;
}

static int history_rotate(void) {
        char path_new[PATH_MAX];
        _cleanup_close_ int fd_old = -EBADF, fd_new = -EBADF;
        size_t k = rotation_start();
        uint64_t base = k < idx.n ? idx.entries[k].offset : idx.end;
        struct stat st;
        int r;

        r = state_path(path_new, sizeof(path_new), HISTORY_NEW_FILE);
        if (r < 0)
                return r;
        /* The kept ids may not include the highest one ever used. */
        r = last_id_save();
        if (r < 0)
                return r;
        fd_old = open(idx.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd_old < 0)
                return log_error_errno(errno, "Cannot open %s: %m", idx.path);
        fd_new = open(path_new, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd_new < 0)
                return log_error_errno(errno, "Cannot create %s: %m", path_new);
        r = copy_range(fd_old, fd_new, base, idx.end);
        if (r >= 0 && fsync(fd_new) < 0)
                r = -errno;
        if (r >= 0 && fstat(fd_new, &st) < 0)
                r = -errno;
        if (r >= 0 && rename(path_new, idx.path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(path_new);
                return log_error_errno(r, "Cannot rotate %s: %m", idx.path);
        }
        (void) fsync_state_dir();

        for (size_t i = 0; i < k; i++)
                free(idx.entries[i].summary);
        memmove(idx.entries, idx.entries + k, (idx.n - k) * sizeof(HistoryEntry));
        idx.n -= k;
        for (size_t i = 0; i < idx.n; i++)
                idx.entries[i].offset -= base;
        idx.end -= base;
        idx.size = (uint64_t) st.st_size;
        idx.dev = st.st_dev;
        idx.ino = st.st_ino;
        log_info("%s rotated: %zu oldest jobs dropped, %zu kept.", idx.path, k, idx.n);
        return 0;
}

static int index_open(const char *path) {
        snprintf(idx.path, sizeof(idx.path), "%s", path);
        idx.loaded = true;
        return last_id_load();
}

/* Brings the index in line with the file. Cheap when nothing changed: one
 * lstat(). */
static int history_refresh(void) {
        char path[PATH_MAX];
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        uint64_t from;
        bool skip_first = false;
        int r;

        r = state_path(path, sizeof(path), HISTORY_FILE);
        if (r < 0)
                return r;
        if (!idx.loaded || !streq(path, idx.path)) {
                history_reset();
                r = index_open(path);
                if (r < 0)
                        return r;
        }
        if (lstat(path, &st) < 0) {
                if (errno != ENOENT)
                        return log_error_errno(errno, "Cannot stat %s: %m", path);
                entries_clear();
                return 0;
        }
        if (!S_ISREG(st.st_mode))
                return log_error_errno(EBADFD, "%s is not a regular file.", path);
        if (st.st_dev != idx.dev || st.st_ino != idx.ino || (uint64_t) st.st_size < idx.end)
                entries_clear();
        idx.dev = st.st_dev;
        idx.ino = st.st_ino;
        idx.size = (uint64_t) st.st_size;
        if (idx.size == idx.end)
                return 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return log_error_errno(errno, "Cannot open %s: %m", path);
        from = idx.end;
        if (idx.size - from > HISTORY_SCAN_MAX) {
                /* Older than any rotation would keep: not worth the start-up time. */
                log_warning("%s: %" PRIu64 " bytes to index; only the last %u are read.", path, idx.size - from, HISTORY_SCAN_MAX);
                from = idx.size - HISTORY_SCAN_MAX;
                skip_first = true;
                idx.end = from;
        }
        r = index_scan(fd, from, idx.size, skip_first);
        if (r < 0)
                return log_error_errno(r, "Cannot index %s: %m", path);
        if (over_bounds())
                (void) history_rotate();
        return 0;
}

static int write_record(int fd, bool newline_first, const char *json, size_t length) {
        _cleanup_free_ char *buf = malloc(length + 2);
        size_t n = 0;
        ssize_t k;

        if (!buf)
                return -ENOMEM;
        /* After a torn last line, the new record starts a line of its own. */
        if (newline_first)
                buf[n++] = '\n';
        memcpy(buf + n, json, length);
        n += length;
        buf[n++] = '\n';
        /* One write() so a crash never leaves half a record in the middle. */
        k = write(fd, buf, n);
        if (k < 0)
                return -errno;
        if ((size_t) k != n) /* a short write to a regular file: the disk is full (errno is not set) */
                return -ENOSPC;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

int history_append(json_object *report) {
        _cleanup_close_ int fd = -EBADF;
        const char *json;
        size_t length;
        bool torn;
        uint64_t id, offset;
        struct stat st;
        int r;

        r = history_id_from_json(report, &id);
        if (r < 0)
                return log_error_errno(r, "Not appending a report without a valid id to the history.");
        json = json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN);
        length = strlen(json);
        if (length > HISTORY_RECORD_MAX)
                return log_error_errno(EFBIG, "Report of job %" PRIu64 " is %zu bytes, more than the history keeps.", id, length);
        r = history_refresh();
        if (r < 0)
                return r;
        if (id > idx.last_id) {
                idx.last_id = id;
                (void) last_id_save();
        }

        fd = open(idx.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 || fstat(fd, &st) < 0)
                return log_error_errno(errno, "Cannot open %s: %m", idx.path);
        torn = (uint64_t) st.st_size > idx.end;
        offset = (uint64_t) st.st_size + (torn ? 1 : 0);
        r = write_record(fd, torn, json, length);
        if (r < 0) {
                /* Whatever reached the file is found by the next refresh. */
                return log_error_errno(r, "Cannot append to %s: %m", idx.path);
        }
        if ((uint64_t) st.st_size != idx.size || st.st_ino != idx.ino) {
                /* Someone else wrote too: index from the file. */
                return history_refresh();
        }
        r = entry_add(id, offset, length, report);
        if (r < 0)
                return r;
        idx.end = idx.size = offset + length + 1;
        if (over_bounds())
                (void) history_rotate();
        return 0;
}

static const HistoryEntry *entry_find(uint64_t id) {
        if (idx.n == 0)
                return NULL;
        if (id == 0)
                return &idx.entries[idx.n - 1];
        /* The newest of equal ids wins, as appended last. */
        for (size_t i = idx.n; i > 0; i--)
                if (idx.entries[i - 1].id == id)
                        return &idx.entries[i - 1];
        return NULL;
}

bool history_has(uint64_t id) {
        if (id == 0 || history_refresh() < 0)
                return false;
        return entry_find(id) != NULL;
}

static int record_read(const HistoryEntry *e, json_object **ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = malloc((size_t) e->length + 1);
        json_object *o;
        uint64_t id;
        ssize_t n;

        if (!buf)
                return -ENOMEM;
        fd = open(idx.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        n = pread(fd, buf, e->length, (off_t) e->offset);
        if (n < 0)
                return -errno;
        if ((size_t) n != e->length)
                return -ESTALE;
        buf[n] = '\0';
        o = json_tokener_parse(buf);
        if (!o || history_id_from_json(o, &id) < 0 || id != e->id) {
                json_object_put(o);
                return -ESTALE;
        }
        *ret = o;
        return 0;
}

int history_find(uint64_t id, json_object **ret) {
        const HistoryEntry *e;
        int r;

        for (unsigned attempt = 0; attempt < 2; attempt++) {
                r = history_refresh();
                if (r < 0)
                        return r;
                e = entry_find(id);
                if (!e)
                        return -ENOENT;
                r = record_read(e, ret);
                if (r != -ESTALE)
                        return r;
                /* Changed under us in a way size and inode do not show: index anew. */
                log_warning("%s changed under the index; indexing it again.", idx.path);
                entries_clear();
        }
        return -EIO;
}

static void page_bounds(uint64_t offset, uint64_t limit, size_t *ret_begin, size_t *ret_end) {
        uint64_t end = offset < idx.n ? idx.n - offset : 0;

        limit = MIN(limit, (uint64_t) HISTORY_PAGE_MAX);
        *ret_end = (size_t) end;
        *ret_begin = (size_t) (end > limit ? end - limit : 0);
}

int history_list_page_json(uint64_t offset, uint64_t limit, char **ret) {
        size_t begin, end, length = 3;
        char *s, *p;
        int r;

        r = history_refresh();
        if (r < 0)
                return r;
        page_bounds(offset, limit, &begin, &end);
        for (size_t i = begin; i < end; i++)
                length += strlen(idx.entries[i].summary) + 1;
        s = malloc(length);
        if (!s)
                return -ENOMEM;
        p = stpcpy(s, "[");
        for (size_t i = begin; i < end; i++) {
                if (i > begin)
                        *p++ = ',';
                p = stpcpy(p, idx.entries[i].summary);
        }
        strcpy(p, "]");
        *ret = s;
        return 0;
}

int history_list_page(uint64_t offset, uint64_t limit, json_object **ret) {
        _cleanup_free_ char *s = NULL;
        json_object *a;
        int r;

        r = history_list_page_json(offset, limit, &s);
        if (r < 0)
                return r;
        a = json_tokener_parse(s);
        if (!a)
                return -ENOMEM;
        *ret = a;
        return 0;
}

int history_list(json_object **ret) {
        return history_list_page(0, HISTORY_PAGE_DEFAULT, ret);
}

uint64_t history_last_id(void) {
        (void) history_refresh();
        return idx.last_id;
}

size_t history_count(void) {
        (void) history_refresh();
        return idx.n;
}
