/* imap_quote.h: writing strings into IMAP responses in the form the
 * grammar needs: an atom where one may stand and the text allows it, a
 * quoted string for short plain text, a literal otherwise ({n}, or ~{n}
 * for binary content with NUL bytes when literal8 is allowed).
 *
 * A quoted string never holds CR, LF or NUL; 8-bit text is quoted only
 * when the session accepts UTF-8 (IMAP_QUOTE_UTF8) and the text is
 * well-formed UTF-8, and is sent as a literal otherwise. Strings longer
 * than IMAP_QUOTE_MAX go as literals, so a response line stays short. */
#ifndef POSTERN_IMAP_QUOTE_H
#define POSTERN_IMAP_QUOTE_H

#include <stddef.h>

#include "base/buf.h"

#define IMAP_QUOTE_MAX 1024

/* Flags. */
#define IMAP_QUOTE_UTF8 0x01     /* UTF8=ACCEPT or IMAP4rev2: UTF-8 quoted */
#define IMAP_QUOTE_LITERAL8 0x02 /* binary content may go as ~{n} */

/* Whether text is an atom (RFC 3501 ATOM-CHAR only, not empty). */
int imap_is_atom(const char *text, size_t len);

/* string: quoted or literal. */
void imap_write_string(struct buf *out, const char *text, size_t len,
                       unsigned flags);

/* nstring: NIL for text == NULL, else a string. */
void imap_write_nstring(struct buf *out, const char *text, size_t len,
                        unsigned flags);

/* astring: an atom when the text is one (astring also allows ']') and
 * is not "NIL" in any case, else a string. */
void imap_write_astring(struct buf *out, const char *text, size_t len,
                        unsigned flags);

/* A literal, always: "{n}\r\n" and the bytes (or "~{n}" with
 * IMAP_QUOTE_LITERAL8 when the text holds a NUL). */
void imap_write_literal(struct buf *out, const char *text, size_t len,
                        unsigned flags);

#endif
