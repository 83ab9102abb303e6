/* header_rewrite.h: rewriting the addresses of one message header field
 * in place, as Postfix's cleanup does for From:, To:, Cc: and the other
 * address fields (canonical maps, completion of bare local parts).
 *
 * Pure text work: given the field ("To: a, b\n\t c\n") and a callback
 * that maps one address (internal form, address.h) to its replacement,
 * produce the field with each changed address replaced where it stood.
 * Everything else is kept byte for byte: the name, display names,
 * comments, quoted strings, group syntax ("team: a@x, b@y;" and
 * "undisclosed-recipients:;"), encoded words and folding. Which fields
 * are rewritten and how each address maps is the caller's business
 * (smtpd/smtpd_header.c: local_header_rewrite_clients, canonical maps).
 *
 * Rules:
 * - A field whose value is not an address list lib/message/addrlist can read is
 *   left alone: nothing malformed is guessed at.
 * - A replacement is written in external form (local part quoted when it
 *   is not a dot-atom). A callback result that is empty, longer than
 *   address.h's bounds, has an invalid domain, contains control
 *   characters, or is not ASCII in a field parsed without
 *   ADDRESS_FLAG_UTF8 is not used: that address keeps its old text.
 * - When a replacement would make a physical line longer than
 *   HEADER_REWRITE_LINE_MAX (RFC 5322's 998), the line is folded before
 *   the address (folding whitespace is allowed there).
 * - When the whole field would grow beyond the caller's limit it is left
 *   as it was, with the reason in `why`.
 * See docs/addressing.md, "Header addresses". */
#ifndef POSTERN_HEADER_REWRITE_H
#define POSTERN_HEADER_REWRITE_H

#include <stddef.h>

#include "base/buf.h"

#define HEADER_REWRITE_LINE_MAX 998 /* bytes of one line, without CRLF */

/* Address field classes, as Postfix's header table has them. */
#define HEADER_REWRITE_RECIPIENT                                               \
    0                           /* To, Cc, Bcc, Apparently-To, Resent-To, .. */
#define HEADER_REWRITE_SENDER 1 /* From, Sender, Reply-To, Errors-To, .. */

/* For the first line of a header field: HEADER_REWRITE_SENDER or
 * HEADER_REWRITE_RECIPIENT when its name is one of the address fields
 * Postfix rewrites (case-insensitive), -1 for any other line. */
int header_rewrite_class(const char *line, size_t len);

/* Maps one address (internal form; a bare local part has no '@') to
 * `out` (replaced, internal form). Returns 0, or -1 on a failure that
 * must stop the rewriting (a table error), with the reason in `why`. */
typedef int (*header_rewrite_fn)(void *ctx, const char *address,
                                 struct buf *out, struct buf *why);

/* Rewrites the addresses of one whole field: field[0..len) is the name,
 * the colon and the value with its line breaks (LF or CRLF) as received,
 * usually ending in a line break. `flags` takes ADDRESS_FLAG_UTF8 (an
 * SMTPUTF8 message). `limit` bounds the rewritten field in bytes (0:
 * no bound). Returns
 *   1  the field changed: `out` holds it (replaced);
 *   0  it stays as it was (nothing changed, not an address list, or
 *      the result would pass `limit`: then `why` says so; `why` is
 *      empty otherwise);
 *  -1  the callback failed: its reason is in `why`. */
int header_rewrite_field(const char *field, size_t len, unsigned flags,
                         size_t limit, header_rewrite_fn fn, void *ctx,
                         struct buf *out, struct buf *why);

#endif
