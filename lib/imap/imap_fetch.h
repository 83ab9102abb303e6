/* imap_fetch.h: the data items of FETCH and UID FETCH (RFC 3501 6.4.5,
 * RFC 9051 6.4.5, BINARY from RFC 3516, MODSEQ/CHANGEDSINCE/VANISHED
 * from RFC 7162) as a list imapd walks per message.
 *
 * Macros expand here: ALL = FLAGS INTERNALDATE RFC822.SIZE ENVELOPE,
 * FAST = FLAGS INTERNALDATE RFC822.SIZE, FULL = ALL BODY. A body
 * section arrives from the reader as up to three tokens when it has a
 * header list ("BODY.PEEK[HEADER.FIELDS", "(From To)", "]<0.100>"); the
 * parser joins them. Each section item carries the text imapd echoes
 * in its response ("1.2.HEADER.FIELDS (From To)"), normalized to upper
 * case except the field names. */
#ifndef POSTERN_IMAP_FETCH_H
#define POSTERN_IMAP_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "imap/imap_arg.h"
#include "imap/imap_flags.h"

/* Bounds on what one FETCH may ask for. */
#define IMAP_FETCH_ITEMS_MAX 256
#define IMAP_SECTION_PARTS_MAX 100 /* 1.2.3... nesting of a part number */
#define IMAP_HEADER_FIELDS_MAX 1000

enum imap_fetch_type {
    IMAP_FETCH_FLAGS,
    IMAP_FETCH_INTERNALDATE,
    IMAP_FETCH_RFC822_SIZE,
    IMAP_FETCH_ENVELOPE,
    IMAP_FETCH_BODY,          /* BODY alone: BODYSTRUCTURE without extensions */
    IMAP_FETCH_BODYSTRUCTURE,
    IMAP_FETCH_UID,
    IMAP_FETCH_MODSEQ,
    IMAP_FETCH_RFC822,        /* = BODY[] (sets \Seen) */
    IMAP_FETCH_RFC822_HEADER, /* = BODY.PEEK[HEADER] */
    IMAP_FETCH_RFC822_TEXT,   /* = BODY[TEXT] (sets \Seen) */
    IMAP_FETCH_BODY_SECTION,  /* BODY[...] and BODY.PEEK[...] */
    IMAP_FETCH_BINARY,        /* BINARY[...] and BINARY.PEEK[...] */
    IMAP_FETCH_BINARY_SIZE,   /* BINARY.SIZE[...] */
};

enum imap_section_spec {
    IMAP_SECTION_WHOLE,       /* [] or [1.2]: the message or the part */
    IMAP_SECTION_HEADER,
    IMAP_SECTION_HEADER_FIELDS,
    IMAP_SECTION_HEADER_FIELDS_NOT,
    IMAP_SECTION_TEXT,
    IMAP_SECTION_MIME,        /* only after a part number */
};

struct imap_fetch_item {
    enum imap_fetch_type type;
    int peek;                 /* BODY.PEEK / BINARY.PEEK */
    uint32_t *parts;          /* owned; part numbers, none for the message */
    size_t part_count;
    enum imap_section_spec spec;
    struct imap_keyword *fields; /* owned array; HEADER.FIELDS[.NOT] names */
    size_t field_count;
    int has_partial;          /* <start.count> */
    uint64_t partial_start;
    uint64_t partial_count;
    char *section;            /* owned; the text between [ and ], normalized */
};

struct imap_fetch {
    struct imap_fetch_item *items; /* owned */
    size_t count;
    int has_changedsince;     /* (CHANGEDSINCE n); MODSEQ is then added */
    uint64_t changedsince;
    int vanished;             /* (VANISHED), UID FETCH only */
    int sets_seen;            /* an item that sets \Seen (no PEEK) */
};

/* Flags for imap_fetch_parse(). */
#define IMAP_FETCH_PARSE_UID 0x01 /* UID FETCH: VANISHED is allowed */

void imap_fetch_init(struct imap_fetch *fetch);
void imap_fetch_free(struct imap_fetch *fetch);

/* FETCH's arguments after the sequence set: a macro, one item or a
 * list of items, then optional modifiers. 0, or -1 with *error for
 * "BAD <error>". */
int imap_fetch_parse(const struct imap_arg *args, size_t count,
                     unsigned flags, struct imap_fetch *fetch,
                     const char **error);

#endif
