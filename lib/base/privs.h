/* privs.h: user lookup, privilege drop and chroot for daemons.
 *
 * A daemon started by master as root drops to mail_owner (services
 * marked unpriv) and may chroot to the queue directory, before it reads a
 * byte from the network. When the suite runs as an ordinary user these
 * calls do nothing and say so, so a test instance runs anywhere. */
#ifndef POSTERN_PRIVS_H
#define POSTERN_PRIVS_H

#include <sys/types.h>

#include "base/buf.h"

enum privs_lookup { PRIVS_FOUND, PRIVS_NOTFOUND, PRIVS_ERROR };

/* 1 when the effective uid is root. */
int privs_is_root(void);

/* Looks up a user by name: uid and primary gid. PRIVS_ERROR (with err)
 * when the user database could not be read. */
enum privs_lookup privs_lookup_user(const char *name, uid_t *uid, gid_t *gid,
                                    struct buf *err);

/* Drops all privileges to user `name`: supplementary groups from the
 * group database (initgroups), then real/effective/saved gid and uid.
 * Verifies that root cannot be regained. Returns 0 when dropped, 1 when
 * not running as root (nothing done), -1 with err on failure (unknown
 * user, the user is root, a call failed); a caller that cannot drop must
 * not go on. */
int privs_drop(const char *name, struct buf *err);
/* The same with explicit ids; `name` (may be NULL) selects the
 * supplementary groups, else the only group is gid. */
int privs_drop_ids(uid_t uid, gid_t gid, const char *name, struct buf *err);

/* Changes root to dir and the working directory to the new "/".
 * Returns 0, 1 when not running as root (nothing done), or -1 with err. */
int privs_chroot(const char *dir, struct buf *err);

#endif
