/* qfile_reader.h: the one reader of queue files.
 *
 * Nothing in the file is trusted. Opening checks the magic, the header
 * and the end record, so a truncated file fails at once; the record
 * iterator checks every length against the end record's offset and its
 * type's bound before it reads a byte; qfile_read_envelope() checks every
 * rule of docs/queue-format.md. Memory stays bounded by QFILE_MAX_RECORD
 * plus the envelope itself: the content is never loaded, it is streamed
 * in chunks of the caller's size or handed to the kernel by offset.
 *
 * The reader keeps the bytes it has read (one read covers a whole small
 * message). Change the file through the reader (qfile_reader_mark_done,
 * qfile_reader_patch_*) so later reads see the change; after a change
 * made any other way, call qfile_reader_rewind before reading again.
 *
 * Each call returns QFILE_OK, QFILE_CORRUPT (err names the offset and the
 * broken rule: move the file to corrupt/), or QFILE_SYSERR (an I/O error
 * or a vanished file: try again later). */
#ifndef POSTERN_QFILE_READER_H
#define POSTERN_QFILE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "queue/qfile.h"

struct qfile_reader;

/* Opens path read-only, or read-write for done marking and patches
 * (writable != 0), and validates it. The reader owns the descriptor. */
enum qfile_result qfile_reader_open(const char *path, int writable,
                                    struct qfile_reader **out, struct buf *err);
/* The same over a descriptor the caller keeps owning. */
enum qfile_result qfile_reader_fdopen(int fd, struct qfile_reader **out,
                                      struct buf *err);
void qfile_reader_close(struct qfile_reader *r);
int qfile_reader_fd(const struct qfile_reader *r);
/* The validated header (sizes, offsets, flags, counts). */
const struct qfile_header *qfile_reader_header(const struct qfile_reader *r);

/* One record as the iterator returns it. payload is valid until the next
 * call; for the content record it is NULL and len is the message size
 * (stream it with qfile_content_read). */
struct qfile_record {
    char type;       /* QFILE_REC_* */
    uint64_t offset; /* file offset of the record's type byte */
    const unsigned char *payload;
    size_t len;
};

/* Returns the next record; the end record is returned last, and again on
 * every later call. Checks framing only (lengths, known types, content at
 * the header's offset); qfile_read_envelope checks the payloads. */
enum qfile_result qfile_read_record(struct qfile_reader *r,
                                    struct qfile_record *rec, struct buf *err);
/* Restarts the iterator at the first record after the header and drops
 * cached bytes, so changes made since by any means are seen. */
void qfile_reader_rewind(struct qfile_reader *r);

struct qfile_attr {
    char *name;
    char *value;
};

/* The decoded envelope. Strings are NUL-terminated heap copies. */
struct qfile_envelope {
    struct qfile_header header;
    uint64_t arrival_sec;
    uint32_t arrival_usec;
    char *sender;      /* "" for the null sender */
    char dsn_ret;      /* QFILE_RET_FULL, QFILE_RET_HDRS, or 0 */
    char *envid;       /* NULL when not given */
    uint32_t encoding; /* QFILE_ENC_* */
    struct qfile_attr *attrs;
    size_t attr_count;
    struct qfile_recipient *recipients; /* in file order */
    size_t recipient_count;
    size_t done_count; /* how many are marked done */
};

/* Reads and checks every record from the first; fills env (free with
 * qfile_envelope_free, also after an error). */
enum qfile_result qfile_read_envelope(struct qfile_reader *r,
                                      struct qfile_envelope *env,
                                      struct buf *err);
void qfile_envelope_free(struct qfile_envelope *env);
/* An attribute's value, or NULL. */
const char *qfile_envelope_attr(const struct qfile_envelope *env,
                                const char *name);
/* The recipient whose record is at offset (as named in a delivery
 * request), or NULL: an offset from elsewhere is checked against the
 * file before it is trusted. */
const struct qfile_recipient *
qfile_envelope_recipient_at(const struct qfile_envelope *env, uint64_t offset);

/* In-place updates through the reader (opened writable): as
 * qfile_mark_done / qfile_patch_flags / qfile_patch_warn_time in qfile.h,
 * and the reader's cached bytes and header follow. */
enum qfile_result qfile_reader_mark_done(struct qfile_reader *r,
                                         uint64_t offset, enum qfile_sync sync,
                                         struct buf *err);
enum qfile_result qfile_reader_patch_flags(struct qfile_reader *r,
                                           uint32_t flags, enum qfile_sync sync,
                                           struct buf *err);
enum qfile_result qfile_reader_patch_warn_time(struct qfile_reader *r,
                                               uint64_t warn_time,
                                               enum qfile_sync sync,
                                               struct buf *err);

/* Streams the content: each call replaces chunk's contents with the next
 * at most max bytes (max > 0); chunk->len == 0 means the end. */
enum qfile_result qfile_content_read(struct qfile_reader *r, struct buf *chunk,
                                     size_t max, struct buf *err);
/* Moves the content position (0 = start, header.body_offset = body);
 * -1 when beyond the content. */
int qfile_content_seek(struct qfile_reader *r, uint64_t position);

#endif
