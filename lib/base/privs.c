/* privs.c: user lookup, privilege drop and chroot (privs.h). */
#include "base/privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

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

int privs_drop_ids(uid_t uid, gid_t gid, const char *name, struct buf *err)
{
    if (!privs_is_root())
        return 1;
    if (uid == 0) {
        buf_appendf(err, "refusing to run as root (user %s has uid 0)",
                    name ? name : "?");
        return -1;
    }
    if (name ? initgroups(name, gid) < 0 : setgroups(1, &gid) < 0) {
        buf_appendf(err, "setting groups for %s: %s", name ? name : "?",
                    strerror(errno));
        return -1;
    }
    if (setresgid(gid, gid, gid) < 0) {
        buf_appendf(err, "setresgid(%ld): %s", (long)gid, strerror(errno));
        return -1;
    }
    if (setresuid(uid, uid, uid) < 0) {
        buf_appendf(err, "setresuid(%ld): %s", (long)uid, strerror(errno));
        return -1;
    }
    /* Trust, but verify: no way back to root. */
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    if (getresuid(&ruid, &euid, &suid) < 0 || ruid != uid || euid != uid ||
        suid != uid || getresgid(&rgid, &egid, &sgid) < 0 || rgid != gid ||
        egid != gid || sgid != gid || setuid(0) == 0 || seteuid(0) == 0) {
        buf_appendf(err, "privilege drop to uid %ld did not hold", (long)uid);
        return -1;
    }
    return 0;
}

int privs_drop(const char *name, struct buf *err)
{
    uid_t uid;
    gid_t gid;
    if (!privs_is_root())
        return 1;
    switch (privs_lookup_user(name, &uid, &gid, err)) {
    case PRIVS_FOUND:
        return privs_drop_ids(uid, gid, name, err);
    case PRIVS_NOTFOUND:
        buf_appendf(err, "unknown user: %s", name);
        return -1;
    default:
        return -1;
    }
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
