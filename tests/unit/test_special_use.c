/* test_special_use.c: unit tests for lib/storage/special_use: the five
 * RFC 6154 folders from main.cf (defaults, renamed, disabled, a bad
 * separator), their attributes, and creating the missing ones at login
 * (created, subscribed, existing ones left alone, nested names). */
#include "unit.h"

#include "base/mem.h"
#include "config/config.h"
#include "storage/special_use.h"
#include "storage/subscriptions.h"
#include "storage_util.h"

static int load(const char *text)
{
    struct buf err = BUF_INIT;
    int rc = config_load_string(text, strlen(text), "/cfg", "/cfg/main.cf",
                                &err);
    if (rc < 0)
        printf("# %s\n", err.data);
    buf_free(&err);
    return rc;
}

static void test_config(void)
{
    struct special_use_folders f = {{0}};
    struct buf error = BUF_INIT;
    char sep = 0;

    CHECK_INT(load(""), 0);
    CHECK_INT(special_use_config_read(&f, &sep, &error), 0);
    CHECK_INT(sep, '.');
    CHECK_STR(f.names[SPECIAL_USE_SENT], "Sent");
    CHECK_STR(f.names[SPECIAL_USE_DRAFTS], "Drafts");
    CHECK_STR(f.names[SPECIAL_USE_TRASH], "Trash");
    CHECK_STR(f.names[SPECIAL_USE_JUNK], "Junk");
    CHECK_STR(f.names[SPECIAL_USE_ARCHIVE], "Archive");
    CHECK_STR(special_use_attribute(SPECIAL_USE_JUNK), "\\Junk");
    CHECK_STR(special_use_parameter(SPECIAL_USE_ARCHIVE),
              "imapd_archive_folder");

    CHECK_INT(load("imapd_hierarchy_separator = /\n"
                   "imapd_sent_folder = Sent Items\n"
                   "imapd_junk_folder = Spam\n"
                   "imapd_archive_folder =\n"
                   "imapd_trash_folder = $imapd_junk_folder\n"),
              0);
    CHECK_INT(special_use_config_read(&f, &sep, &error), 0);
    CHECK_INT(sep, '/');
    CHECK_STR(f.names[SPECIAL_USE_SENT], "Sent Items");
    CHECK(f.names[SPECIAL_USE_ARCHIVE] == NULL);
    CHECK_INT(special_use_of(&f, "Spam"),
              (1u << SPECIAL_USE_JUNK) | (1u << SPECIAL_USE_TRASH));
    CHECK_INT(special_use_of(&f, "Sent Items"), 1u << SPECIAL_USE_SENT);
    CHECK_INT(special_use_of(&f, "sent items"), 0);
    CHECK_INT(special_use_of(&f, "INBOX"), 0);

    CHECK_INT(load("imapd_hierarchy_separator = \\\n"), 0);
    CHECK_INT(special_use_config_read(&f, &sep, &error), -1);
    CHECK_STR(error.data,
              "imapd_hierarchy_separator = \\: must be \"/\" or \".\"");
    special_use_free(&f);
    buf_free(&error);
    CHECK_INT(load(""), 0);
}

static void test_ensure(void)
{
    char *root = scratch_dir();
    struct mailbox_list list = {.root = root, .separator = '/'};
    struct special_use_folders f = {{0}};
    struct buf error = BUF_INIT, content = BUF_INIT;

    special_use_set(&f, SPECIAL_USE_SENT, "Sent");
    special_use_set(&f, SPECIAL_USE_DRAFTS, "Drafts");
    special_use_set(&f, SPECIAL_USE_TRASH, "Trash");
    special_use_set(&f, SPECIAL_USE_JUNK, "Junk");
    special_use_set(&f, SPECIAL_USE_ARCHIVE, "Archives/Mail");

    /* Trash exists already (as Dovecot left it): untouched, unsubscribed. */
    CHECK_INT(mailbox_list_create(&list, "Trash", &error), MAILBOX_LIST_OK);
    CHECK_INT(special_use_ensure(&list, &f, &error), 4);
    CHECK(mailbox_list_exists(&list, "Sent"));
    CHECK(mailbox_list_exists(&list, "Drafts"));
    CHECK(mailbox_list_exists(&list, "Junk"));
    CHECK(mailbox_list_exists(&list, "Archives/Mail"));
    char *subs = xasprintf("%s/subscriptions", root);
    CHECK_INT(read_whole(subs, &content), 0);
    CHECK_STR(content.data,
              "V\t2\n\nSent\nDrafts\nJunk\nArchives\tMail\n");
    /* The second login finds them all. */
    CHECK_INT(special_use_ensure(&list, &f, &error), 0);

    /* A name the list refuses is reported; the others are still made. */
    special_use_set(&f, SPECIAL_USE_SENT, "Bad.Name");
    special_use_set(&f, SPECIAL_USE_JUNK, "Spam");
    CHECK_INT(special_use_ensure(&list, &f, &error), -1);
    CHECK_STR(error.data, "imapd_sent_folder = Bad.Name: Character not "
                          "allowed in mailbox name: '.'");
    CHECK(mailbox_list_exists(&list, "Spam"));
    free(subs);
    special_use_free(&f);
    buf_free(&error);
    buf_free(&content);
    scratch_remove(root);
}

int main(void)
{
    UNIT_RUN(test_config);
    UNIT_RUN(test_ensure);
    return unit_summary();
}
