/* queue_lock.h: the lock that says "a process is working on this queue
 * file", so the queue tools are safe while qmgr runs.
 *
 * The convention (docs/queue-format.md, "Working on a queue file"):
 *   - Whoever renames, deletes or changes a committed queue file first
 *     holds an exclusive lock on it: an open-file-description fcntl lock
 *     (F_OFD_SETLK, F_WRLCK) over the whole file, taken without waiting.
 *   - After locking, it checks that the path still names the locked file
 *     (another process may have moved it between open and lock); if not,
 *     it drops the lock and looks again.
 *   - qmgr locks a file before it moves it from incoming/ or deferred/ to
 *     active/, and keeps the lock while the message is in active/ with
 *     work in flight. Delivery agents mark recipients done without a lock
 *     of their own: qmgr holds it on their behalf.
 *   - postsuper takes the lock for every change it makes; a file that is
 *     locked is skipped and reported, never waited on for long.
 *   - Readers (postqueue, postcat) take no lock: every change to a queue
 *     file keeps it valid at every instant.
 * OFD locks belong to the open file description, not the process, so
 * closing another descriptor of the same file (a reader's) never drops
 * the lock by accident, as it would with classic POSIX record locks. They
 * still conflict with classic fcntl/lockf locks held by other processes. */
#ifndef POSTERN_QUEUE_LOCK_H
#define POSTERN_QUEUE_LOCK_H

#include "base/buf.h"

enum queue_lock_result {
    QUEUE_LOCK_OK = 0, /* locked; *fd is ours to use and close */
    QUEUE_LOCK_BUSY,   /* another process holds the lock */
    QUEUE_LOCK_GONE,   /* the file is not (or no longer) at that path */
    QUEUE_LOCK_ERROR,  /* a system call failed; err says which */
};

/* Opens path read-write (close-on-exec, no symlinks, regular files only),
 * locks it without waiting, and checks the path still names the locked
 * file. On QUEUE_LOCK_OK *fd holds the lock until it is closed; on any
 * other result no descriptor is left open. */
enum queue_lock_result queue_lock_open(const char *path, int *fd,
                                       struct buf *err);

/* Locks a descriptor the caller opened read-write (qmgr's reader): as
 * above, without the path check. QUEUE_LOCK_OK, _BUSY or _ERROR. */
enum queue_lock_result queue_lock_fd(int fd, struct buf *err);

/* Releases the lock without closing fd. */
void queue_unlock_fd(int fd);

/* 1 when some process holds a lock on path, 0 when none does or the file
 * does not exist, -1 on error (err set). For reports only: the answer may
 * be stale by the time it is used. */
int queue_lock_held(const char *path, struct buf *err);

#endif
