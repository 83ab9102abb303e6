/* mime_tree.h: the MIME structure of a message held in memory (read or
 * mmapped by the caller), as IMAP needs it: the tree of parts (multipart
 * children, and the message inside a message/rfc822 or message/global
 * part), and for each part where its header and body lie, their sizes
 * with every line end counted as CRLF (what RFC822.SIZE and BODYSTRUCTURE
 * report), their line counts, and where its Content-* fields are. Nothing
 * is copied or decoded: renderings (imap_bodystructure.h, imap_envelope.h)
 * and BODY[section] read the message through these offsets.
 *
 * The rules are Dovecot's (2.3), so that a mailbox moved from Dovecot
 * shows the same structure:
 *  - a header ends at the first empty line; a line without a colon is
 *    part of the header; a header without an empty line runs to the end
 *    of its part (the body is then empty);
 *  - a boundary line starts with "--" and the boundary of an enclosing
 *    multipart; the innermost multipart is tried first and the longest
 *    matching boundary wins; text after the boundary on its line is
 *    ignored; "--boundary--" ends the multipart, what follows is its
 *    epilogue; a boundary of an outer multipart also ends every part
 *    inside it (a missing final boundary is not an error);
 *  - the line end before a boundary line belongs to the boundary, not to
 *    the part before it;
 *  - the first Content-Type (and the first of each Content-* field)
 *    counts; a multipart without a boundary has no parts (its body is
 *    all preamble);
 *    boundaries longer than MIME_TREE_BOUNDARY_MAX are cut to it;
 *  - parts of a multipart/digest without a Content-Type are
 *    message/rfc822.
 * Bounds: multipart and message/rfc822 parts MIME_TREE_DEPTH_MAX levels
 * deep are not opened (their content is a single body), and once the
 * tree holds MIME_TREE_PARTS_MAX parts further boundaries start no new
 * part; `limited` says so. Bare LF, bare CR, NULs and 8-bit bytes are
 * data. Every input gives a tree; every offset lies within it. */
#ifndef POSTERN_MIME_TREE_H
#define POSTERN_MIME_TREE_H

#include <stddef.h>
#include <stdint.h>

#define MIME_TREE_DEPTH_MAX 100    /* Dovecot's mime_max_nesting default */
#define MIME_TREE_PARTS_MAX 10000  /* Dovecot's mime_max_parts default */
#define MIME_TREE_BOUNDARY_MAX 80  /* bytes kept of a boundary */
#define MIME_NONE UINT32_MAX

/* The Content-* fields whose value spans a part keeps. */
enum mime_field {
    MIME_FIELD_TYPE,
    MIME_FIELD_ENCODING, /* Content-Transfer-Encoding */
    MIME_FIELD_ID,
    MIME_FIELD_DESCRIPTION,
    MIME_FIELD_DISPOSITION,
    MIME_FIELD_LANGUAGE,
    MIME_FIELD_LOCATION,
    MIME_FIELD_MD5,
    MIME_FIELD_COUNT
};

/* part flags */
#define MIME_PART_MULTIPART 0x01 /* multipart/: children are its parts */
#define MIME_PART_MESSAGE 0x02   /* message/rfc822 or /global: one child */
#define MIME_PART_DIGEST 0x04    /* multipart/digest */
#define MIME_PART_IN_DIGEST 0x08 /* default type message/rfc822 */
#define MIME_PART_TEXT 0x10      /* text/ (or no Content-Type) */

/* A field's value: from after "Name:" and the blanks after it to the
 * end of its last continuation line (line ends inside it kept). */
struct mime_span {
    uint32_t offset; /* relative to the part's offset */
    uint32_t length;
};

struct mime_part {
    uint32_t parent, first_child, next_sibling; /* MIME_NONE when none */
    uint16_t depth;       /* 0 for the message itself */
    uint8_t flags;        /* MIME_PART_* */
    uint8_t fields;       /* bit (1 << MIME_FIELD_x) when present */
    size_t offset;        /* first byte of the header */
    size_t header_size;   /* bytes, empty line included */
    size_t header_vsize;  /* bytes with each line end counted as CRLF */
    size_t header_lines;  /* LF count */
    size_t body_size, body_vsize, body_lines; /* body at offset+header_size */
    struct mime_span field[MIME_FIELD_COUNT];
};

struct mime_tree {
    const char *data;
    size_t len;
    struct mime_part *parts; /* parts[0] is the message; parents first */
    uint32_t count, cap;
    int limited; /* a depth or part-count bound was reached */
};

void mime_tree_init(struct mime_tree *tree);
/* Parses `data`, which must stay valid and unchanged while the tree is
 * used. Replaces what the tree held. */
void mime_tree_parse(struct mime_tree *tree, const char *data, size_t len);
void mime_tree_free(struct mime_tree *tree);

static inline size_t mime_part_body_offset(const struct mime_part *part)
{
    return part->offset + part->header_size;
}

/* The field's value (not NUL-terminated) and its length, or NULL. */
const char *mime_part_field(const struct mime_tree *tree,
                            const struct mime_part *part,
                            enum mime_field field, size_t *len);

/* The part named by an IMAP section number ("1", "1.2.3", RFC 3501
 * 6.4.5), or NULL when there is none. `nums` holds the numbers (each
 * >= 1). What BODY[...] returns for the result:
 *   BODY[1.2]        its body (for message/rfc822: the whole message);
 *   BODY[1.2.MIME]   its header;
 *   BODY[1.2.HEADER] / .TEXT / .HEADER.FIELDS: only for a part with
 *                    MIME_PART_MESSAGE: the header / body of its child;
 *   BODY[HEADER], BODY[TEXT]: parts[0]'s header and body.
 * Part 1 of a single-part message is its body; numbers after a
 * message/rfc822 part go into the attached message. */
const struct mime_part *mime_tree_section(const struct mime_tree *tree,
                                          const unsigned *nums,
                                          size_t count);

#endif
