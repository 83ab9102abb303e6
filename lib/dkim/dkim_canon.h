/* dkim_canon.h: DKIM canonicalization (RFC 6376 section 3.4), simple and
 * relaxed, for header fields and, streaming, for the body.
 *
 * Header fields come as lib/message/header keeps them: the physical
 * lines joined by "\n" without line ends. The body comes in chunks of
 * any size, with CRLF or bare LF line ends (a CR before LF belongs to
 * the line end; any other CR is data). Nothing of the body is kept but
 * the line being canonicalized's pending whitespace and empty lines as
 * counters: the hash is updated as the chunks come. A last line without
 * line end gets CRLF; the empty body is CRLF under simple and nothing
 * under relaxed (RFC 6376 3.4.4 adds a CRLF only to a non-empty body). */
#ifndef POSTERN_DKIM_CANON_H
#define POSTERN_DKIM_CANON_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "base/str.h"
#include "dkim/dkim_types.h"
#include "message/header.h"

/* Appends the canonical form of one header field (raw: lines joined by
 * "\n"), CRLF included. */
void dkim_canon_header(enum dkim_canon canon, const char *raw, size_t len,
                       struct buf *out);

/* Appends the canonical forms of the fields names[] selects, in order:
 * each name takes the last instance not yet taken (RFC 6376 5.4.2); a
 * name without one more instance adds nothing. */
void dkim_canon_signed_headers(const struct header_block *hb,
                               const struct strlist *names,
                               enum dkim_canon canon, struct buf *out);

/* Appends the data the header hash covers (RFC 6376 3.7): the fields
 * names[] selects, then the signature field itself (sig_raw, as
 * header_block keeps it) with the bytes [b_start, b_end) of the b= value
 * removed, canonicalized, without its final CRLF. */
void dkim_canon_header_data(const struct header_block *hb,
                            const struct strlist *names, enum dkim_canon canon,
                            const char *sig_raw, size_t sig_raw_len,
                            size_t b_start, size_t b_end, struct buf *out);

/* The body hash of one signature, streaming. */
struct dkim_body {
    enum dkim_canon canon;
    EVP_MD_CTX *md;
    uint64_t limit;       /* l=, or UINT64_MAX */
    uint64_t length;      /* canonical bytes so far (beyond the limit too) */
    size_t empty_lines;   /* empty lines held back (trailing ones vanish) */
    int line_started;     /* the current line has content */
    int wsp_pending;      /* relaxed: whitespace seen, not yet written */
    int cr_pending;       /* a CR that may start a CRLF */
    int any_content;      /* some line had content */
    unsigned char out[512];
    size_t out_len;
};

/* md is the digest (EVP_sha256()); limit UINT64_MAX for no l=. */
void dkim_body_init(struct dkim_body *body, enum dkim_canon canon,
                    const EVP_MD *md, uint64_t limit);
void dkim_body_feed(struct dkim_body *body, const char *data, size_t len);
/* Ends the body: digest gets the hash (EVP_MAX_MD_SIZE bytes of room),
 * *digest_len its length. body->length is then the canonical length. */
void dkim_body_end(struct dkim_body *body, unsigned char *digest,
                   unsigned *digest_len);
void dkim_body_free(struct dkim_body *body);

#endif
