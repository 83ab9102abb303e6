/* group_commit.h: finish, commit and fsync queue files off the event
 * loop, sharing directory fsyncs between messages that finish together.
 *
 * docs/mail-flow.md "Durability": a 250 goes out only after the queue
 * file is fdatasync'ed, renamed to its id and its directory fsync'ed.
 * Those waits are slow (milliseconds) and an event-mode smtpd cannot
 * block its loop on them, so a small pool of threads does them:
 *
 *   event loop                   I/O threads
 *   group_commit_submit(w) ----> qfile_writer_finish (fdatasync)
 *                                qfile_writer_commit (rename)
 *                                one thread fsyncs each directory once
 *                                for every rename made before it began
 *   done(ctx, 0/-1, err)  <----- wakes the loop through a pipe
 *
 * Many files in flight at once also let the file system's journal commit
 * their syncs together. The callbacks run in the event loop's thread,
 * from group_commit's fd handler, never in an I/O thread. */
#ifndef POSTERN_GROUP_COMMIT_H
#define POSTERN_GROUP_COMMIT_H

#include "base/buf.h"
#include "base/event.h"
#include "queue/qfile_writer.h"

struct group_commit;

/* Called in the loop's thread when the file is durable (status 0) or
 * failed (-1, err says why; the writer removed nothing yet: the caller
 * frees it, which removes an uncommitted temporary file). */
typedef void (*group_commit_done_fn)(void *ctx, int status, const char *err);

/* Starts `threads` I/O threads and registers the wake-up pipe with loop. */
struct group_commit *group_commit_new(struct event_loop *loop, int threads);
/* Waits for work in flight to finish (callbacks run), stops the threads. */
void group_commit_free(struct group_commit *gc);

/* Hands over a writer whose content has ended; `dir` is the directory it
 * was created in (kept by the caller until done runs). The writer must
 * not be touched until done runs; the caller frees it afterwards. */
void group_commit_submit(struct group_commit *gc, struct qfile_writer *w,
                         const char *dir, group_commit_done_fn done, void *ctx);

/* Jobs submitted and not yet reported. */
size_t group_commit_pending(const struct group_commit *gc);

#endif
