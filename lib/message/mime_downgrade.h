/* mime_downgrade.h: turns a message with 8-bit content into a 7-bit one,
 * for a peer that does not offer 8BITMIME (RFC 6152), as Postfix's smtp
 * client does unless disable_mime_output_conversion is set.
 *
 * The MIME structure is followed with message/mime_scan (multiparts,
 * attached message/rfc822 and message/global, nesting bounded by
 * MIME_SCAN_NESTING_LIMIT). What happens to each piece:
 *   - a leaf part (anything that is not multipart or an attached
 *     message) declared "8bit" or "binary": its body becomes
 *     quoted-printable and its Content-Transfer-Encoding field says so;
 *   - a leaf part with no Content-Transfer-Encoding, "7bit" or a value we
 *     do not know: its header and body are held (up to hold_limit bytes)
 *     until the part ends or an 8-bit byte shows. It is left untouched
 *     when the part ends 7-bit; it is converted to quoted-printable (the
 *     field added, or replaced) when an 8-bit byte shows, or when the
 *     hold fills up (quoted-printable of 7-bit text decodes to the same
 *     text, so this costs nothing but bytes). A message header (the
 *     message's own or an attached one's) without MIME-Version gets
 *     "MIME-Version: 1.0" when its body is converted;
 *   - a multipart or attached message declared "8bit" or "binary": its
 *     field becomes "7bit", since what it holds is converted;
 *   - a part already in base64: raw 8-bit bytes in it (not base64,
 *     skipped by every decoder, RFC 2045 6.8) are dropped; in
 *     quoted-printable: raw 8-bit bytes become =XX (the same decoded
 *     bytes). Other bytes are untouched;
 *   - preamble and epilogue text of a multipart (which readers ignore):
 *     8-bit bytes become "?";
 *   - header fields with raw 8-bit bytes are left as they are, as
 *     Postfix leaves them.
 * So the output is 7-bit except header lines that were 8-bit in the
 * input. Lines end with CRLF in the output (the input may use LF or
 * CRLF); quoted-printable lines are at most 76 characters. A repeated
 * Content-Transfer-Encoding field in one header: the first counts. A
 * message that ends inside its header without a line end gets one
 * (CRLF) when a field has to go after its last line.
 *
 * Streaming: feed the message in chunks of any size; output is appended
 * to a buf the caller drains. Memory is bounded: the hold (hold_limit,
 * default MIME_DOWNGRADE_HOLD_DEFAULT), one line piece
 * (MIME_DOWNGRADE_LINE_CHUNK: a longer line is handled in pieces), and
 * mime_scan's own bounds. Output per call is at most about 3.1 times the
 * input plus what was held, plus 60 bytes per header block. Dot-stuffing
 * is the SMTP client's job, not this module's. */
#ifndef POSTERN_MIME_DOWNGRADE_H
#define POSTERN_MIME_DOWNGRADE_H

#include <stddef.h>

#include "base/buf.h"

#define MIME_DOWNGRADE_HOLD_DEFAULT (256 * 1024)
#define MIME_DOWNGRADE_LINE_CHUNK 4096
#define MIME_DOWNGRADE_QP_LINE 76 /* RFC 2045 6.7 (5) */

struct mime_downgrade;

/* hold_limit: bytes of one part held while deciding (0: the default). */
struct mime_downgrade *mime_downgrade_new(size_t hold_limit);
/* Feeds len bytes of the message; appends converted output to out. */
void mime_downgrade_input(struct mime_downgrade *md, const char *data,
                          size_t len, struct buf *out);
/* Ends the message: appends everything still held to out. */
void mime_downgrade_finish(struct mime_downgrade *md, struct buf *out);
/* 1 when some part's content or encoding was changed so far. */
int mime_downgrade_changed(const struct mime_downgrade *md);
void mime_downgrade_free(struct mime_downgrade *md);

#endif
