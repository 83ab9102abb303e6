/* test_user_acl.c: unit tests for lib/routing/user_acl, the authorized_*_users
 * check: Postfix's string list syntax (names, !negation, tables, /file),
 * the static: shortcut, "unknown" for uids without a password entry and
 * for unidentified clients, the root/mail_owner exemption, and a failing
 * table as a temporary error. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "routing/user_acl.h"
#include "unit.h"

/* A uid that no password file has. */
#define NO_SUCH_UID 3999999L

static enum user_acl_result check(const char *value, unsigned flags, long owner,
                                  long uid, const char *name)
{
    struct buf err = BUF_INIT, who = BUF_INIT;
    struct user_acl *acl =
        user_acl_new("test_users", value, flags, owner, &err);
    CHECK(acl != NULL);
    if (acl == NULL) {
        printf("#   %s: %s\n", value, buf_cstr(&err));
        buf_free(&err);
        return USER_ACL_ERROR;
    }
    enum user_acl_result result = user_acl_check(acl, uid, &who);
    if (name)
        CHECK_STR(buf_cstr(&who), name);
    user_acl_free(acl);
    buf_free(&err);
    buf_free(&who);
    return result;
}

static void test_names_and_negation(void)
{
    CHECK_INT(check("root", 0, -1, 0, "root"), USER_ACL_ALLOWED);
    CHECK_INT(check("ROOT", 0, -1, 0, "root"), USER_ACL_ALLOWED);
    CHECK_INT(check("daemon, root", 0, -1, 0, NULL), USER_ACL_ALLOWED);
    CHECK_INT(check("daemon", 0, -1, 0, NULL), USER_ACL_DENIED);
    /* First match wins. */
    CHECK_INT(check("!root, root", 0, -1, 0, NULL), USER_ACL_DENIED);
    CHECK_INT(check("root, !root", 0, -1, 0, NULL), USER_ACL_ALLOWED);
    /* A negation that does not match goes on to the next item. */
    CHECK_INT(check("!daemon, root", 0, -1, 0, NULL), USER_ACL_ALLOWED);
    /* Empty: nobody. */
    CHECK_INT(check("", 0, -1, 0, NULL), USER_ACL_DENIED);
}

static void test_static_shortcut(void)
{
    /* Any value starting with static: lets everyone in, as Postfix's
     * check_user_acl_byuid does; also an unknown uid. */
    CHECK_INT(check("static:anyone", 0, -1, 0, NULL), USER_ACL_ALLOWED);
    CHECK_INT(check("static:root", 0, -1, NO_SUCH_UID, "unknown"),
              USER_ACL_ALLOWED);
    CHECK_INT(check("  static:anyone", 0, -1, USER_ACL_UNKNOWN_UID, "unknown"),
              USER_ACL_ALLOWED);
    /* Not first: an ordinary table, which matches every name too. */
    CHECK_INT(check("!root, static:anyone", 0, -1, 0, NULL), USER_ACL_DENIED);
    CHECK_INT(check("!daemon, static:anyone", 0, -1, 0, NULL),
              USER_ACL_ALLOWED);
}

static void test_unknown_users(void)
{
    CHECK_INT(check("root", 0, -1, NO_SUCH_UID, "unknown"), USER_ACL_DENIED);
    CHECK_INT(check("unknown", 0, -1, NO_SUCH_UID, "unknown"),
              USER_ACL_ALLOWED);
    CHECK_INT(check("!unknown, static:anyone", 0, -1, NO_SUCH_UID, NULL),
              USER_ACL_DENIED);
    CHECK_INT(check("root", 0, -1, USER_ACL_UNKNOWN_UID, "unknown"),
              USER_ACL_DENIED);
}

static void test_owner_exemption(void)
{
    /* root and mail_owner pass whatever the list says (mailq, flush). */
    CHECK_INT(check("", USER_ACL_OWNER_EXEMPT, 4242, 0, "root"),
              USER_ACL_ALLOWED);
    CHECK_INT(
        check("", USER_ACL_OWNER_EXEMPT, NO_SUCH_UID, NO_SUCH_UID, "unknown"),
        USER_ACL_ALLOWED);
    CHECK_INT(check("", USER_ACL_OWNER_EXEMPT, 4242, NO_SUCH_UID, NULL),
              USER_ACL_DENIED);
    /* An unidentified client is never the owner. */
    CHECK_INT(check("", USER_ACL_OWNER_EXEMPT, USER_ACL_UNKNOWN_UID,
                    USER_ACL_UNKNOWN_UID, NULL),
              USER_ACL_DENIED);
    /* Without the flag (submit) root is checked like anyone. */
    CHECK_INT(check("daemon", 0, 0, 0, NULL), USER_ACL_DENIED);
}

static void test_tables_and_files(void)
{
    CHECK_INT(check("inline:{ root=yes }", 0, -1, 0, NULL), USER_ACL_ALLOWED);
    CHECK_INT(check("inline:{ daemon=yes }", 0, -1, 0, NULL), USER_ACL_DENIED);
    CHECK_INT(check("fail:broken", 0, -1, 0, NULL), USER_ACL_ERROR);
    /* A match before the broken table decides without it. */
    CHECK_INT(check("root, fail:broken", 0, -1, 0, NULL), USER_ACL_ALLOWED);

    char path[] = "/tmp/test_user_acl.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("# who may\ndaemon\n  root, bin\n", f);
    fclose(f);
    struct buf value = BUF_INIT;
    buf_appendf(&value, "!daemon, %s", path);
    CHECK_INT(check(buf_cstr(&value), 0, -1, 0, NULL), USER_ACL_ALLOWED);
    unlink(path);
    /* A missing file is an error when the list is opened. */
    struct buf err = BUF_INIT;
    CHECK(user_acl_new("test_users", path, 0, -1, &err) == NULL);
    CHECK(err.len > 0);
    buf_free(&err);
    buf_free(&value);
}

static void test_names(void)
{
    struct buf name = BUF_INIT;
    CHECK_INT(user_acl_name(0, &name), 0);
    CHECK_STR(buf_cstr(&name), "root");
    CHECK_INT(user_acl_name(NO_SUCH_UID, &name), -1);
    CHECK_STR(buf_cstr(&name), "unknown");
    CHECK_INT(user_acl_name(USER_ACL_UNKNOWN_UID, &name), -1);
    CHECK_STR(buf_cstr(&name), "unknown");
    buf_free(&name);
}

int main(void)
{
    log_set_program("test_user_acl");
    UNIT_RUN(test_names_and_negation);
    UNIT_RUN(test_static_shortcut);
    UNIT_RUN(test_unknown_users);
    UNIT_RUN(test_owner_exemption);
    UNIT_RUN(test_tables_and_files);
    UNIT_RUN(test_names);
    return unit_summary();
}
