/* test_privs.c: unit tests for lib/base/privs. Dropping privileges is tested
 * in forked children so the test process keeps its own identity. */
#include "unit.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/privs.h"

static const char *unpriv_user(void)
{
    return getpwnam("nobody") ? "nobody" : NULL;
}

/* Runs fn in a child; its exit status is the number of failed checks. */
static int in_child(int (*fn)(void *), void *arg)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn(arg));
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

static void test_lookup(void)
{
    struct buf err = BUF_INIT;
    uid_t uid = 1;
    gid_t gid = 1;
    CHECK_INT(privs_lookup_user("root", &uid, &gid, &err), PRIVS_FOUND);
    CHECK_INT(uid, 0);
    CHECK_INT(privs_lookup_user("no-such-user-postern", &uid, &gid, &err),
              PRIVS_NOTFOUND);
    buf_free(&err);
}

static int drop_child(void *arg)
{
    const char *user = arg;
    struct buf err = BUF_INIT;
    struct passwd *pw = getpwnam(user);
    int failed = 0;
    if (privs_drop(user, &err) != 0) {
        fprintf(stderr, "drop: %s\n", buf_cstr(&err));
        return 50;
    }
    failed += getuid() != pw->pw_uid || geteuid() != pw->pw_uid;
    failed += getgid() != pw->pw_gid || getegid() != pw->pw_gid;
    failed += setuid(0) == 0;
    failed += setgid(0) == 0;
    gid_t groups[64];
    int count = getgroups(64, groups);
    for (int i = 0; i < count; i++)
        failed += groups[i] == 0;
    /* Now not root: a second drop and a chroot report "nothing done". */
    buf_reset(&err);
    failed += privs_drop(user, &err) != 1;
    failed += privs_chroot("/", &err) != 1;
    failed += privs_is_root();
    return failed;
}

static void test_drop_as_root(void)
{
    if (!privs_is_root())
        SKIP("needs root (dropping privileges)");
    if (!unpriv_user())
        SKIP("no user 'nobody' on this system");
    CHECK_INT(in_child(drop_child, (void *)unpriv_user()), 0);
}

static int refuse_child(void *arg)
{
    struct buf err = BUF_INIT;
    int failed = 0;
    failed += privs_drop("root", &err) != -1;
    failed += strstr(buf_cstr(&err), "refusing") == NULL;
    buf_reset(&err);
    failed += privs_drop("no-such-user-postern", &err) != -1;
    failed += strcmp(buf_cstr(&err), "unknown user: no-such-user-postern") != 0;
    failed += !privs_is_root(); /* nothing was dropped */
    return failed;
}

static void test_refuse_root_and_unknown(void)
{
    if (!privs_is_root())
        SKIP("needs root (the refusals only apply when dropping)");
    CHECK_INT(in_child(refuse_child, NULL), 0);
}

static int chroot_child(void *arg)
{
    const char *dir = arg;
    struct buf err = BUF_INIT;
    if (privs_chroot(dir, &err) != 0)
        return 50;
    char cwd[64];
    int failed = 0;
    failed += getcwd(cwd, sizeof(cwd)) == NULL || strcmp(cwd, "/") != 0;
    failed += access("/marker", F_OK) != 0; /* our file is now at the root */
    failed += access("/etc/passwd", F_OK) == 0;
    return failed;
}

static void test_chroot_as_root(void)
{
    if (!privs_is_root())
        SKIP("needs root (chroot)");
    char dir[] = "/tmp/test_privs.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char marker[64];
    snprintf(marker, sizeof(marker), "%s/marker", dir);
    int fd = open(marker, O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0);
    close(fd);
    CHECK_INT(in_child(chroot_child, dir), 0);
    unlink(marker);
    rmdir(dir);
}

static void test_not_root_does_nothing(void)
{
    /* Run as an ordinary user: directly, or in a child that drops first. */
    if (privs_is_root() && !unpriv_user())
        SKIP("running as root and no user 'nobody' to become");
    struct buf err = BUF_INIT;
    if (!privs_is_root()) {
        CHECK_INT(privs_drop("nobody", &err), 1);
        CHECK_INT(privs_chroot("/nonexistent", &err), 1);
        CHECK_INT(err.len, 0);
    } else {
        CHECK_INT(in_child(drop_child, (void *)unpriv_user()), 0);
    }
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_lookup);
    UNIT_RUN(test_drop_as_root);
    UNIT_RUN(test_refuse_root_and_unknown);
    UNIT_RUN(test_chroot_as_root);
    UNIT_RUN(test_not_root_does_nothing);
    return unit_summary();
}
