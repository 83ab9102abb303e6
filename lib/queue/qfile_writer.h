/* qfile_writer.h: writes one queue file, streaming its content, and
 * commits it durably.
 *
 * Life of a writer (docs/queue-format.md, "Writing and committing"):
 *
 *   w = qfile_writer_create(dir, err);      temp file DIR/.tXXX, id chosen
 *   qfile_writer_arrival/sender/recipient/attr/dsn_.../encoding(...)
 *   qfile_writer_content_begin(w, err);
 *   qfile_writer_content_append(w, data, len, err);   as data arrives
 *   qfile_writer_content_end(w, err);
 *   (more recipients may follow, e.g. for sendmail -t)
 *   qfile_writer_finish(w, err);            end record, fdatasync(file)
 *   qfile_writer_commit(w, err);            rename to DIR/QUEUEID
 *   fsync_dir(dir, err);                   fsync(dir): may be shared by
 *                                           many commits (group commit)
 *   qfile_writer_free(w);
 *
 * Every input is checked against the format's rules, so a writer never
 * produces a file the reader rejects. Each call returns 0, or -1 with the
 * reason appended to err; after a failed write the writer refuses further
 * work. Freeing a writer that was not committed removes its temporary
 * file, so an aborted SMTP transaction leaves nothing behind. */
#ifndef POSTERN_QFILE_WRITER_H
#define POSTERN_QFILE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "queue/qfile.h"

struct qfile_writer;

/* Creates a temporary file in dir (mode 0600) and chooses the queue id
 * from the clock and its inode. NULL with err set on failure. */
struct qfile_writer *qfile_writer_create(const char *dir, struct buf *err);
/* The queue id (valid for the writer's lifetime). */
const char *qfile_writer_qid(const struct qfile_writer *w);
/* Bytes written so far, content included (for size limits and logs). */
uint64_t qfile_writer_size(const struct qfile_writer *w);
/* Content bytes so far. */
uint64_t qfile_writer_content_size(const struct qfile_writer *w);

/* Envelope. The arrival time defaults to the writer's creation time;
 * sender is required ("" for the null sender); at least one recipient is
 * required; the rest are optional and at most once each. */
int qfile_writer_arrival(struct qfile_writer *w, uint64_t seconds,
                         uint32_t micros, struct buf *err);
int qfile_writer_sender(struct qfile_writer *w, const char *sender,
                        struct buf *err);
/* Adds a recipient; rcpt->orcpt and rcpt->original may be NULL. With
 * rcpt->done set the record is written done ('D'): a requeued message
 * keeps the recipients it has already delivered (lib/queue/recleanup.h). */
int qfile_writer_recipient(struct qfile_writer *w,
                           const struct qfile_recipient *rcpt, struct buf *err);
/* Marks every recipient written so far done, before the file is finished:
 * they will not be delivered (an end-of-data REDIRECT replaces them by
 * recipients added after this; at least one must follow). */
int qfile_writer_recipients_drop(struct qfile_writer *w, struct buf *err);
/* ret is QFILE_RET_FULL or QFILE_RET_HDRS. */
int qfile_writer_dsn_ret(struct qfile_writer *w, char ret, struct buf *err);
int qfile_writer_dsn_envid(struct qfile_writer *w, const char *envid,
                           struct buf *err);
/* flags: QFILE_ENC_* bits. */
int qfile_writer_encoding(struct qfile_writer *w, uint32_t flags,
                          struct buf *err);
/* A named attribute (client_name, helo_name, verp, ...). */
int qfile_writer_attr(struct qfile_writer *w, const char *name,
                      const char *value, struct buf *err);
/* Header fields: QFILE_FLAG_* bits and the delay-warning time. */
int qfile_writer_flags(struct qfile_writer *w, uint32_t flags, struct buf *err);
int qfile_writer_warn_time(struct qfile_writer *w, uint64_t warn_time,
                           struct buf *err);

/* Content: begin once, append any number of times, end once. The body
 * offset is found as the content passes (after the first empty line). */
int qfile_writer_content_begin(struct qfile_writer *w, struct buf *err);
int qfile_writer_content_append(struct qfile_writer *w, const void *data,
                                size_t len, struct buf *err);
int qfile_writer_content_end(struct qfile_writer *w, struct buf *err);

/* Checks the envelope is complete, patches the header and the content
 * length, appends the end record and fdatasyncs the file. A writer is
 * used by one thread at a time, but that thread may be an I/O thread
 * that does only this slow step. */
int qfile_writer_finish(struct qfile_writer *w, struct buf *err);
/* Renames the finished file to DIR/QUEUEID without replacing anything.
 * The rename is durable only after fsync_dir(DIR) (base/fsync_dir.h). */
int qfile_writer_commit(struct qfile_writer *w, struct buf *err);
/* Renames the finished file to path (in the same file system),
 * replacing whatever is there in one atomic step: the requeue step
 * (lib/queue/requeue.h) puts a rewritten message in place of its old queue
 * file this way, so at every instant exactly one of them exists. The
 * file keeps its queue id (qfile_writer_qid) even if path names another;
 * durable after an fsync of path's directory. */
int qfile_writer_commit_replace(struct qfile_writer *w, const char *path,
                                struct buf *err);
/* Closes the file; unless committed, removes the temporary file. */
void qfile_writer_free(struct qfile_writer *w);

#endif
