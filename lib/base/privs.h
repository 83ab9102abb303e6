/* privs.h: every change of identity the suite makes: user lookup, the
 * drop for good, the temporary effective-id switch (process-wide or per
 * thread), and chroot.
 *
 * A daemon started by master as root drops to mail_owner (services
 * marked unpriv) and may chroot to the queue directory, before it reads a
 * byte from the network; master's children, postmap building a table as
 * its source's owner, and local's command deliveries all drop with
 * privs_drop_ids. The delivery agents write mailboxes with a temporary
 * per-thread switch (privs_effective_set). When the suite runs as an
 * ordinary user these calls do nothing and say so, so a test instance
 * runs anywhere; privs_become is for the one caller that must not accept
 * "nothing to do" blindly. */
#ifndef POSTERN_PRIVS_H
#define POSTERN_PRIVS_H

#include <sys/types.h>

#include "base/buf.h"

enum privs_lookup { PRIVS_FOUND, PRIVS_NOTFOUND, PRIVS_ERROR };

/* What a drop did. */
enum privs_drop_result {
    PRIVS_DROPPED,      /* real, effective and saved ids are the new ones */
    PRIVS_NOT_ROOT,     /* no id of the process is root: nothing done */
    PRIVS_DROP_FAILED,  /* err says why; the caller must not go on */
};

/* 1 when the effective uid is root. */
int privs_is_root(void);

/* Looks up a user by name: uid and primary gid. PRIVS_ERROR (with err)
 * when the user database could not be read. */
enum privs_lookup privs_lookup_user(const char *name, uid_t *uid, gid_t *gid,
                                    struct buf *err);

/* Drops all privileges for good to uid/gid: the supplementary groups
 * (initgroups(name) when name is not NULL, else gid alone), then
 * real/effective/saved gid and uid with setresgid/setresuid, then checks
 * with getresuid/getresgid that all three took and that root cannot be
 * regained. A process with root as any of its real, effective or saved
 * uid counts as root (the effective uid is taken back first). Refuses
 * uid 0. */
enum privs_drop_result privs_drop_ids(uid_t uid, gid_t gid, const char *name,
                                      struct buf *err);
/* The same for user `name` from the user database. */
enum privs_drop_result privs_drop(const char *name, struct buf *err);

/* For a caller that runs something on a user's behalf (local's command
 * delivery): afterwards the process runs as uid/gid for good, or the
 * result is -1 with err and the caller must not run anything. As root it
 * drops (privs_drop_ids); not root, it succeeds only when the real,
 * effective and saved uid and gid already are uid and gid, so "nothing
 * to drop" never passes for the wrong identity. Returns 0 or -1. */
int privs_become(uid_t uid, gid_t gid, const char *name, struct buf *err);

/* Temporary effective-id switch.
 *
 * PRIVS_PROCESS changes the whole process (glibc's wrappers, which
 * signal every thread). PRIVS_THREAD changes the calling thread only,
 * with the raw setresuid/setresgid/setgroups system calls (on Linux the
 * kernel keeps credentials per thread; glibc hides that). The per-thread
 * switch is what the delivery agents use, several times per recipient.
 *
 * The rule that comes with it: no thread may open files in a process
 * whose effective ids change per thread unless that thread's ids are set
 * too. A thread that did not switch keeps root's ids while another
 * thread writes a user's mailbox; it may only use descriptors already
 * open (lib/base/fsync_group's threads sync them, nothing more).
 *
 * privs_effective_set makes uid/gid the effective ids and gid the only
 * supplementary group; privs_effective_restore goes back to the real
 * ids (root) and the groups the process had. Both do nothing when the
 * real uid is not root. Failures are fatal: a half-switched process must
 * not go on. */
enum privs_scope { PRIVS_PROCESS, PRIVS_THREAD };
void privs_effective_set(enum privs_scope scope, uid_t uid, gid_t gid);
void privs_effective_restore(enum privs_scope scope);

/* Changes root to dir and the working directory to the new "/".
 * Returns 0, 1 when not running as root (nothing done), or -1 with err. */
int privs_chroot(const char *dir, struct buf *err);

#endif
