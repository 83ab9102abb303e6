/* agent_mailbox.h: writes one copy of the message being delivered into a
 * Maildir or an mbox file: the part of mailbox delivery that `virtual`
 * and `local` share. The callers keep what differs between them: which
 * limits and lock settings apply, whose rights the write runs with, and
 * how the outcome is reported. */
#ifndef POSTERN_AGENT_MAILBOX_H
#define POSTERN_AGENT_MAILBOX_H

#include <sys/types.h>

#include "delivery/agent.h"
#include "base/buf.h"
#include "storage/store.h"

struct agent_mailbox {
    const char *path;      /* a Maildir when it ends in '/', else an mbox */
    const char *recipient; /* for the Delivered-To: line */
    long long size_limit;  /* bytes; 0 = none */
    const char *lock_param; /* the *_lock parameter naming mbox locks */
    int dotlock_optional;   /* deliver with kernel locks alone when the
                               directory refuses a dot-lock (the spool) */
    int chown_new;          /* create a new mbox as root, give it to uid/gid */
    uid_t uid;
    gid_t gid;
};

/* Writes the copy (Return-Path:, Delivered-To:, then the content) with
 * the process's current effective ids. st receives the store outcome.
 * Returns AGENT_COPY_DONE, or AGENT_COPY_QUEUE_ERROR when the queue file
 * could not be read (err says why; nothing was left in the mailbox). */
enum agent_copy_result agent_mailbox_write(struct agent_delivery *d, const struct agent_mailbox *m,
                        struct store_status *st, struct buf *err);

/* Reports the outcome of recipient i's copy (st), as the caller would
 * have right after agent_mailbox_write. */
typedef void (*agent_mailbox_report_fn)(struct agent_delivery *d, size_t i,
                                        const struct store_status *st);

/* As agent_mailbox_write, but a Maildir copy for a request with several
 * recipients stops before its syncs and waits for agent_mailbox_flush,
 * which syncs every waiting copy together (lib/base/fsync_group.h) and then
 * calls report for each. Returns AGENT_COPY_WAITING when the copy waits
 * (report comes later; st is not used), else what agent_mailbox_write
 * returns (st has
 * the outcome now). m->uid and m->gid are the ids the copy was written
 * with; flush switches to them to finish it. */
enum agent_copy_result agent_mailbox_write_batched(struct agent_delivery *d, size_t i,
                                const struct agent_mailbox *m,
                                agent_mailbox_report_fn report,
                                struct store_status *st, struct buf *err);
/* Finishes the waiting copies of d (nothing when there are none). The
 * agent calls it after the last recipient of a request. */
void agent_mailbox_flush(struct agent_delivery *d);

#endif
