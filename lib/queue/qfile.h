/* qfile.h: the queue file format, shared by its writer and reader, and
 * the in-place updates made to committed queue files.
 *
 * docs/queue-format.md is the full contract. In short: an 8-byte magic,
 * then records of (type byte, 4-byte big-endian length, payload): a
 * fixed-layout header 'H', envelope records, one content record 'M', and
 * an empty end record 'E' as the last 5 bytes. A recipient is marked
 * delivered by changing its record's type byte from 'R' to 'D'.
 * Writing: qfile_writer.h. Reading: qfile_reader.h. */
#ifndef POSTERN_QFILE_H
#define POSTERN_QFILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Results of reading or updating a queue file: three outcomes, because a
 * damaged file goes to corrupt/ while an I/O error is retried later. */
enum qfile_result {
    QFILE_OK = 0,
    QFILE_CORRUPT, /* the file breaks the format; err says where and how */
    QFILE_SYSERR,  /* a system call failed (EIO, ENOENT, ...): try later */
};

#define QFILE_MAGIC "POSTERNQ"
#define QFILE_MAGIC_LEN 8
#define QFILE_VERSION 1

/* Record types. */
#define QFILE_REC_HEADER 'H'
#define QFILE_REC_ARRIVAL 'T'
#define QFILE_REC_SENDER 'S'
#define QFILE_REC_RCPT 'R'      /* a recipient still to deliver */
#define QFILE_REC_RCPT_DONE 'D' /* the same record once delivered */
#define QFILE_REC_DSN_RET 'P'
#define QFILE_REC_DSN_ENVID 'I'
#define QFILE_REC_ENCODING 'X'
#define QFILE_REC_ATTR 'A'
#define QFILE_REC_CONTENT 'M'
#define QFILE_REC_END 'E'

#define QFILE_REC_HDR_LEN 5 /* type + 4-byte length */
#define QFILE_HEADER_LEN 64 /* payload of the 'H' record */
/* File offsets of the header's fields (magic, 'H' record head, field). */
#define QFILE_HEADER_POS (QFILE_MAGIC_LEN + QFILE_REC_HDR_LEN)
#define QFILE_OFF_VERSION (QFILE_HEADER_POS + 0)
#define QFILE_OFF_FLAGS (QFILE_HEADER_POS + 4)
#define QFILE_OFF_MESSAGE_SIZE (QFILE_HEADER_POS + 8)
#define QFILE_OFF_CONTENT (QFILE_HEADER_POS + 16)
#define QFILE_OFF_BODY (QFILE_HEADER_POS + 24)
#define QFILE_OFF_RCPT_COUNT (QFILE_HEADER_POS + 32)
#define QFILE_OFF_END (QFILE_HEADER_POS + 40)
#define QFILE_OFF_WARN_TIME (QFILE_HEADER_POS + 48)
/* First record after the header. */
#define QFILE_FIRST_RECORD (QFILE_HEADER_POS + QFILE_HEADER_LEN)

/* Bounds: every record but the content, and every text field. */
#define QFILE_MAX_RECORD 16384
#define QFILE_MAX_TEXT 4096
#define QFILE_MAX_ATTR_NAME 64
#define QFILE_MAX_ATTRS 64
#define QFILE_MAX_CONTENT 0xffffffffu

/* Header flags. */
#define QFILE_FLAG_WARNED 0x1u       /* a delay warning was sent */
#define QFILE_FLAG_NOTIFICATION 0x2u /* we generated it: never notify */
#define QFILE_FLAG_ALL 0x3u

/* DSN NOTIFY bits of a recipient (0 = not given). */
#define QFILE_NOTIFY_NEVER 0x1u
#define QFILE_NOTIFY_SUCCESS 0x2u
#define QFILE_NOTIFY_FAILURE 0x4u
#define QFILE_NOTIFY_DELAY 0x8u
#define QFILE_NOTIFY_ALL 0xfu

/* Encoding flags ('X' record). */
#define QFILE_ENC_8BITMIME 0x1u
#define QFILE_ENC_SMTPUTF8 0x2u
#define QFILE_ENC_ALL 0x3u

/* DSN RET values ('P' record). */
#define QFILE_RET_FULL 'F'
#define QFILE_RET_HDRS 'H'

/* The fixed-layout header, decoded. */
struct qfile_header {
    uint32_t version;
    uint32_t flags;
    uint64_t message_size;
    uint64_t content_offset;
    uint64_t body_offset;
    uint64_t recipient_count;
    uint64_t end_offset;
    uint64_t warn_time;
};

/* One recipient, as the writer takes it and the reader returns it.
 * Strings are NUL-terminated; orcpt and original are "" when absent. */
struct qfile_recipient {
    char *address;
    char *orcpt;     /* DSN ORCPT "addr-type;address", xtext-decoded */
    char *original;  /* address before rewriting (orig_to=) */
    unsigned notify; /* QFILE_NOTIFY_* bits */
    int done;        /* the record's type is 'D' */
    uint64_t offset; /* file offset of the record: for qfile_mark_done */
};

/* Big-endian field helpers, also used by tests and tools. */
void qfile_put_u16(unsigned char *out, uint16_t value);
void qfile_put_u32(unsigned char *out, uint32_t value);
void qfile_put_u64(unsigned char *out, uint64_t value);
uint16_t qfile_get_u16(const unsigned char *in);
uint32_t qfile_get_u32(const unsigned char *in);
uint64_t qfile_get_u64(const unsigned char *in);

/* Encodes a header into QFILE_HEADER_LEN bytes, and decodes one
 * (no validation; the reader validates). */
void qfile_header_encode(const struct qfile_header *header,
                         unsigned char out[QFILE_HEADER_LEN]);
void qfile_header_decode(const unsigned char in[QFILE_HEADER_LEN],
                         struct qfile_header *header);

/* 1 when len bytes are a valid text field: at most QFILE_MAX_TEXT bytes,
 * no NUL and no control character. */
int qfile_text_ok(const char *text, size_t len);
/* 1 when name is a valid attribute name: [a-z0-9_]{1,64}. */
int qfile_attr_name_ok(const char *name, size_t len);
/* 1 when the NOTIFY bits are valid (known bits; NEVER stands alone). */
int qfile_notify_ok(unsigned notify);

/* Encodes a recipient's payload (appended to out); -1 with err set when
 * a field breaks the format (too long, control characters, bad NOTIFY).
 * Decodes one: QFILE_OK, or QFILE_CORRUPT with err set; the strings in
 * rcpt are allocated and freed with qfile_recipient_free. */
int qfile_recipient_encode(const struct qfile_recipient *rcpt, struct buf *out,
                           struct buf *err);
enum qfile_result qfile_recipient_decode(const unsigned char *payload,
                                         size_t len,
                                         struct qfile_recipient *rcpt,
                                         struct buf *err);
void qfile_recipient_free(struct qfile_recipient *rcpt);

/* Sync modes for in-place updates. QFILE_NOSYNC lets a caller change
 * several records and then call fdatasync(fd) once. */
enum qfile_sync { QFILE_NOSYNC = 0, QFILE_SYNC = 1 };

/* Marks the recipient record at offset done: reads the header and the
 * record head back, refuses anything that is not an 'R' or 'D' record
 * between the header and the end record and outside the content, and
 * writes the one byte 'D' (no write when already done). */
enum qfile_result qfile_mark_done(int fd, uint64_t offset, enum qfile_sync sync,
                                  struct buf *err);
/* Patches the header's flags / warn_time in place after checking that
 * fd is a queue file of this version. */
enum qfile_result qfile_patch_flags(int fd, uint32_t flags,
                                    enum qfile_sync sync, struct buf *err);
enum qfile_result qfile_patch_warn_time(int fd, uint64_t warn_time,
                                        enum qfile_sync sync, struct buf *err);

#endif
