/* pidlock.h: the "one master per queue directory" lock.
 *
 * Like Postfix, master holds an exclusive fcntl(2) lock on
 * $queue_directory/pid/master.pid for as long as it runs, and writes its
 * process id into the file. The lock, not the file's contents, says
 * whether a master runs: the kernel drops it when the process exits, so
 * a stale file left by a crash never blocks a new start. Control
 * commands ask the kernel who holds the lock (F_GETLK), which is right
 * even when the file was truncated or edited by hand. */
#ifndef POSTERN_PIDLOCK_H
#define POSTERN_PIDLOCK_H

#include <sys/types.h>

#include "base/buf.h"

/* What pidlock_acquire returns instead of a descriptor. */
enum { PIDLOCK_FAILED = -1, PIDLOCK_HELD = -2 };

/* Opens (creating, mode 0644) and locks `path`, then writes the caller's
 * pid into it. Returns the open descriptor (close-on-exec; keep it open
 * while running), PIDLOCK_FAILED with a reason in err on failure. When
 * another process holds the lock, returns PIDLOCK_HELD and *holder is
 * its pid. */
int pidlock_acquire(const char *path, pid_t *holder, struct buf *err);

/* Returns the pid of the process holding the lock on `path`, 0 when no
 * process holds it (or the file does not exist), -1 with a reason in err
 * when the file cannot be examined. */
pid_t pidlock_holder(const char *path, struct buf *err);

#endif
