/* mailbox.h: one Maildir folder opened as a view for an IMAP (or POP3)
 * session, compatible with Dovecot's files in the same Maildir.
 *
 * The view is an array of messages by sequence number (1..count), each
 * with its UID (from dovecot-uidlist), flags and keywords (from the
 * file name's ":2," info and dovecot-keywords), and sizes and internal
 * date found from the name or the file when first asked. It changes
 * only in mailbox_sync(), which the caller runs when IMAP allows it to
 * announce changes; between syncs sequence numbers stay put.
 *
 * mailbox_sync() scans new/ and cur/ (only when their mtimes say they
 * changed, so a sync of a quiet 10,000-message folder is two stat
 * calls), moves new/ files into cur/ as Dovecot does, gives files the
 * uidlist does not know the next UIDs under the uidlist lock, and
 * reports what others changed: new messages (the count grows), flag
 * changes and expunges. Setting flags renames the file; expunging
 * unlinks it; a file renamed by someone else meanwhile is found again
 * by its base name. Saving (mailbox_save_*) writes in tmp/, fsyncs,
 * and moves the files into cur/ under the uidlist lock, where they get
 * their UIDs at once (APPENDUID, COPYUID).
 *
 * Nothing here waits for a network peer. The uidlist lock is tried for
 * at most lock_timeout_ms (0: once); when it is busy a sync shows the
 * new files later (mailbox_needs_sync() says so) and a save commit
 * returns MAILBOX_BUSY and may be retried. Every failure comes back as
 * a result with a reason in mailbox_error().
 *
 * \Recent: a message is \Recent in the view that gave it its UID (its
 * sync found it first, or its own save stored it), and in no other.
 * So every new message is \Recent in at most one session, with no state
 * kept on disk; a message that Dovecot or another program numbered
 * first is \Recent nowhere. See docs/storage.md.
 *
 * The index (lib/storage/mail_index.h, docs/mail-index.md) plugs in
 * per message through struct mailbox_msg's modseq and cache fields,
 * which this module carries but does not interpret. */
#ifndef POSTERN_MAILBOX_H
#define POSTERN_MAILBOX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "storage/maildir_flags.h"

/* System flags: the same bits as IMAP_FLAG_* (lib/imap/imap_flags.h). */
#define MAILBOX_FLAG_ANSWERED MAILDIR_FLAG_ANSWERED
#define MAILBOX_FLAG_FLAGGED MAILDIR_FLAG_FLAGGED
#define MAILBOX_FLAG_DELETED MAILDIR_FLAG_DELETED
#define MAILBOX_FLAG_SEEN MAILDIR_FLAG_SEEN
#define MAILBOX_FLAG_DRAFT MAILDIR_FLAG_DRAFT
#define MAILBOX_FLAG_RECENT 0x20
/* State bits of a record, not flags a client sees. */
#define MAILBOX_MSG_IN_NEW 0x100   /* the file is in new/, not cur/ */
#define MAILBOX_MSG_EXPUNGED 0x200 /* gone; removed at the next sync that
                                    * may report expunges */
#define MAILBOX_MSG_SCANNED 0x400  /* scratch bit of a sync */

#define MAILBOX_SIZE_UNKNOWN UINT32_MAX

/* One message: 48 bytes, plus its info suffix in a shared arena (the
 * base name is the uidlist's). */
struct mailbox_msg {
    uint32_t uid;
    uint16_t flags;     /* MAILBOX_FLAG_* and MAILBOX_MSG_* */
    uint16_t info_len;  /* the file name's ":2,..." suffix (0: none) */
    uint32_t info_off;  /* ... in the view's arena */
    uint32_t keywords;  /* bit i: keyword letter 'a'+i (mailbox_keyword_name) */
    uint32_t psize;     /* file size (,S= or stat), or MAILBOX_SIZE_UNKNOWN */
    uint32_t vsize;     /* RFC822.SIZE (,W= or counted), or ..._UNKNOWN */
    int64_t internal_date; /* the file's mtime; 0 until asked */
    /* For the index (mail_index.h), which owns their meaning: the
     * message's MODSEQ and its cached ENVELOPE/BODYSTRUCTURE. This
     * module keeps them with the message and never reads them. */
    uint64_t modseq;
    void *cache;
};

enum mailbox_result {
    MAILBOX_OK = 0,
    MAILBOX_EXPUNGED, /* the message's file is gone ([EXPUNGEISSUED]) */
    MAILBOX_BUSY,     /* the uidlist lock is held elsewhere ([INUSE]) */
    MAILBOX_NOSPACE,  /* disk or file system quota full ([OVERQUOTA]) */
    MAILBOX_LIMIT,    /* all 26 keyword letters used ([LIMIT]) */
    MAILBOX_NOTFOUND, /* no such folder ([NONEXISTENT]) */
    MAILBOX_FAILED,   /* anything else; mailbox_error() says what */
};

struct mailbox_options {
    const char *root;   /* the Maildir root (INBOX) */
    const char *folder; /* on-disk Maildir++ name without the dot
                         * ("Sent", "Lists.postern"); NULL/"": INBOX */
    int readonly;       /* EXAMINE: no renames, no new/ -> cur/ moves */
    int create;         /* create the Maildir when it is missing */
    int lock_timeout_ms;/* how long to try the uidlist lock; 0: once */
    const char *hostname; /* for new file names; NULL: gethostname() */
};

struct mailbox;

/* Opens a folder (nothing is scanned yet: cheap enough for APPEND or
 * COPY into a folder not selected). Returns MAILBOX_OK and *out, or
 * MAILBOX_NOTFOUND / MAILBOX_FAILED with err set. */
enum mailbox_result mailbox_open(const struct mailbox_options *opts,
                                 struct mailbox **out, struct buf *err);
void mailbox_close(struct mailbox *mb);

/* The reason of the last failure, and the last sync's warning (a
 * malformed uidlist that was rebuilt, a lock held too long), or "". */
const char *mailbox_error(const struct mailbox *mb);
const char *mailbox_warning(const struct mailbox *mb);
/* The folder's directory ("/m", "/m/.Sent"). */
const char *mailbox_path(const struct mailbox *mb);

/* What the caller is told during a sync. seq is the number the client
 * knows the message by at that moment (expunges are told in ascending
 * order, each already counting the ones told before). Either may be
 * NULL. */
struct mailbox_sync_events {
    void *ctx;
    void (*expunged)(void *ctx, uint32_t seq, uint32_t uid);
    void (*flags_changed)(void *ctx, uint32_t seq,
                          const struct mailbox_msg *msg);
};
/* Keep expunged messages in the view (marked MAILBOX_MSG_EXPUNGED): a
 * FETCH, STORE or SEARCH may not be told of expunges. */
#define MAILBOX_SYNC_NO_EXPUNGE 1
/* Scan even when the directories' mtimes did not change. */
#define MAILBOX_SYNC_FULL 2
enum mailbox_result mailbox_sync(struct mailbox *mb, unsigned flags,
                                 const struct mailbox_sync_events *events);
/* 1 when a sync should run again soon although nothing was signalled
 * (a change within the file system's timestamp granularity, new files
 * that waited for the lock, expunges held back by NO_EXPUNGE). */
int mailbox_needs_sync(const struct mailbox *mb);

uint32_t mailbox_count(const struct mailbox *mb);
uint32_t mailbox_recent_count(const struct mailbox *mb);
uint32_t mailbox_uidvalidity(const struct mailbox *mb);
uint32_t mailbox_uidnext(const struct mailbox *mb);
/* The message with sequence number seq (1..count), or NULL. */
const struct mailbox_msg *mailbox_msg(const struct mailbox *mb, uint32_t seq);
/* The sequence number of uid, or 0 when it is not in the view. */
uint32_t mailbox_seq_of_uid(const struct mailbox *mb, uint32_t uid);
/* The index's fields of a message (see struct mailbox_msg). */
void mailbox_msg_set_index(struct mailbox *mb, uint32_t seq, uint64_t modseq,
                           void *cache);
/* Appends the message's current file name (no directory) to out. */
void mailbox_msg_file_name(const struct mailbox *mb, uint32_t seq,
                           struct buf *out);

/* Keyword letters: the name of letter index (0..25) or NULL. */
const char *mailbox_keyword_name(const struct mailbox *mb, int index);
/* Maps names[0..count) to a letter mask; with create, names without a
 * letter get one (dovecot-keywords is rewritten under the uidlist
 * lock). Unknown names without create are left out of the mask.
 * MAILBOX_LIMIT when the 26 letters are used up. */
enum mailbox_result mailbox_keywords_lookup(struct mailbox *mb,
                                            const char *const *names,
                                            const size_t *lens, size_t count,
                                            int create, uint32_t *mask);

/* Gives message seq these system flags (MAILBOX_FLAG_*, \Recent
 * ignored) and keyword letters, renaming its file. */
enum mailbox_result mailbox_set_flags(struct mailbox *mb, uint32_t seq,
                                      unsigned flags, uint32_t keywords);
/* Unlinks the message's file; it leaves the view at the next sync. */
enum mailbox_result mailbox_expunge(struct mailbox *mb, uint32_t seq);

/* The internal date (file mtime), physical size and RFC822.SIZE. */
enum mailbox_result mailbox_msg_internal_date(struct mailbox *mb,
                                              uint32_t seq, time_t *date);
enum mailbox_result mailbox_msg_psize(struct mailbox *mb, uint32_t seq,
                                      uint32_t *size);
enum mailbox_result mailbox_msg_vsize(struct mailbox *mb, uint32_t seq,
                                      uint32_t *size);
/* Opens the message's file read-only (the caller closes *fd). */
enum mailbox_result mailbox_msg_open(struct mailbox *mb, uint32_t seq,
                                     int *fd);
/* Maps the message's bytes (size 0: data is ""). */
struct mailbox_map {
    const char *data;
    size_t size;
    int mapped;
};
enum mailbox_result mailbox_msg_map(struct mailbox *mb, uint32_t seq,
                                    struct mailbox_map *map);
void mailbox_map_release(struct mailbox_map *map);

/* ---- saving: APPEND, MULTIAPPEND, COPY (mailbox_save.c) ---- */

struct mailbox_save;

/* Starts a batch of messages to store in dst. */
struct mailbox_save *mailbox_save_begin(struct mailbox *dst);
/* One appended message: start, write its bytes (CR LF is stored as LF,
 * as Dovecot does), finish with its flags, keyword letters of dst and
 * internal date (0: now). */
enum mailbox_result mailbox_save_append_start(struct mailbox_save *save);
enum mailbox_result mailbox_save_append_write(struct mailbox_save *save,
                                              const void *data, size_t len);
enum mailbox_result mailbox_save_append_finish(struct mailbox_save *save,
                                               unsigned flags,
                                               uint32_t keywords,
                                               time_t internal_date);
/* Copies message seq of src (a hard link when the file system allows,
 * else a copy), with its flags and keywords (by name) and its internal
 * date. */
enum mailbox_result mailbox_save_copy(struct mailbox_save *save,
                                      struct mailbox *src, uint32_t seq);
/* Moves every message into dst's cur/ under the uidlist lock and gives
 * them UIDs: uids[i] (room for mailbox_save_count() entries) receives
 * the UID of the i-th message saved. On MAILBOX_OK the batch is freed;
 * on MAILBOX_BUSY it is kept and commit may be called again; on other
 * results it is freed and nothing is left behind. */
size_t mailbox_save_count(const struct mailbox_save *save);
enum mailbox_result mailbox_save_commit(struct mailbox_save *save,
                                        uint32_t *uids);
/* Drops the batch and its files. */
void mailbox_save_abort(struct mailbox_save *save);

#endif
