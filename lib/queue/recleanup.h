/* recleanup.h: a queued message through the intake's address rewriting
 * once more, with the tables of today: what Postfix's pickup and cleanup
 * do to a message that `postsuper -r` put in maildrop/. lib/queue/requeue.h
 * runs it (in qmgr) and makes the result replace the old queue file.
 *
 * What the new queue file gets (docs/postsuper.md, "Requeue"):
 *   - the arrival time, header flags, delay-warning time, DSN RET and
 *     ENVID and the encoding, unchanged (the message keeps its age, so
 *     maximal_queue_lifetime still counts from its arrival);
 *   - the sender again through rewrite_envelope_sender (canonical form,
 *     sender_canonical_maps, canonical_maps); there is no older form of
 *     it to start from, so, as in Postfix, the maps apply to the sender
 *     as it was queued;
 *   - each recipient still to deliver derived again from its original
 *     address (the RCPT TO address the queue file keeps as `original`,
 *     or the address itself when there is none) through
 *     rewrite_envelope_recipient: canonical form,
 *     recipient_canonical_maps, canonical_maps and virtual_alias_maps,
 *     so a changed alias or canonical table takes effect. Records with
 *     one original are expanded once, keeping the first one's DSN ORCPT
 *     and NOTIFY; a result already delivered for that original is not
 *     added again, and duplicates are dropped as smtpd drops them;
 *   - recipients already delivered, copied as done records, so neither
 *     this nor a later requeue delivers them twice;
 *   - the attributes, except hold_reason (the message is no longer
 *     held), and orig_id set to the old queue id (Postfix's pickup logs
 *     the same name);
 *   - the content with the address header fields rewritten again
 *     (lib/message/header_rewrite.h) in the context the message arrived in (the
 *     rewrite_context attribute smtpd writes: "local" or "remote";
 *     files without it count as local when they name no client, as
 *     remote otherwise), everything else copied byte for byte.
 * A table error is a temporary failure: nothing is written, the caller
 * tries again later. */
#ifndef POSTERN_RECLEANUP_H
#define POSTERN_RECLEANUP_H

#include <stddef.h>

#include "base/buf.h"
#include "queue/qfile.h"
#include "queue/qfile_reader.h"
#include "queue/qfile_writer.h"

struct rewrite;

enum recleanup_result {
    RECLEANUP_OK = 0,
    RECLEANUP_DEFER, /* a table error or a rewriting limit: try later */
    RECLEANUP_ERROR, /* the old file could not be read or the new one
                        written (I/O, or a record the writer refuses) */
};

/* The recipients of the new file, in the old file's order. */
struct recleanup_rcpts {
    struct qfile_recipient *items; /* strings owned here */
    size_t count, cap;
    size_t kept_done; /* delivered recipients copied as done */
    size_t skipped;   /* results already delivered for their original */
};

void recleanup_rcpts_init(struct recleanup_rcpts *out);
void recleanup_rcpts_free(struct recleanup_rcpts *out);

/* Derives the new recipient list of env (see above) into out
 * (initialised by the caller). RECLEANUP_OK, or RECLEANUP_DEFER with the
 * reason in why (out then holds nothing useful). */
enum recleanup_result recleanup_recipients(struct rewrite *rw,
                                           const struct qfile_envelope *env,
                                           struct recleanup_rcpts *out,
                                           struct buf *why);

/* The rewriting context of a queued message (REWRITE_LOCAL or
 * REWRITE_REMOTE), from its attributes as described above. */
int recleanup_context(const struct qfile_envelope *env);

/* What recleanup_message saw, for its log lines. */
struct recleanup_info {
    struct buf sender;     /* the new envelope sender */
    struct buf message_id; /* Message-ID: value, unfolded; "" when none */
    size_t recipients;     /* records written (done ones included) */
};

void recleanup_info_init(struct recleanup_info *info);
void recleanup_info_free(struct recleanup_info *info);

/* Writes the whole new message into w, a writer fresh from
 * qfile_writer_create: envelope, attributes (orig_id = old_qid) and
 * content, read from r (whose envelope is env). Does not finish or
 * commit w. RECLEANUP_OK, RECLEANUP_DEFER with the reason in err, or
 * RECLEANUP_ERROR with err set; after a failure free w unfinished. */
enum recleanup_result
recleanup_message(struct rewrite *rw, struct qfile_reader *r,
                  const struct qfile_envelope *env, const char *old_qid,
                  struct qfile_writer *w, struct recleanup_info *info,
                  struct buf *err);

#endif
