/* imap_envelope.h: the IMAP ENVELOPE of a message (RFC 3501 7.4.2, RFC
 * 9051 7.5.2): date, subject, from, sender, reply-to, to, cc, bcc,
 * in-reply-to, message-id, written as Dovecot 2.3 writes them:
 *  - date, subject, in-reply-to and message-id are the header text as
 *    written (RFC 2047 encoded words left encoded, line breaks removed);
 *    the first field of each name counts;
 *  - address fields read leniently (imap_address.h); several fields of
 *    one name are read as one list, so no address hides in a second
 *    From:; sender and reply-to default to from.
 * Only the header is read, and only these ten fields are looked at, so
 * FETCH ENVELOPE needs no MIME parsing. */
#ifndef POSTERN_IMAP_ENVELOPE_H
#define POSTERN_IMAP_ENVELOPE_H

#include <stddef.h>

#include "base/buf.h"

/* Appends the envelope of the message whose header is header[0..len)
 * (the empty line ending it may be included), without the outer
 * parentheses: "date subject (from) ... message-id". */
void imap_envelope_write(struct buf *out, const char *header, size_t len);

/* Where the header of a whole message ends (after its empty line, or
 * at len), by the same rule as mime_tree. */
size_t imap_header_length(const char *data, size_t len);

#endif
