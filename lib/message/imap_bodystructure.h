/* imap_bodystructure.h: BODY and BODYSTRUCTURE (RFC 3501 7.4.2, RFC
 * 9051 7.5.2) from a parsed mime_tree, written as Dovecot 2.3 writes
 * them, so a client's cache made against Dovecot stays right:
 *  - type, subtype, parameter names and values as written in the
 *    message (not case-folded); parameters with RFC 2231 continuations
 *    merged (mime_params.h);
 *  - a part without a Content-Type is "text" "plain" (in a
 *    multipart/digest: "message" "rfc822"); a broken one ("text;
 *    charset=x") is "" "" without parameters; "text" alone is "text" "";
 *    a text part without a charset gets ("charset" "us-ascii") added;
 *    message/rfc822 is written in lower case;
 *  - Content-Transfer-Encoding is its token as written, "7bit" when it
 *    is 7bit in any case, absent or not a single token; Content-ID, -Description, -MD5 and -Location are
 *    the field text unfolded;
 *  - sizes count every line end as CRLF; text and message parts carry
 *    their line count; a message/rfc822 part carries the ENVELOPE and
 *    BODY[STRUCTURE] of the message inside it;
 *  - a multipart without parts gets one empty text/plain part (a
 *    multipart must have one);
 *  - the extension data of BODYSTRUCTURE: for a multipart the
 *    parameters, disposition, language and location; for a single part
 *    MD5 (the field text, normally NIL), disposition, language,
 *    location. */
#ifndef POSTERN_IMAP_BODYSTRUCTURE_H
#define POSTERN_IMAP_BODYSTRUCTURE_H

#include <stdint.h>

#include "base/buf.h"
#include "message/mime_tree.h"

/* Appends the BODY (extended = 0) or BODYSTRUCTURE (extended = 1) of
 * tree->parts[part] without the outer parentheses. */
void imap_bodystructure_write(struct buf *out, const struct mime_tree *tree,
                              uint32_t part, int extended);

#endif
