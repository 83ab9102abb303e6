/* mime_decode.h: a MIME part's Content-Transfer-Encoding undone (RFC
 * 2045 section 6), for IMAP's BINARY fetches (RFC 3516) and for SEARCH
 * BODY/TEXT, which match decoded text.
 *
 * Base64 skips white space and line ends, stops at the padding, and
 * fails on any other byte outside its alphabet (Dovecot answers such a
 * part with "NO [PARSE]"). Quoted-printable drops soft line breaks
 * ("=" at a line end) and the blanks before a line end, writes every
 * line end as CRLF, and keeps a "=" that is not followed by two hex
 * digits as it is (RFC 2045's advice for robust decoders) but reports it
 * (Dovecot refuses such a part in BINARY with "NO [PARSE]"). 7bit, 8bit,
 * binary and an absent field are the identity; anything else is
 * MIME_CTE_UNKNOWN, which IMAP reports as [UNKNOWN-CTE]. */
#ifndef POSTERN_MIME_DECODE_H
#define POSTERN_MIME_DECODE_H

#include <stddef.h>

#include "base/buf.h"
#include "message/mime_tree.h"

enum mime_cte {
    MIME_CTE_IDENTITY, /* 7bit, 8bit, binary, or no field */
    MIME_CTE_BASE64,
    MIME_CTE_QP,
    MIME_CTE_UNKNOWN,
};

/* The encoding named by a Content-Transfer-Encoding value (blanks and
 * comments around the token allowed; case ignored). */
enum mime_cte mime_cte_parse(const char *value, size_t len);

/* The encoding of a part of a parsed tree. */
enum mime_cte mime_part_cte(const struct mime_tree *tree,
                            const struct mime_part *part);

/* Append the decoding of text[0..len). Return 0, or -1 for base64 with a
 * byte outside the alphabet (out then holds what came before), and for
 * quoted-printable with a "=" that escapes nothing (out then holds all of
 * it, that "=" kept). */
int mime_base64_decode_body(const char *text, size_t len, struct buf *out);
int mime_qp_decode_body(const char *text, size_t len, struct buf *out);

/* Appends text[0..len) decoded by `cte` (the identity copies). 0 or -1
 * as above; MIME_CTE_UNKNOWN returns -1 with nothing appended. */
int mime_decode_body(enum mime_cte cte, const char *text, size_t len,
                     struct buf *out);

#endif
