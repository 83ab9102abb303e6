/* mail_index.h: the per-mailbox index that lets SELECT and FETCH of
 * flags, sizes, ENVELOPE, BODYSTRUCTURE and BODY[section] of a large
 * mailbox open no message file. It is a cache of the Maildir, keyed by
 * UID: whoever owns the Maildir view (uidlist, keywords, file names)
 * tells it what exists; it can always be rebuilt from the Maildir.
 * docs/mail-index.md has the format, the crash rules and the figures.
 *
 * Per message (struct mail_index_record in mail_index_format.h): UID,
 * system flags (IMAP_FLAG_* bits), keywords (bit i = index i of
 * dovecot-keywords), MODSEQ, internal date, RFC822.SIZE, physical size,
 * the Maildir base name, and a reference to the cached renderings.
 * Header: UIDVALIDITY, next UID, HIGHESTMODSEQ, first recent UID, and
 * two sync stamps the Maildir view sets to tell later whether the
 * Maildir changed since it last synced the index.
 *
 * Reading takes no lock: the base file is replaced only by rename and
 * the log only grows by whole checksummed transactions, so a reader sees
 * each transaction entirely or not at all. Writers serialize on an OFD
 * lock of postern.index.lock (per open file, so two handles in one
 * process exclude each other too). When the caller also holds the
 * dovecot-uidlist lock, it takes that one first.
 *
 * Pointers returned (records, names, cached strings) stay valid until
 * the next refresh, begin, commit or close of the handle. Single
 * threaded per handle. */
#ifndef POSTERN_MAIL_INDEX_H
#define POSTERN_MAIL_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "storage/mail_index_cache.h"
#include "storage/mail_index_format.h"
#include "storage/mail_index_state.h"

enum mail_index_result {
    MAIL_INDEX_OK = 0,
    MAIL_INDEX_MISSING, /* no index yet: build one (mail_index_create) */
    MAIL_INDEX_CORRUPT, /* torn, damaged or inconsistent: rebuild it */
    MAIL_INDEX_STALE,   /* another UIDVALIDITY: rebuild it */
    MAIL_INDEX_ERROR,   /* a system error (EACCES, EIO...): err says */
};

struct mail_index;
struct mail_index_txn;

/* A handle on the index of the mailbox directory dir (the Maildir root
 * or a .Folder directory). Opens nothing yet. */
struct mail_index *mail_index_alloc(const char *dir);
void mail_index_free(struct mail_index *idx);

/* fdatasync the log after each commit and the files of a compaction
 * (default on). Tests and a bulk import may turn it off. */
void mail_index_set_fsync(struct mail_index *idx, int enabled);

/* Opens and checks the index. expected_uidvalidity 0 accepts any. Any
 * result but MAIL_INDEX_OK leaves the handle closed, err saying why
 * (the caller logs it and rebuilds with mail_index_create). */
enum mail_index_result mail_index_open(struct mail_index *idx,
                                       uint32_t expected_uidvalidity,
                                       struct buf *err);

/* Replaces whatever index there is with an empty one for uidvalidity
 * and next_uid, under the lock, and opens it. Its HIGHESTMODSEQ is
 * above any modseq the mailbox can have shown before (see
 * mail_index_modseq_floor). 0, or -1 with err. */
int mail_index_create(struct mail_index *idx, uint32_t uidvalidity,
                      uint32_t next_uid, struct buf *err);

/* Reads what other processes committed since the last call (or reopens
 * after their compaction), telling change about each message changed.
 * change may be NULL. A result but MAIL_INDEX_OK closes the handle. */
enum mail_index_result mail_index_refresh(struct mail_index *idx,
                                          mail_index_change_fn *change,
                                          void *ctx, struct buf *err);

/* The header as of the last open/refresh/commit. */
const struct mail_index_header *mail_index_header(const struct mail_index *idx);

/* Messages in UID order: their number, the one at position seq0 (0 for
 * sequence number 1), and the one with a UID (NULL when there is none
 * or it is expunged). */
uint32_t mail_index_count(struct mail_index *idx);
const struct mail_index_record *mail_index_nth(struct mail_index *idx,
                                               uint32_t seq0);
const struct mail_index_record *mail_index_lookup(struct mail_index *idx,
                                                  uint32_t uid);

/* A record's Maildir base name (not NUL-terminated; rec->name_len). */
const char *mail_index_name(const struct mail_index *idx,
                            const struct mail_index_record *rec);

/* The cached renderings of a record: 1 and cached filled, or 0 when
 * nothing is cached or the entry failed its check (compute them with
 * mail_index_parse_message and store them with mail_index_txn_cache). */
int mail_index_cached(struct mail_index *idx,
                      const struct mail_index_record *rec,
                      struct mail_index_cached *cached);

/* The lowest HIGHESTMODSEQ a new or rebuilt index may start from: the
 * current time in microseconds. Modseqs rise by one per transaction, so
 * no index could have reached this value (docs/mail-index.md). */
uint64_t mail_index_modseq_floor(void);

/* A write transaction: takes the lock, refreshes, cuts off a torn log
 * tail, and repairs what needs a rewrite (an obsolete log, a missing or
 * foreign cache file). NULL with err when the index cannot be used
 * (corrupt, missing, stale: the caller rebuilds). */
struct mail_index_txn *mail_index_begin(struct mail_index *idx,
                                        struct buf *err);

/* A new message; its UID must be above every UID the index has seen.
 * cached may be NULL. */
struct mail_index_new {
    uint32_t uid;
    uint8_t flags;       /* IMAP_FLAG_* system flags */
    uint32_t keywords;
    int64_t internal_date;
    uint64_t rfc822_size;
    uint64_t physical_size;
    const char *name;    /* Maildir base name, 1..MAIL_INDEX_NAME_MAX */
    size_t name_len;
};

/* Each returns 0, or -1 when the operation does not fit the index (a
 * UID not above the last, a message not there or already expunged in
 * this transaction, bad flag bits, a name too long): nothing is added.
 * FLAGS, EXPUNGE and CACHE name messages that existed before the
 * transaction. */
int mail_index_txn_append(struct mail_index_txn *txn,
                          const struct mail_index_new *msg,
                          const struct mail_index_cached *cached);
int mail_index_txn_flags(struct mail_index_txn *txn, uint32_t uid,
                         uint8_t flags, uint32_t keywords);
int mail_index_txn_expunge(struct mail_index_txn *txn, uint32_t uid);
int mail_index_txn_cache(struct mail_index_txn *txn, uint32_t uid,
                         const struct mail_index_cached *cached);
int mail_index_txn_next_uid(struct mail_index_txn *txn, uint32_t next_uid);
int mail_index_txn_first_recent(struct mail_index_txn *txn, uint32_t uid);
/* Sets the header's sync stamps (always 0). */
int mail_index_txn_sync_stamp(struct mail_index_txn *txn, uint64_t stamp0,
                              uint64_t stamp1);

/* Writes the transaction as one log entry (its cache entries first),
 * applies it, compacts when the log has grown, and unlocks. *modseq
 * (may be NULL) gets the transaction's modseq (0 when it changed no
 * message). Frees txn. 0, or -1 with err (nothing applied; the index
 * is closed when its files can no longer be trusted). */
int mail_index_commit(struct mail_index_txn *txn, uint64_t *modseq,
                      struct buf *err);
/* Drops the transaction and unlocks. */
void mail_index_rollback(struct mail_index_txn *txn);

/* Rewrites the base with the log folded in, a new empty log and, when
 * cache is set or the cache file is mostly garbage, a compacted cache.
 * Takes the lock itself. 0 or -1 with err. */
int mail_index_compact(struct mail_index *idx, int cache, struct buf *err);

#endif
