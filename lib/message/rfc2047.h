/* rfc2047.h: RFC 2047 encoded words in header text decoded to UTF-8,
 * for what compares header text (IMAP SEARCH and SORT). ENVELOPE does
 * not use it: it shows the words as written, as Dovecot does.
 *
 * "=?charset[*language]?B|Q?text?=" is decoded and converted to UTF-8
 * with iconv; white space between two encoded words is dropped (RFC 2047
 * section 6.2), and consecutive words in one charset are converted
 * together, so a character split across two words survives. A word
 * that does not decode (bad base64, no "?=") is kept as written; the
 * bytes of a word in a charset iconv does not know are kept as they
 * decode (ASCII survives). Line breaks of folding are removed. Bytes that are
 * not UTF-8, raw or after conversion, become U+FFFD, so the result is
 * always well-formed UTF-8. */
#ifndef POSTERN_RFC2047_H
#define POSTERN_RFC2047_H

#include <stddef.h>

#include "base/buf.h"

#define RFC2047_CHARSET_MAX 64 /* bytes of a charset name */

/* Appends the decoded form of text[0..len) to out. */
void rfc2047_decode(const char *text, size_t len, struct buf *out);

#endif
