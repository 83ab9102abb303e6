/* test_passwd_file.c: unit tests for lib/auth/passwd_file, the Dovecot
 * passwd-file reader: every column, the extra fields (userdb_ prefixes,
 * values with colons, overrides), virtual users, comments and blank
 * lines, the lines it skips and says why, exact-case lookups, and the
 * size cap through base/file_read. */
#include "unit.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "auth/passwd_file.h"
#include "auth/password.h"
#include "base/buf.h"

static const char sample[] =
    "# users of example.com\n"
    "\n"
    "   \t\n"
    "alice:{PLAIN}alice-pw:1000:1001:Alice A:/home/alice:/bin/sh:"
    "mail=maildir:~/Maildir quota_storage=1G nodelay\n"
    "bob@example.com:{SHA512-CRYPT}$6$salt$hash::::::\n"
    "carol:{PLAIN}c\r\n"
    "dave:{PLAIN}d::::::userdb_uid=2000 userdb_gid=2001 "
    "userdb_home=/var/vmail/dave userdb_mail=maildir:/var/vmail/dave/Maildir "
    "userdb_quota_storage=500M allow_nets=127.0.0.0/8\n"
    "eve:{PLAIN}e:abc:1000\n"
    "root:{PLAIN}r:0:0\n"
    "big:{PLAIN}b:4294967295:1\n"
    ":{PLAIN}nobody\n"
    "alice:{PLAIN}second-alice:1:1\n"
    "frank:{PLAIN}f:1002:1002::/home/frank::uid=3000 =novalue\n"
    "gina:{PLAIN}g:1003:1003::/home/gina::uid=3000 home=/srv/gina";

static void test_columns_and_extra_fields(void)
{
    struct passwd_file *file = passwd_file_parse("users", sample,
                                                 sizeof(sample) - 1);
    CHECK_INT(file->count, 5); /* alice bob carol dave gina */
    const struct passwd_entry *alice = passwd_file_lookup(file, "alice");
    CHECK(alice != NULL);
    if (alice) {
        CHECK_STR(alice->password, "{PLAIN}alice-pw");
        CHECK(alice->has_uid && alice->uid == 1000);
        CHECK(alice->has_gid && alice->gid == 1001);
        CHECK_STR(alice->gecos, "Alice A");
        CHECK_STR(alice->home, "/home/alice");
        CHECK_STR(alice->shell, "/bin/sh");
        /* Everything after the seventh colon, colons and all. */
        CHECK_STR(alice->mail, "maildir:~/Maildir");
        CHECK_STR(alice->quota_storage, "1G");
        CHECK_INT(alice->field_count, 3);
        CHECK_STR(passwd_entry_field(alice, "nodelay"), "");
        CHECK(passwd_entry_field(alice, "missing") == NULL);
        CHECK_INT(alice->line, 4);
        CHECK(!passwd_entry_is_virtual(alice));
        /* The first line for a name wins. */
        CHECK_INT(password_verify(alice->password, "alice-pw", 8, NULL, NULL),
                  PASSWORD_MATCH);
    }
    const struct passwd_entry *carol = passwd_file_lookup(file, "carol");
    CHECK(carol != NULL);
    if (carol) {
        /* CRLF line ends; fewer columns than seven are fine. */
        CHECK_STR(carol->password, "{PLAIN}c");
        CHECK(carol->home == NULL && carol->shell == NULL);
        CHECK(passwd_entry_is_virtual(carol));
    }
    const struct passwd_entry *dave = passwd_file_lookup(file, "dave");
    CHECK(dave != NULL);
    if (dave) {
        CHECK(dave->has_uid && dave->uid == 2000);
        CHECK(dave->has_gid && dave->gid == 2001);
        CHECK_STR(dave->home, "/var/vmail/dave");
        CHECK_STR(dave->mail, "maildir:/var/vmail/dave/Maildir");
        CHECK_STR(dave->quota_storage, "500M");
        CHECK_STR(passwd_entry_field(dave, "allow_nets"), "127.0.0.0/8");
        CHECK_STR(passwd_entry_field(dave, "userdb_uid"), "2000");
        CHECK(!passwd_entry_is_virtual(dave));
    }
    /* Extra fields override the columns, as in Dovecot. */
    const struct passwd_entry *gina = passwd_file_lookup(file, "gina");
    CHECK(gina != NULL);
    if (gina) {
        CHECK_INT(gina->uid, 3000);
        CHECK_INT(gina->gid, 1003);
        CHECK_STR(gina->home, "/srv/gina");
    }
    passwd_file_free(file);
}

static void test_virtual_users(void)
{
    struct passwd_file *file = passwd_file_parse("users", sample,
                                                 sizeof(sample) - 1);
    const struct passwd_entry *bob = passwd_file_lookup(file, "bob@example.com");
    CHECK(bob != NULL);
    if (bob) {
        CHECK(!bob->has_uid && !bob->has_gid);
        CHECK(bob->home == NULL);
        CHECK(passwd_entry_is_virtual(bob));
        CHECK_STR(bob->password, "{SHA512-CRYPT}$6$salt$hash");
        CHECK_INT(bob->field_count, 0);
    }
    passwd_file_free(file);
}

static int has_problem(const struct passwd_file *file, const char *text)
{
    for (size_t i = 0; i < file->problems.count; i++)
        if (strcmp(file->problems.items[i], text) == 0)
            return 1;
    return 0;
}

static void test_bad_lines_are_skipped_and_named(void)
{
    struct passwd_file *file = passwd_file_parse("users", sample,
                                                 sizeof(sample) - 1);
    CHECK_INT(file->problems.count, 6);
    CHECK(has_problem(file, "users:8: uid 'abc' is neither a number nor a known "
                            "user (line skipped)"));
    CHECK(has_problem(file, "users:9: uid '0' is 0, which a passwd-file may "
                            "not give (line skipped)"));
    CHECK(has_problem(file, "users:11: no user name (line skipped)"));
    CHECK(has_problem(file, "users:12: user alice is already on line 4 "
                            "(line skipped)"));
    CHECK(has_problem(file, "users:13: extra field '=novalue' has no name "
                            "(line skipped)"));
    CHECK(passwd_file_lookup(file, "eve") == NULL);
    CHECK(passwd_file_lookup(file, "root") == NULL);
    CHECK(passwd_file_lookup(file, "big") == NULL);
    CHECK(passwd_file_lookup(file, "frank") == NULL);
    for (size_t i = 0; i < file->problems.count; i++)
        if (strstr(file->problems.items[i], "users:10:") != NULL)
            CHECK(strstr(file->problems.items[i], "4294967295") != NULL);
    passwd_file_free(file);

    /* A NUL byte spoils its line only. */
    static const char with_nul[] = "x:{PLAIN}a\0b\ny:{PLAIN}c\n";
    file = passwd_file_parse("nul", with_nul, sizeof(with_nul) - 1);
    CHECK_INT(file->count, 1);
    CHECK(passwd_file_lookup(file, "y") != NULL);
    CHECK(has_problem(file, "nul:1: holds a NUL byte (line skipped)"));
    passwd_file_free(file);
}

/* uid and gid may be names, as Dovecot allows; root's are refused. */
static void test_id_names(void)
{
    static const char text[] =
        "d1:{PLAIN}a:daemon:daemon\n"
        "d2:{PLAIN}b::::::uid=daemon gid=daemon\n"
        "r1:{PLAIN}c:root:1\n"
        "r2:{PLAIN}d:1:root\n"
        "n1:{PLAIN}e:1:no-such-group-here\n";
    struct passwd_file *file = passwd_file_parse("names", text,
                                                 sizeof(text) - 1);
    struct passwd *daemon_user = getpwnam("daemon");
    struct group *daemon_group = getgrnam("daemon");
    if (daemon_user == NULL || daemon_group == NULL) {
        passwd_file_free(file);
        SKIP("no user and group called daemon on this system");
    }
    CHECK_INT(file->count, 2);
    const struct passwd_entry *d1 = passwd_file_lookup(file, "d1");
    const struct passwd_entry *d2 = passwd_file_lookup(file, "d2");
    CHECK(d1 != NULL && d1->has_uid && d1->uid == daemon_user->pw_uid);
    CHECK(d1 != NULL && d1->has_gid && d1->gid == daemon_group->gr_gid);
    CHECK(d2 != NULL && d2->has_uid && d2->uid == daemon_user->pw_uid);
    CHECK(d2 != NULL && d2->has_gid && d2->gid == daemon_group->gr_gid);
    CHECK(has_problem(file, "names:3: uid 'root' is 0, which a passwd-file "
                            "may not give (line skipped)"));
    CHECK(has_problem(file, "names:4: gid 'root' is 0, which a passwd-file "
                            "may not give (line skipped)"));
    CHECK(has_problem(file, "names:5: gid 'no-such-group-here' is neither a "
                            "number nor a known group (line skipped)"));
    passwd_file_free(file);
}

static void test_lookup_is_exact(void)
{
    struct passwd_file *file = passwd_file_parse("users", sample,
                                                 sizeof(sample) - 1);
    CHECK(passwd_file_lookup(file, "Alice") == NULL);
    CHECK(passwd_file_lookup(file, "ALICE") == NULL);
    CHECK(passwd_file_lookup(file, "alic") == NULL);
    CHECK(passwd_file_lookup(file, "Bob@example.com") == NULL);
    CHECK(passwd_file_lookup(file, "") == NULL);
    passwd_file_free(file);

    /* Many users: the sorted table finds each one. */
    struct buf many = BUF_INIT;
    for (int i = 999; i >= 0; i--)
        buf_appendf(&many, "user%d:{PLAIN}pw%d\n", i, i);
    file = passwd_file_parse("many", many.data, many.len);
    CHECK_INT(file->count, 1000);
    for (int i = 0; i < 1000; i++) {
        char name[32], password[40];
        snprintf(name, sizeof(name), "user%d", i);
        snprintf(password, sizeof(password), "{PLAIN}pw%d", i);
        const struct passwd_entry *entry = passwd_file_lookup(file, name);
        CHECK(entry != NULL && strcmp(entry->password, password) == 0);
    }
    passwd_file_free(file);
    buf_free(&many);
}

static void test_load_and_cap(void)
{
    char path[] = "/tmp/test_passwd_file.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, sample, sizeof(sample) - 1) == (ssize_t)sizeof(sample) - 1);
    close(fd);
    struct buf err = BUF_INIT;
    struct passwd_file *file = passwd_file_load(path, PASSWD_FILE_MAX_SIZE, &err);
    CHECK(file != NULL);
    if (file) {
        CHECK_INT(file->count, 5);
        CHECK_STR(file->name, path);
        passwd_file_free(file);
    }
    /* One byte under the size: refused, with the file named. */
    file = passwd_file_load(path, sizeof(sample) - 2, &err);
    CHECK(file == NULL);
    CHECK_INT(errno, EFBIG);
    CHECK(strstr(buf_cstr(&err), path) != NULL);
    CHECK(strstr(buf_cstr(&err), "file is larger than") != NULL);
    unlink(path);
    buf_reset(&err);
    CHECK(passwd_file_load(path, PASSWD_FILE_MAX_SIZE, &err) == NULL);
    CHECK_INT(errno, ENOENT);
    CHECK(strstr(buf_cstr(&err), "cannot open") != NULL);
    buf_free(&err);

    /* An empty file is an empty table. */
    file = passwd_file_parse("empty", "", 0);
    CHECK_INT(file->count, 0);
    CHECK(passwd_file_lookup(file, "x") == NULL);
    passwd_file_free(file);
}

int main(void)
{
    UNIT_RUN(test_columns_and_extra_fields);
    UNIT_RUN(test_virtual_users);
    UNIT_RUN(test_bad_lines_are_skipped_and_named);
    UNIT_RUN(test_id_names);
    UNIT_RUN(test_lookup_is_exact);
    UNIT_RUN(test_load_and_cap);
    return unit_summary();
}
