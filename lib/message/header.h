/* header.h: RFC 5322 message header parsing: split the header section
 * into fields (name, raw text, unfolded value), find where the body
 * begins, and look up the fields the mail path needs (Message-ID, Date,
 * From, To, Delivered-To, Received for hop counting).
 *
 * Two ways in: feed physical lines one at a time as they arrive
 * (header_block_line, for smtpd and local submission), or hand over a
 * whole message (header_parse). Lines are given without their line
 * ending; header_parse accepts CRLF or LF.
 *
 * The header section ends at the first empty line, or, as in Postfix, at
 * the first line that is neither a header field ("Name:") nor a
 * continuation (starting with space or tab): that line is body.
 *
 * Bounds, in Postfix's spirit (header_size_limit = 102400: "if a header
 * is larger, the excess is discarded"): each field keeps at most
 * size_limit bytes of raw text and of value and is marked truncated; the
 * rest of it is read and discarded. At most count_limit fields and
 * total_limit bytes are stored; fields beyond are read, counted in
 * `dropped` and discarded, so a caller that must keep every header can
 * refuse the message. Received: fields are counted even when dropped, so
 * hop counting (hopcount_limit) cannot be evaded by padding. Nothing here
 * fails: every input yields a block. RFC 2047 decoding is not done. */
#ifndef POSTERN_HEADER_H
#define POSTERN_HEADER_H

#include <stddef.h>

#include "base/buf.h"

#define HEADER_SIZE_LIMIT 102400       /* Postfix header_size_limit */
#define HEADER_COUNT_LIMIT 10000       /* fields stored */
#define HEADER_TOTAL_LIMIT (4 * 1024 * 1024) /* bytes stored in all fields */
#define HEADER_HOPCOUNT_LIMIT 50       /* Postfix hopcount_limit */
#define HEADER_NAME_MAX 256 /* a longer "name:" line is not a header */

struct header_field {
    char *name;     /* as written, without trailing whitespace */
    struct buf raw; /* physical lines joined by "\n", no final newline */
    /* The value unfolded (line breaks removed, the whitespace that
     * started each continuation kept), without the whitespace after the
     * colon. */
    struct buf value;
    int truncated; /* longer than size_limit: the excess was discarded */
};

struct header_block {
    struct header_field *fields;
    size_t count, cap;
    size_t size_limit, count_limit, total_limit;
    size_t stored;   /* bytes kept across fields (raw + value) */
    size_t dropped;  /* fields read but not kept (count/total limits) */
    size_t received; /* Received: fields seen, kept or not */
    int truncated;   /* some field was truncated */
    int ended;       /* the header section is complete */
    int blank_line;  /* it ended with an empty line (not a body line) */
    size_t body_offset; /* header_parse: where the body starts */
    /* Internal: the field continuation lines belong to; -1 when lines
     * are being discarded (a dropped field) or none yet. */
    long current;
    int current_dropped;
};

/* Limits of 0 mean the defaults above. */
void header_block_init(struct header_block *hb, size_t size_limit,
                       size_t count_limit, size_t total_limit);
void header_block_free(struct header_block *hb);

enum header_line_kind {
    HEADER_LINE_FIELD,     /* the line was (part of) a header field */
    HEADER_LINE_END_BLANK, /* the empty line ending the header section */
    HEADER_LINE_END_BODY,  /* not a header line: it is the first body line */
};

/* Feeds one physical line (without CRLF/LF). After an END result the
 * block is complete and further calls return HEADER_LINE_END_BODY. */
enum header_line_kind header_block_line(struct header_block *hb,
                                        const char *line, size_t len);

/* Parses the header section at the start of a whole message (CRLF or LF
 * line endings). Sets hb->body_offset to the first byte of the body
 * (after the empty line; at the first body line when there was none; at
 * len when the message has no body). */
void header_parse(struct header_block *hb, const char *data, size_t len);

/* When line[0..len) begins a header field, returns the length of its
 * name (1..HEADER_NAME_MAX bytes of printable ASCII except ':'; optional
 * whitespace before the colon is not part of it); otherwise 0. */
size_t header_name_length(const char *line, size_t len);

/* Field lookup by name, case-insensitive. header_find_next returns the
 * next match after `after` (NULL: from the start). */
const struct header_field *header_find(const struct header_block *hb,
                                       const char *name);
const struct header_field *header_find_next(const struct header_block *hb,
                                            const char *name,
                                            const struct header_field *after);
/* Number of stored fields with this name. */
size_t header_count(const struct header_block *hb, const char *name);
/* Hops so far: the number of Received: fields (including dropped ones);
 * compare against hopcount_limit. */
size_t header_hop_count(const struct header_block *hb);

/* Replaces `out` with the field's value without leading and trailing
 * whitespace. */
void header_value_trimmed(const struct header_field *field, struct buf *out);
/* The trimmed value of the first field named `name` in `out`; returns 1
 * when found, 0 when not (out emptied). For Message-ID, Date, From, ... */
int header_get(const struct header_block *hb, const char *name,
               struct buf *out);
/* Whether a Delivered-To: field names `address` (case-insensitive,
 * whitespace trimmed): a mail loop for local/virtual delivery. */
int header_has_delivered_to(const struct header_block *hb,
                            const char *address);

#endif
