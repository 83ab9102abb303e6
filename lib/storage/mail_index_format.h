/* mail_index_format.h: the on-disk layout of the per-mailbox index
 * (docs/mail-index.md has it byte by byte), and the checks that decide
 * whether bytes read from disk may be trusted. Pure functions over
 * memory, so the fuzz target (fuzz/fuzz_mail_index.c) drives exactly
 * what mail_index.c runs on the files.
 *
 * Three files in the mailbox directory (the Maildir root or a .Folder),
 * named so Dovecot neither uses nor minds them (its own are
 * dovecot.index*; a plain file whose name does not start with '.' is
 * not a folder to Maildir++):
 *   postern.index        the base: header, fixed-size records sorted by
 *                        UID, then the Maildir base names;
 *   postern.index.log    changes since the base, appended one
 *                        transaction per checksummed entry;
 *   postern.index.cache  cached renderings (ENVELOPE, BODYSTRUCTURE,
 *                        BODY, the mime_tree blob), appended, each entry
 *                        checksummed; records point into it;
 * plus postern.index.lock, which writers lock. Every number is little
 * endian; the records are read in place, so the index is only used on
 * little-endian hosts (the build refuses others). */
#ifndef POSTERN_MAIL_INDEX_FORMAT_H
#define POSTERN_MAIL_INDEX_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the mail index format is read in place: little-endian hosts only"
#endif

#define MAIL_INDEX_BASE_NAME "postern.index"
#define MAIL_INDEX_LOG_NAME "postern.index.log"
#define MAIL_INDEX_CACHE_NAME "postern.index.cache"
#define MAIL_INDEX_LOCK_NAME "postern.index.lock"

#define MAIL_INDEX_BASE_MAGIC "PSTNIDX\n"
#define MAIL_INDEX_LOG_MAGIC "PSTNLOG\n"
#define MAIL_INDEX_CACHE_MAGIC "PSTNCCH\n"
#define MAIL_INDEX_VERSION 1

/* Bounds that make every size computation safe. */
#define MAIL_INDEX_RECORDS_MAX 10000000u   /* messages in one mailbox */
#define MAIL_INDEX_NAME_MAX 1024u          /* a Maildir base name */
#define MAIL_INDEX_LOG_ENTRY_MAX (256u << 20)
#define MAIL_INDEX_CACHE_ENTRY_MAX (64u << 20)

/* postern.index: the header (112 bytes). */
struct mail_index_header {
    char magic[8];             /* MAIL_INDEX_BASE_MAGIC */
    uint32_t version;          /* MAIL_INDEX_VERSION */
    uint32_t header_size;      /* sizeof(struct mail_index_header) */
    uint32_t record_size;      /* sizeof(struct mail_index_record) */
    uint32_t uidvalidity;
    uint32_t next_uid;
    uint32_t first_recent_uid;
    uint32_t record_count;
    uint32_t names_size;       /* bytes of names after the records */
    uint64_t highest_modseq;
    uint64_t log_generation;   /* the log that continues this base */
    uint64_t cache_id;         /* the cache file the records point into */
    uint64_t created;          /* when the index was built (Unix secs) */
    /* Two values the Maildir view keeps with the index and compares
     * to decide whether the Maildir needs a scan (e.g. the mtimes of
     * new/ and cur/ in nanoseconds); opaque to the index. */
    uint64_t sync_stamp[2];
    uint32_t body_crc;         /* CRC-32C of the records and names */
    uint32_t reserved[4];      /* 0 */
    uint32_t header_crc;       /* CRC-32C of the 108 bytes before it */
};

/* One message (64 bytes). On disk `state` is 0; in memory it holds
 * MAIL_INDEX_REC_* bits. */
struct mail_index_record {
    uint32_t uid;
    uint8_t flags;          /* IMAP_FLAG_* system flags, \Recent never */
    uint8_t state;
    uint16_t name_len;      /* the Maildir base name (before ":2,") */
    uint32_t keywords;      /* bit i: keyword i of dovecot-keywords */
    uint32_t name_offset;   /* into the names (base) or the log's names */
    uint64_t modseq;
    int64_t internal_date;  /* Unix seconds */
    uint64_t rfc822_size;   /* with CRLF line ends (RFC822.SIZE) */
    uint64_t physical_size; /* bytes of the file */
    uint64_t cache_offset;  /* 0: nothing cached */
    uint32_t cache_length;
    uint32_t reserved;      /* 0 */
};

#define MAIL_INDEX_REC_EXPUNGED 0x01  /* expunged by a log entry */
#define MAIL_INDEX_REC_LOGNAME 0x02   /* name_offset is into the log names */

/* System flags a record may hold (IMAP_FLAG_ANSWERED .. IMAP_FLAG_DRAFT
 * of imap/imap_flags.h; the storage layer may not include it). */
#define MAIL_INDEX_FLAGS_MASK 0x1f

/* postern.index.log and postern.index.cache start with this (32 bytes):
 * `id` is the log generation or the cache id. */
struct mail_index_file_header {
    char magic[8];
    uint32_t version;
    uint32_t uidvalidity;
    uint64_t id;
    uint32_t reserved;   /* 0 */
    uint32_t header_crc; /* CRC-32C of the 28 bytes before it */
};

/* A log entry: one transaction.
 *   u32 length (the whole entry, this field included; a multiple of 4)
 *   u32 length ^ 0xffffffff (so a damaged length is told from a torn
 *       tail)
 *   u32 crc    (CRC-32C of the bytes from offset 12 to the end)
 *   u32 0
 *   u64 modseq (the transaction's; 0 when it changes no message)
 *   operations, each a u32 type followed by its fixed part: */
#define MAIL_INDEX_LOG_ENTRY_HEAD 24
enum mail_index_op {
    MAIL_INDEX_OP_APPEND = 1,  /* struct mail_index_record, then name_len
                                * bytes of name padded to 4 */
    MAIL_INDEX_OP_FLAGS = 2,   /* u32 uid, u32 flags, u32 keywords */
    MAIL_INDEX_OP_EXPUNGE = 3, /* u32 uid */
    MAIL_INDEX_OP_CACHE = 4,   /* u32 uid, u32 length, u64 offset */
    MAIL_INDEX_OP_NEXT_UID = 5, /* u32 next_uid */
    MAIL_INDEX_OP_RECENT = 6,  /* u32 first_recent_uid */
    MAIL_INDEX_OP_SYNC_STAMP = 7, /* u64 sync_stamp[0], u64 sync_stamp[1] */
};

/* A cache entry (offsets into postern.index.cache, after its header):
 *   u32 length (the whole entry; a multiple of 4), u32 crc (CRC-32C of
 *   the bytes after it), u32 uid, u32 envelope, u32 bodystructure,
 *   u32 body, u32 blob (the four lengths), then the four strings, one
 *   after the other, padded to 4. */
#define MAIL_INDEX_CACHE_ENTRY_HEAD 28

/* Checks a whole base file: magic, version, sizes, the header's and the
 * body's checksums, the file length, records sorted by strictly rising
 * UID below next_uid, flags, names inside the names area, zero state.
 * 0, or -1 with the reason in why. */
int mail_index_base_check(const void *data, size_t len, struct buf *why);

/* Checks a log or cache file header for `magic`. 0 or -1 with why. */
int mail_index_file_header_check(const void *data, size_t len,
                                 const char *magic, struct buf *why);

/* Fills a file header (magic, version, uidvalidity, id, crc). */
void mail_index_file_header_fill(struct mail_index_file_header *hdr,
                                 const char *magic, uint32_t uidvalidity,
                                 uint64_t id);

/* Sets hdr->header_crc. */
void mail_index_header_seal(struct mail_index_header *hdr);

#endif
