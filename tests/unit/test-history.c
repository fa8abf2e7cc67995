/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The job history (daemon/history.c): a large history is indexed within
 * time and memory bounds and rotated, ids are never reused, bad and torn
 * lines are skipped without touching the id counter, a file larger than
 * any bound is not read whole, pages. Only the functions callers had before
 * the index are needed for the regression checks, so this also builds
 * against the old history.c (the paging part is left out then). */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "history.h"
#include "util.h"

#include "avm-test.h"

/* ASan keeps freed memory in quarantine and is slower: RSS says nothing
 * about the code then, and time bounds are looser. */
#ifdef __SANITIZE_ADDRESS__
#        define SANITIZED 1
#else
#        define SANITIZED 0
#endif

static char base[PATH_MAX];

/* A state directory of its own for each case; the history follows
 * $STATE_DIRECTORY. */
static void use_dir(const char *name, char *path, size_t size) {
        snprintf(path, size, "%s/%s", base, name);
        (void) mkdir(path, 0700);
        setenv("STATE_DIRECTORY", path, 1);
}

static FILE *open_history(const char *dir, const char *mode) {
        char path[PATH_MAX + 32];
        FILE *f;

        snprintf(path, sizeof(path), "%s/history.jsonl", dir);
        f = fopen(path, mode);
        if (!f)
                abort();
        return f;
}

static size_t count_lines(const char *dir) {
        FILE *f = open_history(dir, "re");
        size_t n = 0;
        int c;

        while ((c = fgetc(f)) != EOF)
                n += c == '\n';
        fclose(f);
        return n;
}

static long maxrss_kib(void) {
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return ru.ru_maxrss;
}

static uint64_t id_of(json_object *o) {
        json_object *v;

        return json_object_object_get_ex(o, "id", &v) ? (uint64_t) json_object_get_int64(v) : 0;
}

static json_object *report_new(uint64_t id) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "id", json_object_new_int64((int64_t) id));
        json_object_object_add(o, "from", json_object_new_string("kaspersky-kesl"));
        json_object_object_add(o, "to", json_object_new_string("clamav"));
        json_object_object_add(o, "result", json_object_new_string("completed"));
        return o;
}

/* Forgets what the history module knows, as a restart of the daemon does:
 * it indexes again when the state directory changes. */
static void restart(const char *dir) {
        char other[PATH_MAX];

        use_dir("elsewhere", other, sizeof(other));
        (void) history_last_id();
        setenv("STATE_DIRECTORY", dir, 1);
}

#define BIG_JOBS 14000u

static void test_big(void) {
        char dir[PATH_MAX];
        struct timespec a, b;
        json_object *found = NULL, *r;
        long rss_before;
        double seconds;
        FILE *f;

        use_dir("big", dir, sizeof(dir));
        f = open_history(dir, "we");
        for (unsigned i = 1; i <= BIG_JOBS; i++)
                fprintf(f,
                        "{\"id\":%u,\"from\":\"kaspersky-kesl\",\"to\":\"clamav\",\"result\":\"completed\","
                        "\"created_usec\":1700000000000000,\"finished_usec\":1700000060000000,\"gap_usec\":1234,"
                        "\"timeline\":[{\"event\":\"step-started\",\"step\":\"preflight\"},{\"event\":\"finished\"}]}\n",
                        i);
        fclose(f);

        rss_before = maxrss_kib();
        /* CPU time: the machine may be busy with other things. */
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
        CHECK(history_last_id() == BIG_JOBS);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
        seconds = (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9;
        printf("indexing %u jobs: %.3f s CPU, max RSS +%ld KiB\n", BIG_JOBS, seconds, maxrss_kib() - rss_before);
        CHECK(seconds < (SANITIZED ? 20.0 : 3.0));
        CHECK(SANITIZED || maxrss_kib() - rss_before < 32 * 1024);

        /* Rotated to the newest 1000 (at most 1250 before the next rotation). */
        CHECK(count_lines(dir) <= 1250);
        CHECK(history_has(BIG_JOBS) && history_has(BIG_JOBS - 500) && !history_has(5));
        CHECK(history_find(BIG_JOBS - 1, &found) == 0 && id_of(found) == BIG_JOBS - 1);
        json_object_put(found);
        found = NULL;

        r = report_new(BIG_JOBS + 1);
        CHECK(history_append(r) == 0);
        json_object_put(r);
        CHECK(history_last_id() == BIG_JOBS + 1);
        CHECK(history_find(0, &found) == 0 && id_of(found) == BIG_JOBS + 1);
        json_object_put(found);

        /* Keeps rotating as jobs are appended. */
        for (unsigned i = 2; i <= 260; i++) {
                r = report_new(BIG_JOBS + i);
                CHECK(history_append(r) == 0);
                json_object_put(r);
        }
        CHECK(count_lines(dir) <= 1250);
        CHECK(history_last_id() == BIG_JOBS + 260);

        /* Ids are never reused: not after a restart, not when the history
         * lost its newest lines, not when it is gone. */
        restart(dir);
        CHECK(history_last_id() == BIG_JOBS + 260);
        f = open_history(dir, "we");
        fputs("{\"id\":3}\n", f);
        fclose(f);
        restart(dir);
        CHECK(history_last_id() == BIG_JOBS + 260);
        f = open_history(dir, "we");
        fclose(f);
        restart(dir);
        CHECK(history_last_id() == BIG_JOBS + 260);
}

static void test_bad_ids(void) {
        char dir[PATH_MAX];
        json_object *list = NULL, *found = NULL, *r;
        FILE *f;

        use_dir("bad", dir, sizeof(dir));
        f = open_history(dir, "we");
        fputs("{\"id\":1,\"result\":\"completed\"}\n"
              "{\"id\":-5}\n"
              "{\"id\":0}\n"
              "{\"id\":1.5}\n"
              "{\"id\":\"7\"}\n"
              "{\"id\":true}\n"
              "{\"id\":9007199254740993}\n"
              "{\"id\":18446744073709551615}\n"
              "{\"id\":99999999999999999999999}\n"
              "{\"noid\":4}\n"
              "[1,2,3]\n"
              "not json at all\n"
              "\n"
              "{\"id\":2,\"result\":\"rolled-back\"}\n",
              f);
        fclose(f);
        CHECK(history_last_id() == 2);
        CHECK(history_has(1) && history_has(2) && !history_has(5));
        CHECK(history_list(&list) == 0 && json_object_array_length(list) == 2);
        json_object_put(list);
        CHECK(history_find(0, &found) == 0 && id_of(found) == 2);
        json_object_put(found);

        /* A report with a bad id is not appended, and does not move the counter. */
        r = report_new(3);
        json_object_object_add(r, "id", json_object_new_int64(-5));
        (void) history_append(r);
        json_object_put(r);
        CHECK(history_last_id() == 2);
}

static void test_torn(void) {
        char dir[PATH_MAX];
        json_object *found = NULL, *r;
        FILE *f;

        use_dir("torn", dir, sizeof(dir));
        f = open_history(dir, "we");
        fputs("{\"id\":1}\n{\"id\":2,\"resu", f);
        fclose(f);
        CHECK(history_last_id() == 1);
        CHECK(!history_has(2));
        /* The next record after a torn line is whole. */
        r = report_new(2);
        CHECK(history_append(r) == 0);
        json_object_put(r);
        CHECK(history_has(2) && history_has(1));
        CHECK(history_find(2, &found) == 0 && id_of(found) == 2);
        json_object_put(found);
        restart(dir);
        CHECK(history_last_id() == 2 && history_has(2));
}

static void test_huge(void) {
        char dir[PATH_MAX], path[PATH_MAX + 32];
        const char tail[] = "\n{\"id\":41}\n{\"id\":42}\n";
        long rss_before;
        int fd;

        /* 80 MiB, sparse: one enormous first line, then two jobs. */
        use_dir("huge", dir, sizeof(dir));
        snprintf(path, sizeof(path), "%s/history.jsonl", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, 80 * 1024 * 1024) < 0 || pwrite(fd, "{\"id\":1,\"pad\":\"", 15, 0) != 15 ||
            pwrite(fd, tail, strlen(tail), 80 * 1024 * 1024) != (ssize_t) strlen(tail))
                abort();
        close(fd);

        rss_before = maxrss_kib();
        CHECK(history_last_id() == 42);
        CHECK(history_has(41) && history_has(42));
        printf("indexing an 80 MiB history: max RSS +%ld KiB\n", maxrss_kib() - rss_before);
        CHECK(SANITIZED || maxrss_kib() - rss_before < 32 * 1024);
}

#ifdef HISTORY_PAGE_MAX
static void test_pages(void) {
        char dir[PATH_MAX];
        json_object *page = NULL, *r;

        use_dir("pages", dir, sizeof(dir));
        for (unsigned i = 1; i <= 250; i++) {
                r = report_new(i);
                CHECK(history_append(r) == 0);
                json_object_put(r);
        }
        CHECK(history_count() == 250);
        CHECK(history_list(&page) == 0 && json_object_array_length(page) == HISTORY_PAGE_DEFAULT);
        CHECK(id_of(json_object_array_get_idx(page, 0)) == 151 && id_of(json_object_array_get_idx(page, 99)) == 250);
        json_object_put(page);
        CHECK(history_list_page(10, 5, &page) == 0 && json_object_array_length(page) == 5);
        CHECK(id_of(json_object_array_get_idx(page, 0)) == 236 && id_of(json_object_array_get_idx(page, 4)) == 240);
        json_object_put(page);
        CHECK(history_list_page(240, 100, &page) == 0 && json_object_array_length(page) == 10);
        CHECK(id_of(json_object_array_get_idx(page, 0)) == 1);
        json_object_put(page);
        CHECK(history_list_page(UINT64_MAX, UINT64_MAX, &page) == 0 && json_object_array_length(page) == 0);
        json_object_put(page);
        CHECK(history_list_page(0, UINT64_MAX, &page) == 0 && json_object_array_length(page) == 250);
        json_object_put(page);
}
#endif

static int remove_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

int main(void) {
        const char *t = getenv("TMPDIR");

        snprintf(base, sizeof(base), "%s/avm-test-history-XXXXXX", t ? t : "/tmp");
        if (!mkdtemp(base))
                return 2;
        test_big();
        test_bad_ids();
        test_torn();
        test_huge();
#ifdef HISTORY_PAGE_MAX
        test_pages();
#endif
        if (nftw(base, remove_cb, 16, FTW_DEPTH | FTW_PHYS) < 0)
                fprintf(stderr, "could not remove %s\n", base);
        return avm_test_finish();
}
