/* uidlist.h: Dovecot's `dovecot-uidlist` file, its lock and the
 * mailbox UIDVALIDITY allocator, so that Postern and Dovecot give the
 * same messages the same UIDs in the same Maildir.
 *
 * The file (docs/storage.md, "Reading and changing mailboxes"):
 *
 *     3 V1796677241 N5 G78320c03781e176be035000083ecc375
 *     1 :1796677240.M50390P13792.host,S=35,W=40
 *     4 W2481 :1796677240.M57431P13792.host:2,F
 *
 * A header (version 3: fields <key><value> in any order; V is the
 * UIDVALIDITY, N the next UID, G the mailbox GUID in hex, other keys are
 * kept as they are), then one line per message: its UID, optional
 * extension fields (an upper-case letter and a value: W virtual size, S
 * physical size, G message GUID, ...), and after " :" the base file name
 * (the name up to its ":2," info part, which changes with the flags).
 * Version 1 (Courier's courierimapuiddb shape, "1 <uidvalidity>
 * <nextuid>" and "<uid> <name>") is read too. UIDs grow strictly from
 * line to line. Lines are appended under the lock; a last line without
 * its newline is an append in progress and is ignored. Expunged
 * messages stay in the file until it is rewritten, so the next UID is
 * the larger of N and the last UID + 1.
 *
 * Reading is strict and bounded: a malformed file is reported with its
 * line number and the records read before the bad line are kept; it
 * never crashes the reader. Writing replaces the file atomically
 * (`dovecot-uidlist.tmp`, fsync, rename) or appends lines, both under
 * the `dovecot-uidlist.lock` dot lock, which is taken and treated as
 * stale exactly as Dovecot does. */
#ifndef POSTERN_UIDLIST_H
#define POSTERN_UIDLIST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "base/buf.h"

#define UIDLIST_FILE "dovecot-uidlist"
#define UIDLIST_LOCK_FILE "dovecot-uidlist.lock"
/* Largest file read (about four million messages). */
#define UIDLIST_MAX_FILE_SIZE (256L * 1024 * 1024)
/* Longest line accepted (a base name is at most 255 bytes). */
#define UIDLIST_MAX_LINE 4096
/* Dovecot overrides a lock nobody touched for this long (seconds). */
#define UIDLIST_LOCK_STALE_SECS 120

struct uidlist_rec {
    uint32_t uid;
    uint32_t base_off; /* offset of the NUL-terminated base name in strings */
    uint32_t ext_off;  /* offset of "W123 S456" (NUL-terminated), or
                        * UINT32_MAX when the line has no extension fields */
};

struct uidlist {
    unsigned version;     /* 3, or 1 for an old file (rewritten as 3) */
    uint32_t uidvalidity; /* 0: none yet (no file) */
    uint32_t next_uid;    /* max(header N, last UID + 1); at least 1 */
    uint32_t hdr_next_uid;/* N as the header says */
    uint32_t last_read_uid; /* the last UID parsed or added: lines must grow */
    unsigned lines;       /* lines parsed, for "line N" in messages */
    char guid[33];        /* mailbox GUID, 32 hex digits, or "" */
    struct buf hdr_ext;   /* other header fields, verbatim ("X1 Y2") */
    struct buf hdr_line;  /* the header line as last read or written */
    struct uidlist_rec *recs;
    size_t count, cap;
    struct buf strings;   /* base names and extension fields */
    /* Set by the reader when a rewrite is due: an old version, fields
     * that were dropped, a duplicate name. */
    int want_rewrite;
    /* What the last read or write saw of the file, to read only what was
     * appended since (Dovecot never changes written bytes in place). */
    dev_t dev;
    ino_t ino;
    off_t size;           /* bytes parsed (complete lines) */
    off_t file_size;      /* st_size at that time */
    struct timespec mtime;
    /* base name -> record index + 1, open addressing (built on demand) */
    uint32_t *hash;
    size_t hash_cap;
};

void uidlist_init(struct uidlist *ul);
void uidlist_free(struct uidlist *ul);
/* Forgets every record and the header (as for a missing file). */
void uidlist_clear(struct uidlist *ul);

/* Parses a whole file's bytes into ul (replacing its content). Returns
 * 0, or -1 when the text is malformed: err gets "line N: reason" and
 * the records before that line stay in ul. *consumed (may be NULL)
 * receives the bytes of complete lines. */
int uidlist_parse(struct uidlist *ul, const char *data, size_t len,
                  size_t *consumed, struct buf *err);
/* Parses more record lines (what was appended to a file already parsed)
 * into ul. Same results as uidlist_parse. */
int uidlist_parse_more(struct uidlist *ul, const char *data, size_t len,
                       size_t *consumed, struct buf *err);

enum uidlist_read_result {
    UIDLIST_UNCHANGED = 0, /* same file, nothing appended since last time */
    UIDLIST_CHANGED,       /* read (all of it, or what was appended) */
    UIDLIST_MISSING,       /* no file: ul is cleared */
    UIDLIST_MALFORMED,     /* err says where; ul holds the good records */
    UIDLIST_FAILED,        /* I/O error; err says which; ul unchanged */
};
/* Brings ul up to date with the file at path: nothing when it has not
 * changed, only the appended lines when it grew, all of it when it was
 * replaced. */
enum uidlist_read_result uidlist_read(struct uidlist *ul, const char *path,
                                      struct buf *err);

/* Adds a record (uid must be larger than every UID in ul; base is the
 * name without its ":2," part; ext NULL or "W123 S456"). next_uid moves
 * past uid. */
void uidlist_add(struct uidlist *ul, uint32_t uid, const char *base,
                 size_t base_len, const char *ext);
/* The record whose base name is base (len bytes), or NULL. */
const struct uidlist_rec *uidlist_find(struct uidlist *ul, const char *base,
                                       size_t len);
/* The record with this UID (binary search), or NULL. */
const struct uidlist_rec *uidlist_find_uid(const struct uidlist *ul,
                                           uint32_t uid);
static inline const char *uidlist_rec_base(const struct uidlist *ul,
                                           const struct uidlist_rec *rec)
{
    return ul->strings.data + rec->base_off;
}
/* The value of extension field key ('W', 'S', ...) of rec, or NULL;
 * *len receives its length. */
const char *uidlist_rec_ext(const struct uidlist *ul,
                            const struct uidlist_rec *rec, char key,
                            size_t *len);
/* Keeps only the records for which keep(ctx, rec) returns nonzero. */
void uidlist_filter(struct uidlist *ul,
                    int (*keep)(void *ctx, const struct uidlist *ul,
                                const struct uidlist_rec *rec),
                    void *ctx);

/* Appends the file's text (header and every record) to out. A missing
 * uidvalidity or GUID must be set by the caller first. */
void uidlist_format(const struct uidlist *ul, struct buf *out);
/* Replaces the file at path atomically: writes path.tmp, fsyncs it,
 * renames it over path and fsyncs the directory. Call with the lock
 * held. 0, or -1 with err set ("write /m/dovecot-uidlist.tmp: ..."). */
int uidlist_write(struct uidlist *ul, const char *path, struct buf *err);
/* Appends the records from index first on to the file (one write, then
 * fdatasync), as Dovecot adds new messages. Falls back to uidlist_write
 * when the file is not the one last read, ends in a partial line or
 * needs a rewrite anyway. Call with the lock held, after uidlist_read. */
int uidlist_append(struct uidlist *ul, const char *path, size_t first,
                   struct buf *err);

/* Fills guid with 32 random hex digits (a new mailbox GUID). */
void uidlist_new_guid(char guid[33]);

/* ---- the dot lock ---- */

struct uidlist_lock {
    char *path; /* NULL when not held */
    dev_t dev;
    ino_t ino;
};

/* Takes DIR/dovecot-uidlist.lock: created with O_EXCL holding
 * "pid:hostname", as Dovecot does. An existing lock is overridden when
 * it is stale by Dovecot's rules: older than 2 s and naming a process
 * of this host that no longer exists, or neither it nor the uidlist
 * changed for UIDLIST_LOCK_STALE_SECS. Tries for up to timeout_ms
 * (0: once; the wait sleeps, so an event loop passes 0 and retries from
 * a timer). Returns 1 when taken, 0 when busy, -1 on error (err set). */
int uidlist_lock_take(const char *dir, int timeout_ms,
                      struct uidlist_lock *lock, struct buf *err);
/* 1 when an existing lock in dir may be overridden at time now by the
 * rules above (for tests and for a caller that reports who holds it). */
int uidlist_lock_is_stale(const char *dir, time_t now);
/* Removes the lock if it is still ours (the same inode: a stale-lock
 * takeover by someone else is not undone). Safe on a lock not held. */
void uidlist_lock_release(struct uidlist_lock *lock);
/* Refreshes the lock's mtime during a long operation. */
void uidlist_lock_touch(const struct uidlist_lock *lock);

/* The next UIDVALIDITY for a new mailbox under the Maildir root, from
 * the counter Dovecot keeps there (`dovecot-uidvalidity` and the empty
 * file `dovecot-uidvalidity.<hex>`, renamed to the next value to take
 * one), so Postern and Dovecot never hand out the same value twice.
 * Without the files the current time starts the counter. Never fails:
 * when the files cannot be used the current time (made unique within the
 * process) is returned, as Dovecot does. */
uint32_t uidlist_uidvalidity_next(const char *root);

#endif
