/* test_list_command.c: unit tests for lib/storage/list_command: LIST
 * and LSUB answered over a Maildir tree with nested folders, \Noselect
 * parents, special-use folders, unsubscribed folders and subscribed
 * names that do not exist; the answers are the ones Dovecot 2.3 gives
 * for the same tree (tests/e2e/test_imap_folders_dovecot.py compares the
 * two directly), in our order (INBOX first, then by level). */
#include "unit.h"

#include "base/mem.h"
#include "imap/imap_list.h"
#include "imap_fixture.h"
#include "storage/list_command.h"
#include "storage/subscriptions.h"
#include "storage_util.h"

static struct imap_reader reader;
static char *root;
static struct mailbox_list list;
static struct special_use_folders special;

static int fake_status(void *context, const char *name, const char *disk_name,
                       unsigned items, struct buf *out)
{
    (void)context;
    if (strcmp(name, "Drafts") == 0)
        return -1; /* e.g. could not be opened: left out */
    buf_appendf(out, "(MESSAGES %zu", strlen(disk_name));
    if (items & IMAP_STATUS_UNSEEN)
        buf_append_str(out, " UNSEEN 0");
    buf_append_char(out, ')');
    return 0;
}

/* Answers "LIST ..." / "LSUB ..." and returns the untagged lines, or
 * "BAD <error>". */
static const char *answer(const char *command, int utf8)
{
    static struct buf out;
    char line[1024];
    snprintf(line, sizeof(line), "t %s", command);
    buf_reset(&out);
    const struct imap_command *cmd = imap_fixture_read(&reader, line);
    if (!cmd)
        return "reader failed";
    struct imap_list_args args;
    const char *error;
    if (imap_list_args_parse(cmd->args, cmd->arg_count,
                             strcmp(cmd->name, "LSUB") == 0, list.separator,
                             utf8, &args, &error) < 0) {
        buf_appendf(&out, "BAD %s", error);
        return out.data;
    }
    struct list_command_env env = {&list, &special, utf8, fake_status, NULL};
    struct buf err = BUF_INIT;
    if (list_command_answer(&env, &args, &out, &err) < 0)
        buf_appendf(&out, "NO %s", err.data);
    buf_free(&err);
    imap_list_args_free(&args);
    return out.data;
}

static void make_tree(void)
{
    struct buf error = BUF_INIT;
    static const char *const folders[] = {
        "INBOX/sub", "Sent", "Sent/x", "a/b/c", "Drafts", "Zed", "Ärger",
        "sp ace", "Trash"};
    for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++)
        if (mailbox_list_create(&list, folders[i], &error) != MAILBOX_LIST_OK)
            printf("# create %s: %s\n", folders[i], error.data);
    static const char *const subscribed[] = {"INBOX", "Sent", "Sent/x",
                                             "a/b/c", "gone/x", "Ärger"};
    for (size_t i = 0; i < sizeof(subscribed) / sizeof(subscribed[0]); i++)
        if (subscriptions_set(&list, subscribed[i], 1, &error) < 0)
            printf("# subscribe %s: %s\n", subscribed[i], error.data);
    special_use_set(&special, SPECIAL_USE_SENT, "Sent");
    special_use_set(&special, SPECIAL_USE_DRAFTS, "Drafts");
    special_use_set(&special, SPECIAL_USE_TRASH, "Trash");
    special_use_set(&special, SPECIAL_USE_JUNK, "Junk"); /* missing */
    buf_free(&error);
}

static void test_basic_list(void)
{
    CHECK_STR(answer("LIST \"\" *", 0),
              "* LIST (\\HasChildren) \"/\" INBOX\r\n"
              "* LIST (\\HasNoChildren) \"/\" INBOX/sub\r\n"
              "* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts\r\n"
              "* LIST (\\HasChildren \\Sent) \"/\" Sent\r\n"
              "* LIST (\\HasNoChildren) \"/\" Sent/x\r\n"
              "* LIST (\\HasNoChildren \\Trash) \"/\" Trash\r\n"
              "* LIST (\\HasNoChildren) \"/\" Zed\r\n"
              "* LIST (\\Noselect \\HasChildren) \"/\" a\r\n"
              "* LIST (\\Noselect \\HasChildren) \"/\" a/b\r\n"
              "* LIST (\\HasNoChildren) \"/\" a/b/c\r\n"
              "* LIST (\\HasNoChildren) \"/\" \"sp ace\"\r\n"
              "* LIST (\\HasNoChildren) \"/\" &AMQ-rger\r\n");
    CHECK_STR(answer("LIST \"\" %", 0),
              "* LIST (\\HasChildren) \"/\" INBOX\r\n"
              "* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts\r\n"
              "* LIST (\\HasChildren \\Sent) \"/\" Sent\r\n"
              "* LIST (\\HasNoChildren \\Trash) \"/\" Trash\r\n"
              "* LIST (\\HasNoChildren) \"/\" Zed\r\n"
              "* LIST (\\Noselect \\HasChildren) \"/\" a\r\n"
              "* LIST (\\HasNoChildren) \"/\" \"sp ace\"\r\n"
              "* LIST (\\HasNoChildren) \"/\" &AMQ-rger\r\n");
    CHECK_STR(answer("LIST \"a/\" %", 0),
              "* LIST (\\Noselect \\HasChildren) \"/\" a/b\r\n");
    CHECK_STR(answer("LIST \"\" inbox", 0),
              "* LIST (\\HasChildren) \"/\" INBOX\r\n");
    CHECK_STR(answer("LIST \"\" InBoX/*", 0),
              "* LIST (\\HasNoChildren) \"/\" INBOX/sub\r\n");
    CHECK_STR(answer("LIST \"\" nonexist", 0), "");
    CHECK_STR(answer("LIST \"\" &AMQ-*", 0),
              "* LIST (\\HasNoChildren) \"/\" &AMQ-rger\r\n");
    CHECK_STR(answer("LIST \"\" \"\xc3\x84*\"", 1),
              "* LIST (\\HasNoChildren) \"/\" \"\xc3\x84rger\"\r\n");
    CHECK_STR(answer("LIST \"\" \"\"", 0), "* LIST (\\Noselect) \"/\" \"\"\r\n");
    CHECK_STR(answer("LIST \"a/b\" \"\"", 0),
              "* LIST (\\Noselect) \"/\" a/\r\n");
    CHECK_STR(answer("LIST \"a/\" \"/%\"", 0), "");
}

static void test_lsub(void)
{
    CHECK_STR(answer("LSUB \"\" *", 0),
              "* LSUB () \"/\" INBOX\r\n"
              "* LSUB (\\Sent) \"/\" Sent\r\n"
              "* LSUB () \"/\" Sent/x\r\n"
              "* LSUB () \"/\" a/b/c\r\n"
              "* LSUB () \"/\" gone/x\r\n"
              "* LSUB () \"/\" &AMQ-rger\r\n");
    CHECK_STR(answer("LSUB \"\" %", 0),
              "* LSUB () \"/\" INBOX\r\n"
              "* LSUB (\\Sent) \"/\" Sent\r\n"
              "* LSUB (\\Noselect) \"/\" a\r\n"
              "* LSUB (\\Noselect) \"/\" gone\r\n"
              "* LSUB () \"/\" &AMQ-rger\r\n");
    CHECK_STR(answer("LSUB \"\" a/%", 0), "* LSUB (\\Noselect) \"/\" a/b\r\n");
}

static void test_extended(void)
{
    CHECK_STR(answer("LIST (SUBSCRIBED) \"\" *", 0),
              "* LIST (\\Subscribed) \"/\" INBOX\r\n"
              "* LIST (\\Subscribed) \"/\" Sent\r\n"
              "* LIST (\\Subscribed) \"/\" Sent/x\r\n"
              "* LIST (\\Subscribed) \"/\" a/b/c\r\n"
              "* LIST (\\Subscribed \\NonExistent) \"/\" gone/x\r\n"
              "* LIST (\\Subscribed) \"/\" &AMQ-rger\r\n");
    CHECK_STR(answer("LIST (SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN "
                     "(CHILDREN)",
                     0),
              "* LIST (\\Subscribed \\HasChildren) \"/\" INBOX\r\n"
              "* LIST (\\Subscribed \\HasChildren) \"/\" Sent "
              "(CHILDINFO (\"SUBSCRIBED\"))\r\n"
              "* LIST (\\NonExistent \\HasChildren) \"/\" a "
              "(CHILDINFO (\"SUBSCRIBED\"))\r\n"
              "* LIST (\\NonExistent \\HasChildren) \"/\" gone "
              "(CHILDINFO (\"SUBSCRIBED\"))\r\n"
              "* LIST (\\Subscribed \\HasNoChildren) \"/\" &AMQ-rger\r\n");
    /* A subscribed child the pattern reaches still gives its subscribed
     * parent CHILDINFO (Dovecot); unsubscribed parents are not listed. */
    CHECK_STR(answer("LIST (SUBSCRIBED RECURSIVEMATCH) \"\" *", 0),
              "* LIST (\\Subscribed) \"/\" INBOX\r\n"
              "* LIST (\\Subscribed) \"/\" Sent (CHILDINFO (\"SUBSCRIBED\"))\r\n"
              "* LIST (\\Subscribed) \"/\" Sent/x\r\n"
              "* LIST (\\Subscribed) \"/\" a/b/c\r\n"
              "* LIST (\\Subscribed \\NonExistent) \"/\" gone/x\r\n"
              "* LIST (\\Subscribed) \"/\" &AMQ-rger\r\n");
    CHECK_STR(answer("LIST \"\" % RETURN (CHILDREN SUBSCRIBED SPECIAL-USE)",
                     0),
              "* LIST (\\Subscribed \\HasChildren) \"/\" INBOX\r\n"
              "* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts\r\n"
              "* LIST (\\Subscribed \\HasChildren \\Sent) \"/\" Sent\r\n"
              "* LIST (\\HasNoChildren \\Trash) \"/\" Trash\r\n"
              "* LIST (\\HasNoChildren) \"/\" Zed\r\n"
              "* LIST (\\NonExistent \\HasChildren) \"/\" a\r\n"
              "* LIST (\\HasNoChildren) \"/\" \"sp ace\"\r\n"
              "* LIST (\\Subscribed \\HasNoChildren) \"/\" &AMQ-rger\r\n");
    CHECK_STR(answer("LIST (SPECIAL-USE) \"\" *", 0),
              "* LIST (\\Drafts) \"/\" Drafts\r\n"
              "* LIST (\\Sent) \"/\" Sent\r\n"
              "* LIST (\\Trash) \"/\" Trash\r\n");
    CHECK_STR(answer("LIST \"\" (INBOX Sent a/% a/b/c) RETURN ()", 0),
              "* LIST () \"/\" INBOX\r\n"
              "* LIST () \"/\" Sent\r\n"
              "* LIST (\\NonExistent) \"/\" a/b\r\n"
              "* LIST () \"/\" a/b/c\r\n");
    CHECK_STR(answer("LIST () \"\" \"\"", 0), "");
    CHECK_STR(answer("LIST \"\" ()", 0), "");
}

static void test_status(void)
{
    CHECK_STR(answer("LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))", 0),
              "* LIST () \"/\" INBOX\r\n"
              "* STATUS INBOX (MESSAGES 0 UNSEEN 0)\r\n"
              "* LIST () \"/\" Drafts\r\n"
              "* LIST () \"/\" Sent\r\n"
              "* STATUS Sent (MESSAGES 4 UNSEEN 0)\r\n"
              "* LIST () \"/\" Trash\r\n"
              "* STATUS Trash (MESSAGES 5 UNSEEN 0)\r\n"
              "* LIST () \"/\" Zed\r\n"
              "* STATUS Zed (MESSAGES 3 UNSEEN 0)\r\n"
              "* LIST (\\NonExistent) \"/\" a\r\n"
              "* LIST () \"/\" \"sp ace\"\r\n"
              "* STATUS \"sp ace\" (MESSAGES 6 UNSEEN 0)\r\n"
              "* LIST () \"/\" &AMQ-rger\r\n"
              "* STATUS &AMQ-rger (MESSAGES 9 UNSEEN 0)\r\n");
    CHECK_STR(answer("LIST (SUBSCRIBED) \"\" gone/* RETURN (STATUS "
                     "(MESSAGES))",
                     0),
              "* LIST (\\Subscribed \\NonExistent) \"/\" gone/x\r\n");
}

static void test_dot_separator(void)
{
    list.separator = '.';
    special_use_set(&special, SPECIAL_USE_SENT, "Sent");
    CHECK_STR(answer("LIST \"\" INBOX*", 0),
              "* LIST (\\HasChildren) \".\" INBOX\r\n"
              "* LIST (\\HasNoChildren) \".\" INBOX.sub\r\n");
    CHECK_STR(answer("LSUB \"\" a.%", 0), "* LSUB (\\Noselect) \".\" a.b\r\n");
    CHECK_STR(answer("LIST \"a.b\" \"\"", 0),
              "* LIST (\\Noselect) \".\" a.\r\n");
    list.separator = '/';
}

static void test_errors(void)
{
    CHECK_STR(answer("LIST (RECURSIVEMATCH) \"\" %", 0),
              "BAD RECURSIVEMATCH must not be the only selection");
    struct mailbox_list unreadable = {.root = "/proc/self/fdinfo/nonexistent"
                                              "/x",
                                      .separator = '/'};
    struct list_command_env env = {&unreadable, NULL, 0, NULL, NULL};
    struct imap_list_args args;
    const char *error;
    const struct imap_command *cmd =
        imap_fixture_read(&reader, "t LIST \"\" *");
    CHECK(cmd != NULL);
    CHECK_INT(imap_list_args_parse(cmd->args, cmd->arg_count, 0, '/', 0,
                                   &args, &error),
              0);
    struct buf out = BUF_INIT, err = BUF_INIT;
    /* A root that does not exist lists INBOX alone. */
    CHECK_INT(list_command_answer(&env, &args, &out, &err), 0);
    CHECK_STR(out.data, "* LIST (\\HasNoChildren) \"/\" INBOX\r\n");
    imap_list_args_free(&args);
    buf_free(&out);
    buf_free(&err);
}

int main(void)
{
    root = scratch_dir();
    list.root = root;
    list.separator = '/';
    make_tree();
    UNIT_RUN(test_basic_list);
    UNIT_RUN(test_lsub);
    UNIT_RUN(test_extended);
    UNIT_RUN(test_status);
    UNIT_RUN(test_dot_separator);
    UNIT_RUN(test_errors);
    special_use_free(&special);
    imap_reader_free(&reader);
    scratch_remove(root);
    return unit_summary();
}
