/* mbox.h: mbox delivery for the `local` agent (mail_spool_directory,
 * mailbox files named in aliases or .forward).
 *
 * A delivery appends one message to the mailbox file:
 *     From SENDER  Mon Nov 23 01:18:56 2026      (Postfix's From_ line)
 *     <leading lines: Return-Path:, Delivered-To:>
 *     <the message, CR LF stored as LF, ">From " quoting>
 *     <a newline if the last line had none, then one blank line>
 * The From_ line is Postfix's: the sender ("MAILER-DAEMON" for the null
 * sender), two spaces, and the time in asctime() form, local time.
 * Quoting is Postfix's, the "mboxo" convention: a '>' is put in front
 * of every line that begins with "From " and nothing else ("> From" and
 * ">From " lines are left alone), so readers that unquote one level
 * (mboxrd readers) get back a line that began ">From " as "From " too:
 * the ambiguity every mboxo writer has. Quoting covers the message's
 * headers and body, not the leading lines.
 *
 * Locking, as Postfix's mailbox_delivery_lock = "fcntl, dotlock" (the
 * Debian default) and Dovecot's mbox_write_locks = "dotlock fcntl": first
 * the dot lock MAILBOX.lock, created with O_EXCL; a lock file older than
 * the stale time is removed; then the mailbox is opened and locked with
 * fcntl() (and/or flock()). Every lock is tried a bounded number of
 * times with a delay in between, never blocking; a mailbox that stays
 * locked defers (4.2.0). The lock is held from open to commit/abort.
 *
 * The mailbox is opened without following symbolic links and must be a
 * regular file with one link (as Postfix's safe_open); a missing one is
 * created (O_EXCL). On any failure the file is truncated back to the
 * size it had before the delivery, so it never holds half a message, and
 * a successful commit is fsynced: STORE_OK means on disk. */
#ifndef POSTERN_MBOX_H
#define POSTERN_MBOX_H

#include <sys/types.h>
#include <time.h>

#include "base/buf.h"
#include "storage/store.h"

#define MBOX_LOCK_DOTLOCK 1
#define MBOX_LOCK_FCNTL 2
#define MBOX_LOCK_FLOCK 4

struct mbox_options {
    const char *path;   /* the mailbox file; required */
    const char *sender; /* envelope sender; NULL or "": MAILER-DAEMON */
    time_t from_time;   /* time on the From_ line; 0: now */
    /* MBOX_LOCK_* bits; 0: MBOX_LOCK_DOTLOCK | MBOX_LOCK_FCNTL. */
    int lock_methods;
    /* When the dot lock cannot be created for lack of permission (a
     * spool directory the recipient may not write), go on with the
     * kernel lock alone, as Postfix does. Other errors still fail. */
    int dotlock_optional;
    int lock_attempts;   /* per lock; 0: 20 (deliver_lock_attempts) */
    int lock_delay_ms;   /* between attempts; 0: 1000 (deliver_lock_delay) */
    int stale_lock_secs; /* dot lock age that is stale; 0: 500
                          * (stale_lock_time) */
    mode_t file_mode;    /* a new mailbox; 0: 0600 */
    int chown_new;       /* give a new mailbox to uid/gid (as root) */
    uid_t uid;
    gid_t gid;
    /* Largest mailbox size in bytes after the delivery (Postfix's
     * mailbox_size_limit); 0: no limit. Exceeding it bounces 5.2.2. */
    long long size_limit;
};

struct mbox_delivery;

/* Locks and opens the mailbox and writes the From_ line and the leading
 * lines (NULL or complete lines; a missing final newline is added).
 * Returns NULL with *status set on failure. The status object must
 * outlive the delivery. */
struct mbox_delivery *mbox_delivery_open(const struct mbox_options *opts,
                                         const char *leading_lines,
                                         struct store_status *status);
/* Appends message bytes in any chunking. 0, or -1 with the status set
 * (the caller then calls commit, which returns the failure, or abort). */
int mbox_delivery_write(struct mbox_delivery *d, const void *data, size_t len);
/* Ends the message (newline, blank line), fsyncs, unlocks, frees d.
 * On failure the mailbox is truncated to its size before the delivery.
 * Returns the result also stored in the status. */
enum store_result mbox_delivery_commit(struct mbox_delivery *d);
/* Truncates the mailbox back, unlocks and frees d. */
void mbox_delivery_abort(struct mbox_delivery *d);

/* Formats the From_ line (with its newline) for sender and time t. */
void mbox_from_line(const char *sender, time_t t, struct buf *out);

#endif
