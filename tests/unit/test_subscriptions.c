/* test_subscriptions.c: unit tests for lib/storage/subscriptions: the
 * version 2 format Dovecot 2.3 writes (header, TAB between levels,
 * \001 escapes) and the old one, entries skipped as Dovecot skips them,
 * subscribe/unsubscribe keeping the file's format and its other lines,
 * the dotlock (stale and busy). */
#include "unit.h"

#include <time.h>
#include <utime.h>

#include "base/mem.h"
#include "storage/subscriptions.h"
#include "storage_util.h"

static void joined(const struct strlist *list, struct buf *out)
{
    buf_reset(out);
    for (size_t i = 0; i < list->count; i++)
        buf_appendf(out, "%s%s", i ? "|" : "", list->items[i]);
}

static void test_parse_v2(void)
{
    static const char text[] = "V\t2\n\nSent\nINBOX\n&AMQ-rger2\nINBOX\tsub\n"
                               "a\tb\tc\n\nSent\nx\001ty\nbad\001z\n"
                               "dot.inlevel\n\ttab\nend\t\nslash/x\nlast";
    struct strlist names;
    struct buf out = BUF_INIT;
    strlist_init(&names);
    CHECK_INT(subscriptions_parse(text, sizeof(text) - 1, &names), 2);
    joined(&names, &out);
    /* x<TAB>y unescapes to a level holding a TAB: a control character,
     * skipped like the other invalid entries. */
    CHECK_STR(out.data, "Sent|INBOX|&AMQ-rger2|INBOX.sub|a.b.c|last");
    strlist_free(&names);
    buf_free(&out);
}

static void test_parse_old(void)
{
    static const char text[] = "Lists.postern\nINBOX\nfoo/bar\n&AOk-t&AOk-\n"
                               "\n  sp\n.lead\ntrail.\na..b\nV\t2\ninbox\n"
                               "Inbox.sub\ninboxes\n";
    struct strlist names;
    struct buf out = BUF_INIT;
    strlist_init(&names);
    CHECK_INT(subscriptions_parse(text, sizeof(text) - 1, &names), 0);
    joined(&names, &out);
    CHECK_STR(out.data,
              "Lists.postern|INBOX|&AOk-t&AOk-|  sp|INBOX.sub|inboxes");
    strlist_free(&names);

    /* A header cut short is the old format; nothing reads past the end. */
    strlist_init(&names);
    CHECK_INT(subscriptions_parse("V\t2\n", 4, &names), 0);
    CHECK_INT(names.count, 0);
    CHECK_INT(subscriptions_parse("", 0, &names), 0);
    strlist_free(&names);

    /* An entry over 1024 bytes is skipped. */
    char *big = xmalloc(1100);
    memset(big, 'x', 1099);
    big[1099] = '\n';
    strlist_init(&names);
    subscriptions_parse(big, 1100, &names);
    CHECK_INT(names.count, 0);
    strlist_free(&names);
    free(big);
    buf_free(&out);
}

static void test_read_names(void)
{
    char *root = scratch_dir();
    struct mailbox_list list = {.root = root, .separator = '/'};
    struct strlist names;
    struct buf out = BUF_INIT, error = BUF_INIT;
    char *path = xasprintf("%s/subscriptions", root);

    strlist_init(&names);
    CHECK_INT(subscriptions_read(&list, &names, &error), 0); /* missing */
    CHECK_INT(names.count, 0);
    CHECK_INT(write_whole(path, "V\t2\n\nINBOX\tsub\n&AMQ-rger\nLists\tx\n"
                                "&Jjo\nINBOX\n"),
              0);
    CHECK_INT(subscriptions_read(&list, &names, &error), 0);
    joined(&names, &out);
    CHECK_STR(out.data, "INBOX/sub|Ärger|Lists/x|INBOX");
    strlist_free(&names);

    list.separator = '.';
    strlist_init(&names);
    CHECK_INT(subscriptions_read(&list, &names, &error), 0);
    joined(&names, &out);
    CHECK_STR(out.data, "INBOX.sub|Ärger|Lists.x|INBOX");
    strlist_free(&names);
    free(path);
    buf_free(&out);
    buf_free(&error);
    scratch_remove(root);
}

static void test_set(void)
{
    char *root = scratch_dir();
    struct mailbox_list list = {.root = root, .separator = '/'};
    struct buf content = BUF_INIT, error = BUF_INIT;
    char *path = xasprintf("%s/subscriptions", root);
    char *lock = xasprintf("%s/subscriptions.lock", root);

    /* A new file is version 2. */
    CHECK_INT(subscriptions_set(&list, "Sent", 1, &error), 1);
    CHECK_INT(subscriptions_set(&list, "inbox", 1, &error), 1);
    CHECK_INT(subscriptions_set(&list, "Lists/Ärger", 1, &error), 1);
    CHECK_INT(subscriptions_set(&list, "INBOX/sub", 1, &error), 1);
    CHECK_INT(subscriptions_set(&list, "Sent", 1, &error), 0);
    CHECK_INT(read_whole(path, &content), 0);
    CHECK_STR(content.data,
              "V\t2\n\nSent\nINBOX\nLists\t&AMQ-rger\nINBOX\tsub\n");
    CHECK_INT(subscriptions_set(&list, "Sent", 0, &error), 1);
    CHECK_INT(subscriptions_set(&list, "Sent", 0, &error), 0);
    CHECK_INT(read_whole(path, &content), 0);
    CHECK_STR(content.data, "V\t2\n\nINBOX\nLists\t&AMQ-rger\nINBOX\tsub\n");
    CHECK(access(lock, F_OK) != 0);

    CHECK_INT(subscriptions_set(&list, "a.b", 1, &error), -1);
    CHECK_STR(error.data, "Character not allowed in mailbox name: '.'");

    /* The old format stays old; lines the reader skips are kept. */
    CHECK_INT(write_whole(path, "Lists.postern\nfoo/bar\nINBOX\n"), 0);
    CHECK_INT(subscriptions_set(&list, "Lists/postern", 0, &error), 1);
    CHECK_INT(subscriptions_set(&list, "New/one", 1, &error), 1);
    CHECK_INT(read_whole(path, &content), 0);
    CHECK_STR(content.data, "foo/bar\nINBOX\nNew.one\n");
    free(path);
    free(lock);
    buf_free(&content);
    buf_free(&error);
    scratch_remove(root);
}

static void test_lock(void)
{
    char *root = scratch_dir();
    struct mailbox_list list = {.root = root, .separator = '/'};
    struct buf error = BUF_INIT;
    char *lock = xasprintf("%s/subscriptions.lock", root);

    /* A stale lock (older than 30 s) is broken. */
    CHECK_INT(write_whole(lock, ""), 0);
    struct utimbuf old = {time(NULL) - 60, time(NULL) - 60};
    CHECK_INT(utime(lock, &old), 0);
    CHECK_INT(subscriptions_set(&list, "Sent", 1, &error), 1);
    CHECK(access(lock, F_OK) != 0);

    /* A fresh one is waited for, a bounded time, and then refused. */
    CHECK_INT(write_whole(lock, ""), 0);
    time_t start = time(NULL);
    CHECK_INT(subscriptions_set(&list, "Drafts", 1, &error), -1);
    CHECK_STR(error.data, "Timeout waiting for subscription file lock");
    CHECK(time(NULL) - start <= 10);
    CHECK(access(lock, F_OK) == 0); /* not ours to remove */
    free(lock);
    buf_free(&error);
    scratch_remove(root);
}

int main(void)
{
    UNIT_RUN(test_parse_v2);
    UNIT_RUN(test_parse_old);
    UNIT_RUN(test_read_names);
    UNIT_RUN(test_set);
    UNIT_RUN(test_lock);
    return unit_summary();
}
