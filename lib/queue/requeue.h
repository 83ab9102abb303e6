/* requeue.h: the second half of `postsuper -r`, which qmgr runs: a
 * message that postsuper moved to maildrop/ goes through the intake
 * rewriting again (lib/queue/recleanup.h) into a new queue file with a new
 * queue id, as Postfix's pickup and cleanup do, and that file replaces
 * the old one.
 *
 * Crash safety: at every instant exactly one queue file holds the
 * message, so a crash anywhere neither loses it nor lets it be delivered
 * twice. The steps for maildrop/OLD (docs/queue-format.md, "Requeue"):
 *   1. lock maildrop/OLD; read it;
 *   2. write the rewritten message to a temporary file in maildrop/
 *      (attribute orig_id=OLD) and fdatasync it;
 *   3. rename it over maildrop/OLD (one atomic step replaces the old
 *      message with the new one) and fsync maildrop/;
 *   4. when bounce/OLD holds notices still owed, copy its entries to
 *      bounce/NEW (fdatasync), pointing at the new file's records;
 *   5. rename maildrop/OLD to incoming/NEW (deferred/NEW, due now, when
 *      a notice is owed, so qmgr sends it even if every recipient is
 *      delivered at once) and fsync that directory;
 *   6. remove defer/OLD and bounce/OLD.
 * A file in maildrop/ whose orig_id is its own name is the result of
 * step 3 whose later steps did not happen: it is not rewritten again,
 * only steps 4 to 6 are done (with a new id made from its inode). A
 * crash before step 3 leaves the old file and a temporary file that the
 * day-old purge removes; after step 5 only stale logs are left, which
 * name a queue id that no file has any more.
 *
 * Log lines, in the shape of Postfix's pickup and cleanup:
 *   NEW: uid=UID from=<sender> orig_id=OLD
 *   NEW: message-id=<...> */
#ifndef POSTERN_REQUEUE_H
#define POSTERN_REQUEUE_H

#include "base/buf.h"
#include "queue/qid.h"
#include "queue/queue_dirs.h"

struct rewrite;

enum requeue_result {
    REQUEUE_DONE,    /* the new file is in out->queue as out->qid */
    REQUEUE_BUSY,    /* another process holds the lock: soon again */
    REQUEUE_LATER,   /* a table error or an I/O error (err says which):
                        left in maildrop/, try again later */
    REQUEUE_CORRUPT, /* not a valid queue file: moved to corrupt/ (logged) */
    REQUEUE_GONE,    /* no such file (any more) */
};

struct requeue_outcome {
    char qid[QID_BUF_SIZE];
    enum queue_name queue; /* QUEUE_INCOMING or QUEUE_DEFERRED */
};

/* Requeues maildrop/QID (qid already checked with qid_valid) under
 * queue_directory, rewriting with rw. */
enum requeue_result requeue_pickup(struct rewrite *rw,
                                   const char *queue_directory, const char *qid,
                                   struct requeue_outcome *out,
                                   struct buf *err);

#endif
