/* defer_log.h: the per-message recipient status logs kept beside the
 * queue, as Postfix keeps them.
 *
 *   $queue_directory/defer/ID    the last temporary failure of each
 *                                recipient of message ID (qmgr removes it
 *                                when ID enters active/ for a new attempt
 *                                and appends one entry per recipient that
 *                                is deferred again)
 *   $queue_directory/bounce/ID   permanent failures (and other reports)
 *                                waiting to be sent to the sender
 *
 * A log is text: one entry per recipient, each a block of `name=value`
 * lines ended by an empty line (docs/queue-format.md, "Recipient status
 * logs"). Writers append whole entries with one write(2) on an O_APPEND
 * descriptor, so concurrent appenders never interleave. The reader trusts
 * nothing: the file size, the entry count and every line are bounded, an
 * unknown or repeated field, a missing field, a bad value or a torn last
 * entry makes the log corrupt (fail-closed). Values are text without
 * control characters; the writer makes free text (reason, diag_text)
 * printable and bounded instead of refusing it, because it comes from
 * remote servers. */
#ifndef POSTERN_DEFER_LOG_H
#define POSTERN_DEFER_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "message/dsn.h"
#include "queue/queue_dirs.h"

/* Bounds the reader enforces (and the writer respects). */
#define DEFER_LOG_MAX_SIZE (16 * 1024 * 1024) /* bytes in one log file */
#define DEFER_LOG_MAX_ENTRIES 100000
#define DEFER_LOG_MAX_TEXT 4096 /* bytes in one value */

enum defer_log_result {
    DEFER_LOG_OK = 0,
    DEFER_LOG_NOTFOUND, /* no log for this message: not an error */
    DEFER_LOG_CORRUPT,  /* the log breaks the format; err says where */
    DEFER_LOG_SYSERR,   /* a system call failed: try later */
};

/* One recipient's status. The writer takes these as given; the reader
 * returns heap copies (free the whole log with defer_log_free). */
struct defer_log_entry {
    char *recipient; /* the address delivery was tried for */
    char *orig_rcpt; /* before rewriting (orig_to=); "" when the same */
    uint64_t offset; /* file offset of its recipient record in the queue
                        file (check with qfile_envelope_recipient_at) */
    struct dsn dsn;  /* status X.Y.Z, action, reason, remote MTA, diag */
    time_t log_time; /* when the status was recorded */
};

struct defer_log {
    struct defer_log_entry *entries; /* in file order */
    size_t count;
};

/* Appends count entries to $queue_directory/LOG/QID (LOG is QUEUE_DEFER
 * or QUEUE_BOUNCE), creating the file with mode 0600, in one write(2).
 * With sync, fdatasyncs the file (do so for bounce/: a lost bounce entry
 * is a lost notice). Returns 0, or -1 with err set: invalid qid or log,
 * an entry that cannot be encoded (see defer_log_encode), an I/O error. */
int defer_log_append(const char *queue_directory, enum queue_name log,
                     const char *qid, const struct defer_log_entry *entries,
                     size_t count, int sync, struct buf *err);

/* Appends one encoded entry to out: 0, or -1 with err set when the
 * recipient, orig_rcpt, status, mta_type, mta_name or diag_type is not
 * valid text (empty recipient, control characters, over
 * DEFER_LOG_MAX_TEXT) or the status is not a valid X.Y.Z. Free text in
 * reason and diag_text is made printable (each control character becomes
 * '?') and cut at DEFER_LOG_MAX_TEXT bytes on a character boundary. */
int defer_log_encode(const struct defer_log_entry *entry, struct buf *out,
                     struct buf *err);

/* Reads $queue_directory/LOG/QID into out (initialised here; free with
 * defer_log_free after any result). DEFER_LOG_NOTFOUND when the file
 * does not exist. On DEFER_LOG_CORRUPT, out holds the entries before the
 * damage, so a caller may show them, saying the log is damaged. */
enum defer_log_result defer_log_read(const char *queue_directory,
                                     enum queue_name log, const char *qid,
                                     struct defer_log *out, struct buf *err);

/* Parses a log held in memory (the file's whole contents); as
 * defer_log_read, never DEFER_LOG_NOTFOUND or DEFER_LOG_SYSERR. */
enum defer_log_result defer_log_parse(const char *data, size_t len,
                                      struct defer_log *out, struct buf *err);

void defer_log_free(struct defer_log *log);

/* The last entry for the recipient record at offset, or NULL. */
const struct defer_log_entry *defer_log_find(const struct defer_log *log,
                                             uint64_t offset);

/* Removes $queue_directory/LOG/QID: 0 (also when there was none), or -1
 * with err set. */
int defer_log_remove(const char *queue_directory, enum queue_name log,
                     const char *qid, struct buf *err);

#endif
