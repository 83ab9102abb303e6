/* test_passwd_edit.c: locked, atomic edits of a Dovecot passwd-file
 * (lib/auth/passwd_edit.c): other lines untouched, refusals, mode kept,
 * and the result read back by the passwd-file reader. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/passwd_edit.h"
#include "auth/passwd_file.h"
#include "base/file_read.h"
#include "base/mem.h"
#include "unit.h"

static char dir[] = "/tmp/test_passwd_edit.XXXXXX";
static char *path;

static const char original[] =
    "# site users\n"
    "bob:{PLAIN}old:1000:1000::/home/bob::userdb_mail=maildir:~/Maildir "
    "quota_storage=1G\n"
    "\n"
    "  # indented comment kept as is\n"
    "carol@example.org:{SHA512-CRYPT}$6$x$y:::::: nopassword\n"
    "bobby:{PLAIN}other\n";

static void write_file(const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static char *read_back(void)
{
    struct buf data = BUF_INIT, err = BUF_INIT;
    file_read(path, 1 << 20, &data, &err);
    buf_free(&err);
    return buf_detach(&data);
}

static int apply(enum passwd_edit_op op, const char *user, const char *hashed,
                 const char *why)
{
    struct buf err = BUF_INIT;
    int rc = passwd_edit_apply(path, op, user, hashed, 0640, -1, &err);
    int ok = why ? rc == -1 && strstr(buf_cstr(&err), why) != NULL : rc == 0;
    if (!ok)
        printf("#   %s: rc %d, err \"%s\"\n", user, rc, buf_cstr(&err));
    buf_free(&err);
    return ok;
}

static void test_add_appends_and_keeps_the_rest(void)
{
    write_file(original, 0640);
    CHECK(apply(PASSWD_EDIT_ADD, "alice", "{PLAIN}new", NULL));
    char *text = read_back();
    struct buf expected = BUF_INIT;
    buf_appendf(&expected, "%salice:{PLAIN}new\n", original);
    CHECK_STR(text, buf_cstr(&expected));
    free(text);
    buf_free(&expected);
    struct passwd_file *pf = passwd_file_load(path, PASSWD_FILE_MAX_SIZE, NULL);
    CHECK(pf != NULL && passwd_file_lookup(pf, "alice") != NULL);
    if (pf)
        CHECK_STR(passwd_file_lookup(pf, "alice")->password, "{PLAIN}new");
    passwd_file_free(pf);
    CHECK(apply(PASSWD_EDIT_ADD, "alice", "{PLAIN}x", "already exists"));
    CHECK(apply(PASSWD_EDIT_ADD, "bob", "{PLAIN}x", "already exists"));
}

static void test_set_changes_only_the_password_column(void)
{
    write_file(original, 0600);
    CHECK(apply(PASSWD_EDIT_SET, "bob", "{PLAIN}changed", NULL));
    char *text = read_back();
    CHECK(strstr(text, "\nbob:{PLAIN}changed:1000:1000::/home/bob::"
                       "userdb_mail=maildir:~/Maildir quota_storage=1G\n") !=
          NULL);
    CHECK(strstr(text, "\nbobby:{PLAIN}other\n") != NULL); /* not a prefix match */
    CHECK(strstr(text, "  # indented comment kept as is\n") != NULL);
    free(text);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
    CHECK(apply(PASSWD_EDIT_SET, "nobody", "{PLAIN}x", "no user nobody"));
    CHECK(apply(PASSWD_EDIT_SET, "Bob", "{PLAIN}x", "no user Bob"));
    /* A user line with only a name gets its password column. */
    write_file("dave\n", 0600);
    CHECK(apply(PASSWD_EDIT_SET, "dave", "{PLAIN}d", NULL));
    text = read_back();
    CHECK_STR(text, "dave:{PLAIN}d\n");
    free(text);
}

static void test_delete_removes_only_that_user(void)
{
    write_file(original, 0640);
    CHECK(apply(PASSWD_EDIT_DELETE, "bob", NULL, NULL));
    char *text = read_back();
    CHECK_STR(text, "# site users\n"
                    "\n"
                    "  # indented comment kept as is\n"
                    "carol@example.org:{SHA512-CRYPT}$6$x$y:::::: nopassword\n"
                    "bobby:{PLAIN}other\n");
    free(text);
    CHECK(apply(PASSWD_EDIT_DELETE, "bob", NULL, "no user bob"));
}

static void test_list_and_has_user(void)
{
    write_file(original, 0640);
    struct strlist users;
    strlist_init(&users);
    struct buf err = BUF_INIT;
    CHECK_INT(passwd_edit_list(path, &users, &err), 0);
    CHECK_INT((int)users.count, 3);
    if (users.count == 3) {
        CHECK_STR(users.items[0], "bob");
        CHECK_STR(users.items[1], "carol@example.org");
        CHECK_STR(users.items[2], "bobby");
    }
    strlist_free(&users);
    CHECK_INT(passwd_edit_has_user(path, "carol@example.org", &err), 1);
    CHECK_INT(passwd_edit_has_user(path, "bo", &err), 0);
    buf_free(&err);
}

static void test_missing_file(void)
{
    unlink(path);
    CHECK(apply(PASSWD_EDIT_DELETE, "bob", NULL, "does not exist"));
    struct stat st;
    CHECK(stat(path, &st) < 0); /* not created by a refusal */
    CHECK(apply(PASSWD_EDIT_ADD, "first", "{PLAIN}1", NULL));
    CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
    char *text = read_back();
    CHECK_STR(text, "first:{PLAIN}1\n");
    free(text);
}

static void test_refusals(void)
{
    write_file(original, 0640);
    CHECK(apply(PASSWD_EDIT_ADD, "a:b", "{PLAIN}x", "cannot hold ':'"));
    CHECK(apply(PASSWD_EDIT_ADD, "a b", "{PLAIN}x", "white space"));
    CHECK(apply(PASSWD_EDIT_ADD, "#x", "{PLAIN}x", "cannot start with '#'"));
    CHECK(apply(PASSWD_EDIT_ADD, "", "{PLAIN}x", "1 to 255 bytes"));
    CHECK(apply(PASSWD_EDIT_ADD, "eve", "{PLAIN}a:b", "cannot hold ':'"));
    /* A symbolic link is refused: a rename would replace the link. */
    char *link_path = xasprintf("%s/link", dir);
    CHECK(symlink(path, link_path) == 0);
    struct buf err = BUF_INIT;
    CHECK_INT(passwd_edit_apply(link_path, PASSWD_EDIT_ADD, "eve", "{PLAIN}e",
                                0640, -1, &err),
              -1);
    buf_free(&err);
    unlink(link_path);
    free(link_path);
    char *text = read_back();
    CHECK_STR(text, original);
    free(text);
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    path = xasprintf("%s/users", dir);
    UNIT_RUN(test_add_appends_and_keeps_the_rest);
    UNIT_RUN(test_set_changes_only_the_password_column);
    UNIT_RUN(test_delete_removes_only_that_user);
    UNIT_RUN(test_list_and_has_user);
    UNIT_RUN(test_missing_file);
    UNIT_RUN(test_refusals);
    unlink(path);
    rmdir(dir);
    free(path);
    return unit_summary();
}
