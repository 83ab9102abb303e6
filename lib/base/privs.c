/* privs.c: user lookup, drops for good, temporary effective-id switches
 * and chroot (privs.h). */
#include "base/privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"

int privs_is_root(void)
{
    return geteuid() == 0;
}

enum privs_lookup privs_lookup_user(const char *name, uid_t *uid, gid_t *gid,
                                    struct buf *err)
{
    errno = 0;
    struct passwd *pw = getpwnam(name);
    if (pw) {
        *uid = pw->pw_uid;
        *gid = pw->pw_gid;
        return PRIVS_FOUND;
    }
    /* getpwnam(3): these errno values (or none) all mean "no such user". */
    if (errno == 0 || errno == ENOENT || errno == ESRCH || errno == EBADF ||
        errno == EPERM)
        return PRIVS_NOTFOUND;
    buf_appendf(err, "cannot look up user %s: %s", name, strerror(errno));
    return PRIVS_ERROR;
}

/* ---- drops for good ---- */

/* 1 when real, effective and saved uid are uid and the three gids gid. */
static int ids_are(uid_t uid, gid_t gid)
{
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    return getresuid(&ruid, &euid, &suid) == 0 &&
           getresgid(&rgid, &egid, &sgid) == 0 && ruid == uid &&
           euid == uid && suid == uid && rgid == gid && egid == gid &&
           sgid == gid;
}

/* 1 when root is the real, effective or saved uid. */
static int holds_root(void)
{
    uid_t ruid, euid, suid;
    if (getresuid(&ruid, &euid, &suid) < 0)
        return 1; /* cannot tell: try to drop, and verify */
    return ruid == 0 || euid == 0 || suid == 0;
}

enum privs_drop_result privs_drop_ids(uid_t uid, gid_t gid, const char *name,
                                      struct buf *err)
{
    if (!holds_root())
        return PRIVS_NOT_ROOT;
    if (uid == 0) {
        buf_appendf(err, "refusing to run as root (user %s has uid 0)",
                    name ? name : "?");
        return PRIVS_DROP_FAILED;
    }
    /* Root only as real or saved uid: take it back as the effective uid,
     * which setgroups and setresgid need. */
    if (geteuid() != 0 && setresuid((uid_t)-1, 0, (uid_t)-1) < 0) {
        buf_appendf(err, "regaining root to drop it: %s", strerror(errno));
        return PRIVS_DROP_FAILED;
    }
    if (name ? initgroups(name, gid) < 0 : setgroups(1, &gid) < 0) {
        buf_appendf(err, "setting groups for %s: %s", name ? name : "?",
                    strerror(errno));
        return PRIVS_DROP_FAILED;
    }
    if (setresgid(gid, gid, gid) < 0) {
        buf_appendf(err, "setresgid(%ld): %s", (long)gid, strerror(errno));
        return PRIVS_DROP_FAILED;
    }
    if (setresuid(uid, uid, uid) < 0) {
        buf_appendf(err, "setresuid(%ld): %s", (long)uid, strerror(errno));
        return PRIVS_DROP_FAILED;
    }
    /* Trust, but verify: all three ids took, and no way back to root. */
    if (!ids_are(uid, gid) || setuid(0) == 0 || seteuid(0) == 0) {
        buf_appendf(err, "privilege drop to uid %ld did not hold", (long)uid);
        return PRIVS_DROP_FAILED;
    }
    return PRIVS_DROPPED;
}

enum privs_drop_result privs_drop(const char *name, struct buf *err)
{
    uid_t uid;
    gid_t gid;
    if (!holds_root())
        return PRIVS_NOT_ROOT;
    switch (privs_lookup_user(name, &uid, &gid, err)) {
    case PRIVS_FOUND:
        return privs_drop_ids(uid, gid, name, err);
    case PRIVS_NOTFOUND:
        buf_appendf(err, "unknown user: %s", name);
        return PRIVS_DROP_FAILED;
    default:
        return PRIVS_DROP_FAILED;
    }
}

int privs_become(uid_t uid, gid_t gid, const char *name, struct buf *err)
{
    switch (privs_drop_ids(uid, gid, name, err)) {
    case PRIVS_DROPPED:
        return 0;
    case PRIVS_DROP_FAILED:
        return -1;
    case PRIVS_NOT_ROOT:
        break;
    }
    /* Not root, so nothing could be changed: acceptable only when the
     * process already is exactly the intended identity (the whole suite
     * runs as one ordinary user). */
    if (ids_are(uid, gid))
        return 0;
    buf_appendf(err,
                "not root and not running as uid %ld gid %ld (uid %ld gid "
                "%ld): cannot change identity",
                (long)uid, (long)gid, (long)geteuid(), (long)getegid());
    return -1;
}

/* ---- temporary effective-id switches ----
 *
 * The raw system calls change the calling thread only; glibc's wrappers
 * change every thread of the process by signalling each one. */

static gid_t *saved_groups;
static int saved_group_count = -1;

static int set_euid(enum privs_scope scope, uid_t uid)
{
    if (scope == PRIVS_THREAD)
        return (int)syscall(SYS_setresuid, (uid_t)-1, uid, (uid_t)-1);
    return setresuid((uid_t)-1, uid, (uid_t)-1);
}

static int set_egid(enum privs_scope scope, gid_t gid)
{
    if (scope == PRIVS_THREAD)
        return (int)syscall(SYS_setresgid, (gid_t)-1, gid, (gid_t)-1);
    return setresgid((gid_t)-1, gid, (gid_t)-1);
}

static int set_groups(enum privs_scope scope, size_t count,
                      const gid_t *groups)
{
    if (scope == PRIVS_THREAD)
        return (int)syscall(SYS_setgroups, count, groups);
    return setgroups(count, groups);
}

/* The groups to go back to, read once while still root. */
static void save_groups(void)
{
    if (saved_group_count >= 0)
        return;
    int n = getgroups(0, NULL);
    if (n < 0)
        log_fatal("getgroups: %s", strerror(errno));
    saved_groups = xcalloc((size_t)n + 1, sizeof(gid_t));
    saved_group_count = getgroups(n, saved_groups);
    if (saved_group_count < 0)
        log_fatal("getgroups: %s", strerror(errno));
}

void privs_effective_set(enum privs_scope scope, uid_t uid, gid_t gid)
{
    if (getuid() != 0)
        return;
    save_groups();
    if (geteuid() != 0 && set_euid(scope, 0) < 0)
        log_fatal("seteuid(0): %s", strerror(errno));
    if (set_groups(scope, 1, &gid) < 0)
        log_fatal("setgroups(%ld): %s", (long)gid, strerror(errno));
    if (set_egid(scope, gid) < 0)
        log_fatal("setegid(%ld): %s", (long)gid, strerror(errno));
    if (set_euid(scope, uid) < 0)
        log_fatal("seteuid(%ld): %s", (long)uid, strerror(errno));
}

void privs_effective_restore(enum privs_scope scope)
{
    if (getuid() != 0)
        return;
    if (set_euid(scope, 0) < 0)
        log_fatal("seteuid(0): %s", strerror(errno));
    if (set_egid(scope, getgid()) < 0)
        log_fatal("setegid: %s", strerror(errno));
    if (saved_group_count >= 0 &&
        set_groups(scope, (size_t)saved_group_count, saved_groups) < 0)
        log_fatal("setgroups: %s", strerror(errno));
}

int privs_chroot(const char *dir, struct buf *err)
{
    if (!privs_is_root())
        return 1;
    if (chdir(dir) < 0 || chroot(".") < 0 || chdir("/") < 0) {
        buf_appendf(err, "chroot to %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}
