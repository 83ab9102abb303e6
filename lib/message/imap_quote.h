/* imap_quote.h: writing IMAP strings (RFC 3501 4.3, 9051 4.3) for the
 * renderings of this folder: a quoted string when the text allows it, a
 * literal ({n}CRLF text) when it holds 8-bit bytes, CR or LF, or many
 * quoted-specials, NIL for a NULL nstring. A NUL byte, never allowed in
 * an IMAP string, is written as 0x80, as Dovecot does. The functions are
 * named imap_quote_* so they never clash at link time with lib/imap's
 * imap_write_* (the session's writers, with UTF-8 and literal8 rules). */
#ifndef POSTERN_IMAP_QUOTE_H
#define POSTERN_IMAP_QUOTE_H

#include <stddef.h>

#include "base/buf.h"

void imap_quote_string(struct buf *out, const char *text, size_t len);
/* text NUL-terminated; NULL writes NIL. */
void imap_quote_nstring(struct buf *out, const char *text);
/* The same with CR and LF removed (unfolding header text). */
void imap_quote_nstring_nolf(struct buf *out, const char *text);
/* The same for text of known length. */
void imap_quote_nstring_nolf_len(struct buf *out, const char *text,
                                 size_t len);

/* Text for people (ENVELOPE's subject, as Dovecot writes it): line
 * breaks removed, each run of blanks made one space, blanks at both ends
 * removed; written as a literal whenever anything was changed or the
 * text needs escaping; NULL writes NIL. */
void imap_quote_string_for_humans(struct buf *out, const char *text,
                                  size_t len);

#endif
