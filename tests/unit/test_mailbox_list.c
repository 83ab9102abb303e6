/* test_mailbox_list.c: unit tests for lib/storage/mailbox_list: the
 * client name <-> Maildir++ directory mapping with both separators, the
 * name checks (nothing leaves the root), listing with \Noselect parents
 * and children, CREATE, DELETE, RENAME (children move; INBOX's messages
 * move and INBOX stays), as Dovecot 2.3 does them. */
#include "unit.h"

#include "base/mem.h"
#include "storage/mailbox_list.h"
#include "storage_util.h"

static int path_is_dir(const char *root, const char *rel)
{
    char *p = xasprintf("%s/%s", root, rel);
    struct stat st;
    int rc = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
    free(p);
    return rc;
}

static int path_exists(const char *root, const char *rel)
{
    char *p = xasprintf("%s/%s", root, rel);
    struct stat st;
    int rc = lstat(p, &st) == 0;
    free(p);
    return rc;
}

static void make_dirs(const char *root, const char *rel)
{
    char *p = xasprintf("%s/%s", root, rel);
    char *cmd = xasprintf("mkdir -p '%s'", p);
    if (system(cmd) != 0)
        printf("# mkdir failed: %s\n", p);
    free(cmd);
    free(p);
}

static const char *to_disk(const struct mailbox_list *list, const char *name)
{
    static struct buf disk, error;
    if (mailbox_list_name_to_disk(list, name, &disk, &error) !=
        MAILBOX_LIST_OK)
        return error.data[0] ? error.data : "?";
    return disk.data;
}

static void test_names_slash(void)
{
    struct mailbox_list list = {.root = "/nonexistent", .separator = '/'};
    CHECK_STR(to_disk(&list, "INBOX"), "");
    CHECK_STR(to_disk(&list, "inbox"), "");
    CHECK_STR(to_disk(&list, "Sent"), "Sent");
    CHECK_STR(to_disk(&list, "Sent/"), "Sent");
    CHECK_STR(to_disk(&list, "Lists/postern"), "Lists.postern");
    CHECK_STR(to_disk(&list, "inbox/sub"), "INBOX.sub");
    CHECK_STR(to_disk(&list, "Ärger"), "&AMQ-rger");
    CHECK_STR(to_disk(&list, "a/Ärger/x"), "a.&AMQ-rger.x");
    CHECK_STR(to_disk(&list, "a&b"), "a&-b");
    CHECK_STR(to_disk(&list, "sp ace"), "sp ace");
    CHECK_STR(to_disk(&list, "b.c"),
              "Character not allowed in mailbox name: '.'");
    CHECK_STR(to_disk(&list, "../etc"),
              "Character not allowed in mailbox name: '.'");
    CHECK_STR(to_disk(&list, ""), "Invalid mailbox name: Name is empty");
    CHECK_STR(to_disk(&list, "/lead"),
              "Invalid mailbox name: Begins with hierarchy separator");
    CHECK_STR(to_disk(&list, "y//z"),
              "Invalid mailbox name: Has adjacent hierarchy separators");
    CHECK_STR(to_disk(&list, "~home"),
              "Invalid mailbox name: Begins with '~'");
    CHECK_STR(to_disk(&list, "x~"), "x~");
    CHECK_STR(to_disk(&list, "tab\tx"),
              "Invalid mailbox name: Control characters");
    CHECK_STR(to_disk(&list, "\xff"), "Invalid mailbox name: Not valid UTF-8");

    /* The directory entry ".NAME" must fit in 255 bytes. */
    char long_name[300];
    memset(long_name, 'x', sizeof(long_name));
    long_name[254] = '\0';
    CHECK_INT(strlen(to_disk(&list, long_name)), 254);
    long_name[254] = 'x';
    long_name[255] = '\0';
    CHECK_STR(to_disk(&list, long_name), "Mailbox name too long");
}

static void test_names_dot(void)
{
    struct mailbox_list list = {.root = "/nonexistent", .separator = '.'};
    CHECK_STR(to_disk(&list, "a.b.c"), "a.b.c");
    CHECK_STR(to_disk(&list, "x."), "x");
    CHECK_STR(to_disk(&list, "INBOX.s"), "INBOX.s");
    CHECK_STR(to_disk(&list, "..y"),
              "Invalid mailbox name: Begins with hierarchy separator");
    CHECK_STR(to_disk(&list, "a/b"),
              "Invalid mailbox name: Name must not have '/' characters");
    CHECK_STR(to_disk(&list, "a..b"),
              "Invalid mailbox name: Has adjacent hierarchy separators");
}

static void test_disk_to_name(void)
{
    struct mailbox_list slash = {.root = "/x", .separator = '/'};
    struct mailbox_list dot = {.root = "/x", .separator = '.'};
    struct buf name = BUF_INIT;
    CHECK_INT(mailbox_list_disk_to_name(&slash, "", &name), 0);
    CHECK_STR(name.data, "INBOX");
    CHECK_INT(mailbox_list_disk_to_name(&slash, "a.&AMQ-rger", &name), 0);
    CHECK_STR(name.data, "a/Ärger");
    CHECK_INT(mailbox_list_disk_to_name(&dot, "a.&AMQ-rger", &name), 0);
    CHECK_STR(name.data, "a.Ärger");
    CHECK_INT(mailbox_list_disk_to_name(&slash, "INBOX.sub", &name), 0);
    CHECK_STR(name.data, "INBOX/sub");
    CHECK_INT(mailbox_list_disk_to_name(&slash, "INBOX", &name), -1);
    CHECK_INT(mailbox_list_disk_to_name(&slash, "inbox.x", &name), -1);
    CHECK_INT(mailbox_list_disk_to_name(&slash, "a..b", &name), -1);
    CHECK_INT(mailbox_list_disk_to_name(&slash, "trail.", &name), -1);
    CHECK_INT(mailbox_list_disk_to_name(&slash, "&Jjo", &name), -1);
    CHECK_INT(mailbox_list_disk_to_name(&slash, "\xc3\x84rger", &name), -1);
    buf_free(&name);
}

/* Renders a snapshot as "name:flags" lines, flags N (noselect) C
 * (children). */
static void describe(const struct mailbox_list_snapshot *snap, struct buf *out)
{
    buf_reset(out);
    for (size_t i = 0; i < snap->count; i++) {
        const struct mailbox_list_entry *e = &snap->entries[i];
        buf_appendf(out, "%s:%s%s ", e->name,
                    e->flags & MAILBOX_LIST_NOSELECT ? "N" : "",
                    e->flags & MAILBOX_LIST_CHILDREN ? "C" : "");
    }
}

static void test_list(void)
{
    char *root = scratch_dir();
    struct mailbox_list list = {.root = root, .separator = '/'};
    struct mailbox_list_snapshot snap;
    struct buf out = BUF_INIT, error = BUF_INIT;

    CHECK_INT(mailbox_list_read(&list, &snap, &error), 0);
    describe(&snap, &out);
    CHECK_STR(out.data, "INBOX: ");
    mailbox_list_snapshot_free(&snap);

    make_dirs(root, ".a.b.c/cur");
    make_dirs(root, ".Sent/cur");
    make_dirs(root, ".a b");
    make_dirs(root, ".INBOX.sub");
    make_dirs(root, ".&AMQ-rger");
    /* Not folders: no client name maps to them. */
    make_dirs(root, "..dots");
    make_dirs(root, ".x..y");
    make_dirs(root, ".trail.");
    make_dirs(root, ".INBOX");
    make_dirs(root, ".&Jjo");
    write_whole(xasprintf("%s/.file", root), "");
    CHECK_INT(mailbox_list_read(&list, &snap, &error), 0);
    describe(&snap, &out);
    CHECK_STR(out.data, "INBOX:C INBOX/sub: Sent: a:NC a/b:NC a/b/c: a b: "
                        "Ärger: ");
    const struct mailbox_list_entry *e = mailbox_list_find(&snap, "a/b/c");
    CHECK(e != NULL && strcmp(e->disk_name, "a.b.c") == 0);
    CHECK(mailbox_list_find(&snap, "nope") == NULL);
    mailbox_list_snapshot_free(&snap);

    list.separator = '.';
    CHECK_INT(mailbox_list_read(&list, &snap, &error), 0);
    describe(&snap, &out);
    CHECK_STR(out.data, "INBOX:C INBOX.sub: Sent: a:NC a.b:NC a.b.c: a b: "
                        "Ärger: ");
    mailbox_list_snapshot_free(&snap);

    CHECK(mailbox_list_exists(&list, "INBOX"));
    CHECK(mailbox_list_exists(&list, "a.b.c"));
    CHECK(!mailbox_list_exists(&list, "a.b"));
    buf_free(&out);
    buf_free(&error);
    scratch_remove(root);
}

static void test_create(void)
{
    char *root = scratch_dir();
    struct mailbox_list list = {.root = root, .separator = '/'};
    struct buf error = BUF_INIT;

    CHECK_INT(mailbox_list_create(&list, "a/b/c", &error), MAILBOX_LIST_OK);
    CHECK(path_is_dir(root, ".a.b.c/cur"));
    CHECK(path_is_dir(root, ".a.b.c/new"));
    CHECK(path_is_dir(root, ".a.b.c/tmp"));
    CHECK(path_exists(root, ".a.b.c/maildirfolder"));
    CHECK(path_is_dir(root, "cur")); /* the root is a whole Maildir */
    /* Parents are not created, as Dovecot does not create them. */
    CHECK(!path_exists(root, ".a"));
    CHECK(!path_exists(root, ".a.b"));
    CHECK(!path_exists(root, "maildirfolder"));

    CHECK_INT(mailbox_list_create(&list, "a/b/c", &error), MAILBOX_LIST_EXISTS);
    CHECK_STR(error.data, "Mailbox already exists");
    CHECK_INT(mailbox_list_create(&list, "inbox", &error),
              MAILBOX_LIST_EXISTS);
    CHECK_INT(mailbox_list_create(&list, "x/", &error), MAILBOX_LIST_OK);
    CHECK(path_is_dir(root, ".x"));
    CHECK_INT(mailbox_list_create(&list, "inbox/kid", &error),
              MAILBOX_LIST_OK);
    CHECK(path_is_dir(root, ".INBOX.kid"));
    CHECK_INT(mailbox_list_create(&list, "../../etc", &error),
              MAILBOX_LIST_BAD_NAME);
    CHECK_STR(mailbox_list_code(MAILBOX_LIST_BAD_NAME), "CANNOT");
    /* The prefix-only parent can be created afterwards. */
    CHECK_INT(mailbox_list_create(&list, "a", &error), MAILBOX_LIST_OK);
    CHECK(path_is_dir(root, ".a/cur"));
    buf_free(&error);
    scratch_remove(root);
}

static void test_delete(void)
{
    char *root = scratch_dir();
    struct mailbox_list list = {.root = root, .separator = '/'};
    struct buf error = BUF_INIT;

    CHECK_INT(mailbox_list_create(&list, "p", &error), MAILBOX_LIST_OK);
    CHECK_INT(mailbox_list_create(&list, "p/q", &error), MAILBOX_LIST_OK);
    char *msg = xasprintf("%s/.p/cur/1.M1P1.h:2,S", root);
    CHECK_INT(write_whole(msg, "Subject: x\n\nbody\n"), 0);
    free(msg);
    make_dirs(root, ".p/tmp/deep/er");

    CHECK_INT(mailbox_list_delete(&list, "INBOX", &error),
              MAILBOX_LIST_REFUSED);
    CHECK_STR(error.data, "INBOX can't be deleted");
    CHECK_INT(mailbox_list_delete(&list, "nonexist", &error),
              MAILBOX_LIST_NONEXISTENT);
    CHECK_STR(error.data, "Mailbox doesn't exist: nonexist");
    CHECK_STR(mailbox_list_code(MAILBOX_LIST_NONEXISTENT), "NONEXISTENT");

    /* A folder with children goes; the children stay and the name is
     * then a \Noselect parent, which DELETE no longer finds. */
    CHECK_INT(mailbox_list_delete(&list, "p", &error), MAILBOX_LIST_OK);
    CHECK(!path_exists(root, ".p"));
    CHECK(path_is_dir(root, ".p.q/cur"));
    CHECK_INT(mailbox_list_delete(&list, "p", &error),
              MAILBOX_LIST_NONEXISTENT);
    CHECK_INT(mailbox_list_delete(&list, "p/q", &error), MAILBOX_LIST_OK);

    /* Nothing of the deleted folders is left in the root. */
    DIR *dir = opendir(root);
    struct dirent *de;
    int leftovers = 0;
    while ((de = readdir(dir)) != NULL)
        if (strncmp(de->d_name, "..", 2) == 0 && de->d_name[2] != '\0')
            leftovers++;
    closedir(dir);
    CHECK_INT(leftovers, 0);

    /* A symbolic link inside a folder is removed, not followed. */
    char *outside = scratch_dir();
    char *keep = xasprintf("%s/keep", outside);
    write_whole(keep, "x");
    CHECK_INT(mailbox_list_create(&list, "s", &error), MAILBOX_LIST_OK);
    char *link_path = xasprintf("%s/.s/cur/link", root);
    CHECK_INT(symlink(outside, link_path), 0);
    CHECK_INT(mailbox_list_delete(&list, "s", &error), MAILBOX_LIST_OK);
    CHECK(access(keep, F_OK) == 0);
    /* A folder that is itself a link to a directory outside: the link
     * goes, the directory stays. */
    char *folder_link = xasprintf("%s/.linked", root);
    CHECK_INT(symlink(outside, folder_link), 0);
    CHECK_INT(mailbox_list_delete(&list, "linked", &error), MAILBOX_LIST_OK);
    CHECK(!path_exists(root, ".linked"));
    CHECK(access(keep, F_OK) == 0);
    free(folder_link);
    free(link_path);
    free(keep);
    scratch_remove(outside);
    buf_free(&error);
    scratch_remove(root);
}

static void test_rename(void)
{
    char *root = scratch_dir();
    struct mailbox_list list = {.root = root, .separator = '/'};
    struct buf error = BUF_INIT;

    CHECK_INT(mailbox_list_create(&list, "x", &error), MAILBOX_LIST_OK);
    CHECK_INT(mailbox_list_create(&list, "x/c", &error), MAILBOX_LIST_OK);
    CHECK_INT(mailbox_list_create(&list, "x/c/d", &error), MAILBOX_LIST_OK);
    CHECK_INT(mailbox_list_create(&list, "xy", &error), MAILBOX_LIST_OK);

    CHECK_INT(mailbox_list_rename(&list, "x", "x", &error),
              MAILBOX_LIST_EXISTS);
    CHECK_STR(error.data, "Can't rename mailbox to itself");
    CHECK_INT(mailbox_list_rename(&list, "x", "x/c/e", &error),
              MAILBOX_LIST_REFUSED);
    CHECK_STR(error.data, "Can't rename mailbox under its own child");
    CHECK_INT(mailbox_list_rename(&list, "nope", "z", &error),
              MAILBOX_LIST_NONEXISTENT);
    CHECK_INT(mailbox_list_rename(&list, "x", "xy", &error),
              MAILBOX_LIST_EXISTS);
    CHECK_STR(error.data, "Target mailbox already exists");
    CHECK_INT(mailbox_list_rename(&list, "x", "inbox", &error),
              MAILBOX_LIST_EXISTS);

    CHECK_INT(mailbox_list_rename(&list, "x", "n/m", &error),
              MAILBOX_LIST_OK);
    CHECK(path_is_dir(root, ".n.m/cur"));
    CHECK(path_is_dir(root, ".n.m.c/cur"));
    CHECK(path_is_dir(root, ".n.m.c.d/cur"));
    CHECK(!path_exists(root, ".x"));
    CHECK(!path_exists(root, ".x.c"));
    CHECK(path_is_dir(root, ".xy")); /* a sibling with the same prefix */

    /* A \Noselect parent renames its children. */
    CHECK_INT(mailbox_list_rename(&list, "n", "k", &error), MAILBOX_LIST_OK);
    CHECK(path_is_dir(root, ".k.m.c.d"));
    /* A clash in the children stops the rename before anything moves. */
    CHECK_INT(mailbox_list_create(&list, "j/m/c", &error), MAILBOX_LIST_OK);
    CHECK_INT(mailbox_list_rename(&list, "k", "j", &error),
              MAILBOX_LIST_EXISTS);
    CHECK(path_is_dir(root, ".k.m"));
    CHECK(!path_exists(root, ".j.m"));
    buf_free(&error);
    scratch_remove(root);
}

static void test_rename_inbox(void)
{
    char *root = scratch_dir();
    struct mailbox_list list = {.root = root, .separator = '/'};
    struct buf error = BUF_INIT, content = BUF_INIT;

    CHECK_INT(mailbox_list_create(&list, "INBOX/kid", &error),
              MAILBOX_LIST_OK);
    char *m1 = xasprintf("%s/cur/1.M1P1.h,S=5:2,Sa", root);
    char *m2 = xasprintf("%s/new/2.M2P1.h,S=5", root);
    char *kw = xasprintf("%s/dovecot-keywords", root);
    CHECK_INT(write_whole(m1, "one\n"), 0);
    CHECK_INT(write_whole(m2, "two\n"), 0);
    CHECK_INT(write_whole(kw, "0 $Label1\n"), 0);

    CHECK_INT(mailbox_list_rename(&list, "inbox", "Old", &error),
              MAILBOX_LIST_OK);
    CHECK(path_exists(root, ".Old/cur/1.M1P1.h,S=5:2,Sa"));
    CHECK(path_exists(root, ".Old/new/2.M2P1.h,S=5"));
    CHECK(path_exists(root, ".Old/maildirfolder"));
    CHECK(access(m1, F_OK) != 0);
    CHECK(access(m2, F_OK) != 0);
    char *kw2 = xasprintf("%s/.Old/dovecot-keywords", root);
    CHECK_INT(read_whole(kw2, &content), 0);
    CHECK_STR(content.data, "0 $Label1\n");
    /* INBOX stays, with its children. */
    CHECK(path_is_dir(root, "cur"));
    CHECK(path_is_dir(root, ".INBOX.kid"));
    CHECK_INT(mailbox_list_rename(&list, "INBOX", "Old", &error),
              MAILBOX_LIST_EXISTS);
    free(m1);
    free(m2);
    free(kw);
    free(kw2);
    buf_free(&error);
    buf_free(&content);
    scratch_remove(root);
}

int main(void)
{
    UNIT_RUN(test_names_slash);
    UNIT_RUN(test_names_dot);
    UNIT_RUN(test_disk_to_name);
    UNIT_RUN(test_list);
    UNIT_RUN(test_create);
    UNIT_RUN(test_delete);
    UNIT_RUN(test_rename);
    UNIT_RUN(test_rename_inbox);
    return unit_summary();
}
