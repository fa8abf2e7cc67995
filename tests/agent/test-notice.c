/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the agent's pure parts: the notification texts (English, the
 * C locale) and notify.conf. No bus. */
#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "notice.h"
#include "notify-config.h"
#include "util.h"

#include "avm-test.h"

static char tmpdir[PATH_MAX];

static bool has(const char *haystack, const char *needle) {
        return strstr(haystack, needle) != NULL;
}

static NoticeInput planned(void) {
        return (NoticeInput){
                .kind = NOTICE_PLANNED,
                .old_name = "Kaspersky Endpoint Security for Linux",
                .new_name = "ClamAV",
                .protecting_name = "Kaspersky Endpoint Security for Linux",
                .protected_ = true,
                .deferrals_left = 2,
                .postpone_usec = NOTIFY_POSTPONE_DEFAULT_USEC,
                .postpone_error = "",
                .contact = "",
                .server_has_actions = true,
        };
}

static void test_planned(void) {
        NoticeInput in = planned();
        Notice n;

        notice_render(&in, &n);
        CHECK(n.kind == NOTICE_PLANNED);
        CHECK(streq(n.summary, "Your antivirus program will be replaced"));
        CHECK(has(n.body, "Kaspersky Endpoint Security for Linux will soon be replaced by ClamAV."));
        CHECK(has(n.body, "You can postpone it 2 more times."));
        CHECK(n.urgency == 1);
        CHECK(n.postpone_action);
        CHECK(streq(n.postpone_label, "Postpone 2 hours"));
        CHECK(!has(n.body, "avmigratectl"));

        /* A server without actions: the CLI, with the same duration. */
        in.server_has_actions = false;
        notice_render(&in, &n);
        CHECK(!n.postpone_action);
        CHECK(has(n.body, "To postpone it by 2 hours, run: avmigratectl postpone 2h"));

        /* One left: singular. None left: no action, no hint. */
        in.server_has_actions = true;
        in.deferrals_left = 1;
        notice_render(&in, &n);
        CHECK(has(n.body, "You can postpone it 1 more time."));
        in.deferrals_left = 0;
        notice_render(&in, &n);
        CHECK(!n.postpone_action);
        CHECK(!has(n.body, "postpone"));

        /* Scheduled: the date is in the text. */
        in = planned();
        in.scheduled_at = UINT64_C(1796223600) * USEC_PER_SEC;
        notice_render(&in, &n);
        CHECK(has(n.body, "On "));
        CHECK(has(n.body, " at "));
        CHECK(has(n.body, ", Kaspersky Endpoint Security for Linux on this computer will be replaced by ClamAV."));

        /* Our Postpone failed. */
        in = planned();
        in.postpone_error = "no postponements are left";
        notice_render(&in, &n);
        CHECK(has(n.body, "Postponing did not succeed: no postponements are left"));

        /* Unknown names: generic words, never an empty name. */
        in = planned();
        in.old_name = in.new_name = "";
        notice_render(&in, &n);
        CHECK(has(n.body, "the current antivirus program will soon be replaced by the new antivirus program."));
}

static void test_other_kinds(void) {
        NoticeInput in = planned();
        Notice n;

        in.kind = NOTICE_RUNNING;
        notice_render(&in, &n);
        CHECK(n.urgency == 2);
        CHECK(!n.postpone_action);
        CHECK(has(n.body, "keep your computer switched on"));

        in.kind = NOTICE_COMPLETED;
        in.protecting_name = "ClamAV";
        notice_render(&in, &n);
        CHECK(streq(n.summary, "Your antivirus program has been replaced"));
        CHECK(has(n.body, "now protected by ClamAV; Kaspersky Endpoint Security for Linux has been removed."));
        in.protected_ = false;
        notice_render(&in, &n);
        CHECK(has(n.body, "still being checked"));

        in = planned();
        in.kind = NOTICE_FAILED;
        in.contact = "the service desk (070 123 4567)";
        notice_render(&in, &n);
        CHECK(has(n.body, "still protected by Kaspersky Endpoint Security for Linux."));
        CHECK(has(n.body, "please contact the service desk (070 123 4567)."));
        CHECK(n.urgency == 1);
        /* Not protected: said plainly, critical, the default contact. */
        in.protected_ = false;
        in.contact = "";
        notice_render(&in, &n);
        CHECK(has(n.body, "may not be protected"));
        CHECK(has(n.body, "Please contact your IT department straight away."));
        CHECK(n.urgency == 2);

        in.kind = NOTICE_NONE;
        notice_render(&in, &n);
        CHECK(n.summary[0] == 0 && n.body[0] == 0);
}

static void test_format(void) {
        char buf[64];

        format_cli_duration(buf, sizeof(buf), 7200 * USEC_PER_SEC);
        CHECK(streq(buf, "2h"));
        format_cli_duration(buf, sizeof(buf), 1800 * USEC_PER_SEC);
        CHECK(streq(buf, "30min"));
        format_cli_duration(buf, sizeof(buf), 86400 * USEC_PER_SEC);
        CHECK(streq(buf, "1d"));
        format_cli_duration(buf, sizeof(buf), 90 * USEC_PER_SEC);
        CHECK(streq(buf, "90s"));
        format_span(buf, sizeof(buf), 3600 * USEC_PER_SEC);
        CHECK(streq(buf, "1 hour"));
        format_span(buf, sizeof(buf), 2 * 86400 * USEC_PER_SEC);
        CHECK(streq(buf, "2 days"));

        notice_escape_markup("a & b <i>", buf, sizeof(buf));
        CHECK(streq(buf, "a &amp; b &lt;i&gt;"));
        notice_escape_markup("&&&", buf, 10); /* room for one entity only... */
        CHECK(streq(buf, "&amp;"));           /* ...never half of the second */
}

static int write_conf(const char *text) {
        char path[PATH_MAX + 16];
        FILE *f;

        snprintf(path, sizeof(path), "%s/notify.conf", tmpdir);
        f = fopen(path, "we");
        if (!f)
                return -errno;
        fputs(text, f);
        fclose(f);
        return 0;
}

static int parse(NotifyConfig *c, const char *lang, char *error, size_t size) {
        char path[PATH_MAX + 16];

        notify_config_init(c);
        snprintf(path, sizeof(path), "%s/notify.conf", tmpdir);
        return notify_config_parse_file(c, path, lang, error, size);
}

static void test_config(void) {
        NotifyConfig c;
        char error[512];

        CHECK(write_conf("[Notify]\nContact=the service desk\nContact[nl]=de servicedesk\nContact[nl_BE]=de helpdesk\n"
                         "Contact[de]=der Helpdesk\nPostponeSec=3600\n") == 0);
        CHECK(parse(&c, "C.UTF-8", error, sizeof(error)) == 0);
        CHECK(streq(c.contact, "the service desk"));
        CHECK(c.postpone_usec == 3600 * USEC_PER_SEC);
        CHECK(parse(&c, "nl_NL.UTF-8", error, sizeof(error)) == 0);
        CHECK(streq(c.contact, "de servicedesk"));
        CHECK(parse(&c, "nl_BE.UTF-8@euro", error, sizeof(error)) == 0);
        CHECK(streq(c.contact, "de helpdesk"));

        /* The localized key wins also when the plain one comes later. */
        CHECK(write_conf("[Notify]\nContact[nl]=de servicedesk\nContact=the service desk\n") == 0);
        CHECK(parse(&c, "nl_NL.UTF-8", error, sizeof(error)) == 0);
        CHECK(streq(c.contact, "de servicedesk"));

        /* Errors name file and line; valid lines are kept. */
        CHECK(write_conf("[Notify]\nContact=x\nPostponeSec=0\n") == 0);
        CHECK(parse(&c, "C", error, sizeof(error)) == -EBADMSG);
        CHECK(has(error, "notify.conf:3: PostponeSec=") && streq(c.contact, "x"));
        CHECK(c.postpone_usec == NOTIFY_POSTPONE_DEFAULT_USEC);
        CHECK(write_conf("[Notify]\nPostponeSec=604801\n") == 0);
        CHECK(parse(&c, "C", error, sizeof(error)) == -EBADMSG);
        CHECK(write_conf("[Notify]\nColour=red\n") == 0);
        CHECK(parse(&c, "C", error, sizeof(error)) == -EBADMSG);
        CHECK(has(error, ":2: unknown key 'Colour'"));
        CHECK(write_conf("[Manager]\nContact=x\n") == 0);
        CHECK(parse(&c, "C", error, sizeof(error)) == -EBADMSG);
        CHECK(has(error, "unknown section [Manager]"));
        CHECK(c.contact[0] == 0);

        /* Bounded: a long value and a large file are refused. */
        {
                char *big = malloc(NOTIFY_CONFIG_MAX_FILE_SIZE + 64);
                CHECK(big != NULL);
                if (big) {
                        memset(big, '#', NOTIFY_CONFIG_MAX_FILE_SIZE + 32);
                        big[NOTIFY_CONFIG_MAX_FILE_SIZE + 32] = 0;
                        CHECK(write_conf(big) == 0);
                        CHECK(parse(&c, "C", error, sizeof(error)) == -EFBIG);
                        snprintf(big, 64, "[Notify]\nContact=");
                        memset(big + strlen(big), 'x', NOTIFY_CONTACT_MAX);
                        big[strlen("[Notify]\nContact=") + NOTIFY_CONTACT_MAX] = 0;
                        CHECK(write_conf(big) == 0);
                        CHECK(parse(&c, "C", error, sizeof(error)) == -EBADMSG);
                        /* libinih reads at most 200 bytes a line: the rest is a syntax error. */
                        CHECK(has(error, "notify.conf:"));
                        free(big);
                }
        }

        /* Missing: -ENOENT (the defaults). */
        {
                char path[PATH_MAX + 16];
                snprintf(path, sizeof(path), "%s/notify.conf", tmpdir);
                unlink(path);
                CHECK(parse(&c, "C", error, sizeof(error)) == -ENOENT);
        }
}

int main(void) {
        /* The C locale: the English source texts, whatever the caller's. */
        setenv("LC_ALL", "C", 1);
        setlocale(LC_ALL, "");

        snprintf(tmpdir, sizeof(tmpdir), "/tmp/avm-notice.XXXXXX");
        if (!mkdtemp(tmpdir))
                return 2;
        test_planned();
        test_other_kinds();
        test_format();
        test_config();
        rmdir(tmpdir);
        return avm_test_finish();
}
