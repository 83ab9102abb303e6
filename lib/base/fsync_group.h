/* fsync_group.h: fsync several open files at once.
 *
 * A delivery to several mailboxes has several files (and then several
 * directories) to bring to disk. One thread syncing them one after the
 * other waits for the device once per file; syncs issued together from
 * several threads share the device's cache flushes, so the whole group
 * costs about one wait. The threads are made on first use and kept.
 *
 * The threads keep the ids the process started with (root, in an agent)
 * while the agents switch ids per thread (base/privs.h), so they only
 * sync descriptors they are given and never open anything by name. */
#ifndef POSTERN_FSYNC_GROUP_H
#define POSTERN_FSYNC_GROUP_H

#include <stddef.h>

/* fsyncs fds[0..count-1] (files or directories) concurrently and waits
 * for all of them. errs[i] receives 0 or the errno of fds[i]'s fsync.
 * Returns 0 when every fsync succeeded, else -1. One fd is synced in the
 * calling thread. */
int fsync_group(const int *fds, int *errs, size_t count);

#endif
