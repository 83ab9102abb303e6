/* queue_dirs.h: the queue directory's subdirectories, paths of queue
 * files built from checked ids, and moves between queues.
 *
 * The queue directory ($queue_directory) is flat: every message queue is
 * one directory holding files named by queue id, with no hashed levels
 * (modern file systems index large directories). The per-message logs
 * defer/ and bounce/ use the same names as the queue files they describe.
 * Paths are given as arguments; this module reads no configuration.
 * pid/, private/ and public/ belong to master and are not listed here. */
#ifndef POSTERN_QUEUE_DIRS_H
#define POSTERN_QUEUE_DIRS_H

#include <sys/types.h>

#include "base/buf.h"

enum queue_name {
    QUEUE_INCOMING, /* complete files from smtpd and sendmail */
    QUEUE_ACTIVE,   /* files qmgr is delivering */
    QUEUE_DEFERRED, /* waiting to retry (retry time in the mtime) */
    QUEUE_HOLD,     /* held by the administrator or an access rule */
    QUEUE_CORRUPT,  /* files that failed to parse */
    QUEUE_DEFER,    /* per-message logs of deferred recipients */
    QUEUE_BOUNCE,   /* per-message logs of bounced recipients */
    QUEUE_MAILDROP, /* requeued by postsuper -r, waiting for qmgr to send
                       them through the intake rewriting again */
    QUEUE_COUNT
};

/* The directory name ("incoming", ...); NULL for an unknown value. */
const char *queue_dir_name(enum queue_name queue);
/* Looks a name up (as given to `postsuper -d ALL deferred`): 0, or -1
 * when it names no queue. */
int queue_dir_lookup(const char *name, enum queue_name *out);
/* 1 for the queues that hold queue files, 0 for defer/ and bounce/. */
int queue_dir_holds_messages(enum queue_name queue);

/* Sets out to "QUEUE_DIRECTORY/QUEUE" (no id check needed). */
void queue_dir_path(struct buf *out, const char *queue_directory,
                    enum queue_name queue);
/* Sets out to "QUEUE_DIRECTORY/QUEUE/QID": 0, or -1 (out left empty,
 * nothing built) when qid fails qid_valid() or the queue is unknown. */
int queue_path(struct buf *out, const char *queue_directory,
               enum queue_name queue, const char *qid);

/* Renames QID from one queue to another (rename(2): atomic, the file
 * keeps its inode and so its id). With sync, fsyncs the destination
 * directory, which on Linux journaling file systems commits the whole
 * rename; without, the caller syncs later with queue_dir_sync (group
 * commit). 0, or -1 with err set; errno is kept from the failed call so
 * a caller can tell ENOENT (someone else moved it) from the rest. */
int queue_move(const char *queue_directory, const char *qid,
               enum queue_name from, enum queue_name to, int sync,
               struct buf *err);
/* fsyncs one queue's directory: 0, or -1 with err set. */
int queue_dir_sync(const char *queue_directory, enum queue_name queue,
                   struct buf *err);
/* Creates every missing queue subdirectory with mode: 0, or -1 with err
 * set. Existing directories are left as they are. */
int queue_dirs_create(const char *queue_directory, unsigned mode,
                      struct buf *err);

/* The queue directory's identity, taken before a daemon's chroot, so
 * that afterwards it can tell whether it was jailed inside it. */
struct queue_dir_id {
    dev_t dev;
    ino_t ino;
};
/* Records dir's identity: 0, or -1 with errno set. */
int queue_dir_identify(const char *dir, struct queue_dir_id *id);
/* After the skeleton's chroot (chroot = y in master.cf): 1 when "/" is the
 * recorded directory, so queue paths must be built relative to the new
 * root (the daemon then uses "" as its queue directory); else 0. */
int queue_dir_is_root(const struct queue_dir_id *id);

#endif
