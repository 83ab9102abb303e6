/* test_privs.c: unit tests for lib/base/privs. Dropping privileges is tested
 * in forked children so the test process keeps its own identity. */
#include "unit.h"

#include <fcntl.h>
#include <pthread.h>
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
    if (privs_drop(user, &err) != PRIVS_DROPPED) {
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
    failed += privs_drop(user, &err) != PRIVS_NOT_ROOT;
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
    failed += privs_drop("root", &err) != PRIVS_DROP_FAILED;
    failed += strstr(buf_cstr(&err), "refusing") == NULL;
    buf_reset(&err);
    failed += privs_drop("no-such-user-postern", &err) != PRIVS_DROP_FAILED;
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
        CHECK_INT(privs_drop("nobody", &err), PRIVS_NOT_ROOT);
        CHECK_INT(privs_chroot("/nonexistent", &err), 1);
        CHECK_INT(err.len, 0);
    } else {
        CHECK_INT(in_child(drop_child, (void *)unpriv_user()), 0);
    }
    buf_free(&err);
}


/* ---- drops from a half-switched process, and privs_become ---- */

static int all_ids_are(uid_t uid, gid_t gid)
{
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    return getresuid(&ruid, &euid, &suid) == 0 &&
           getresgid(&rgid, &egid, &sgid) == 0 && ruid == uid &&
           euid == uid && suid == uid && rgid == gid && egid == gid &&
           sgid == gid;
}

/* Root as real and saved uid only (as after a temporary switch): that is
 * still root, and a drop must take all of it, not report "not root". */
static int drop_switched_child(void *arg)
{
    struct passwd *pw = getpwnam(arg);
    struct buf err = BUF_INIT;
    int failed = 0;
    if (setresgid((gid_t)-1, pw->pw_gid, (gid_t)-1) < 0 ||
        setresuid((uid_t)-1, pw->pw_uid, (uid_t)-1) < 0)
        return 50;
    failed += privs_drop_ids(pw->pw_uid, pw->pw_gid, NULL, &err) !=
              PRIVS_DROPPED;
    failed += !all_ids_are(pw->pw_uid, pw->pw_gid);
    failed += setuid(0) == 0 || seteuid(0) == 0;
    return failed;
}

static void test_drop_from_effective_switch(void)
{
    if (!privs_is_root() || !unpriv_user())
        SKIP("needs root and a user 'nobody'");
    CHECK_INT(in_child(drop_switched_child, (void *)unpriv_user()), 0);
}

/* privs_become: as root it drops; not root, it passes only for the
 * identity the process already has for good. */
static int become_child(void *arg)
{
    struct passwd *pw = getpwnam(arg);
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    struct buf err = BUF_INIT;
    int failed = 0;
    /* Half-switched (effective uid the user's, saved uid root): the old
     * "not root, nothing to drop" would have run a command here. */
    if (setresuid((uid_t)-1, uid, (uid_t)-1) < 0)
        return 50;
    failed += privs_become(uid, gid, NULL, &err) != 0;
    failed += !all_ids_are(uid, gid);
    /* Now an ordinary user: the same identity passes, another is refused. */
    buf_reset(&err);
    failed += privs_become(uid, gid, NULL, &err) != 0;
    failed += privs_become(uid + 1, gid, NULL, &err) != -1;
    failed += strstr(buf_cstr(&err), "cannot change identity") == NULL;
    buf_reset(&err);
    failed += privs_become(uid, gid + 1, NULL, &err) != -1;
    failed += privs_become(0, 0, NULL, &err) != -1;
    failed += !all_ids_are(uid, gid);
    return failed;
}

static void test_become(void)
{
    if (!privs_is_root() || !unpriv_user())
        SKIP("needs root and a user 'nobody'");
    CHECK_INT(in_child(become_child, (void *)unpriv_user()), 0);
}

static int become_root_child(void *arg)
{
    (void)arg;
    struct buf err = BUF_INIT;
    /* Root is never the identity a command runs as. */
    return privs_become(0, 0, "root", &err) != -1 || !privs_is_root();
}

static void test_become_refuses_root(void)
{
    if (!privs_is_root())
        SKIP("needs root");
    CHECK_INT(in_child(become_root_child, NULL), 0);
}

/* ---- temporary switches ---- */

static int only_group_is(gid_t gid)
{
    gid_t groups[64];
    int count = getgroups(64, groups);
    return count == 1 && groups[0] == gid;
}

static int process_switch_child(void *arg)
{
    struct passwd *pw = getpwnam(arg);
    int failed = 0;
    gid_t extra = 4242;
    if (setgroups(1, &extra) < 0)
        return 50;
    privs_effective_set(PRIVS_PROCESS, pw->pw_uid, pw->pw_gid);
    failed += geteuid() != pw->pw_uid || getegid() != pw->pw_gid;
    failed += getuid() != 0;
    failed += !only_group_is(pw->pw_gid);
    failed += open("/etc/shadow", O_RDONLY) >= 0; /* no root rights now */
    privs_effective_restore(PRIVS_PROCESS);
    failed += geteuid() != 0 || getegid() != getgid();
    failed += !only_group_is(extra);
    return failed;
}

static void test_process_switch(void)
{
    if (!privs_is_root() || !unpriv_user())
        SKIP("needs root and a user 'nobody'");
    CHECK_INT(in_child(process_switch_child, (void *)unpriv_user()), 0);
}

struct thread_check {
    uid_t uid;
    gid_t gid;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int switched, checked, failed;
};

static void *switching_thread(void *arg)
{
    struct thread_check *tc = arg;
    privs_effective_set(PRIVS_THREAD, tc->uid, tc->gid);
    tc->failed += geteuid() != tc->uid || getegid() != tc->gid;
    pthread_mutex_lock(&tc->lock);
    tc->switched = 1;
    pthread_cond_broadcast(&tc->cond);
    while (!tc->checked)
        pthread_cond_wait(&tc->cond, &tc->lock);
    pthread_mutex_unlock(&tc->lock);
    privs_effective_restore(PRIVS_THREAD);
    tc->failed += geteuid() != 0;
    return NULL;
}

/* One thread switches; the other keeps root's ids meanwhile. */
static int thread_switch_child(void *arg)
{
    struct passwd *pw = getpwnam(arg);
    struct thread_check tc = {.uid = pw->pw_uid, .gid = pw->pw_gid};
    pthread_mutex_init(&tc.lock, NULL);
    pthread_cond_init(&tc.cond, NULL);
    pthread_t thread;
    if (pthread_create(&thread, NULL, switching_thread, &tc) != 0)
        return 50;
    pthread_mutex_lock(&tc.lock);
    while (!tc.switched)
        pthread_cond_wait(&tc.cond, &tc.lock);
    int failed = geteuid() != 0 || getegid() != 0;
    tc.checked = 1;
    pthread_cond_broadcast(&tc.cond);
    pthread_mutex_unlock(&tc.lock);
    pthread_join(thread, NULL);
    return failed + tc.failed;
}

static void test_thread_switch(void)
{
    if (!privs_is_root() || !unpriv_user())
        SKIP("needs root and a user 'nobody'");
    CHECK_INT(in_child(thread_switch_child, (void *)unpriv_user()), 0);
}

int main(void)
{
    UNIT_RUN(test_lookup);
    UNIT_RUN(test_drop_as_root);
    UNIT_RUN(test_refuse_root_and_unknown);
    UNIT_RUN(test_chroot_as_root);
    UNIT_RUN(test_not_root_does_nothing);
    UNIT_RUN(test_drop_from_effective_switch);
    UNIT_RUN(test_become);
    UNIT_RUN(test_become_refuses_root);
    UNIT_RUN(test_process_switch);
    UNIT_RUN(test_thread_switch);
    return unit_summary();
}
