/* charset_utf8.h: text in a MIME charset converted to UTF-8 (iconv), for
 * everything that compares message text: RFC 2047 words (rfc2047.h) and
 * the bodies IMAP SEARCH looks into. The result is always well-formed
 * UTF-8: bytes that are not, raw or after conversion, become U+FFFD. */
#ifndef POSTERN_CHARSET_UTF8_H
#define POSTERN_CHARSET_UTF8_H

#include <stddef.h>

#include "base/buf.h"

/* Whether the charset's text is already UTF-8 (utf-8, utf8, us-ascii,
 * ascii, any case): no conversion is needed. */
int charset_is_utf8(const char *charset);

/* Appends text[0..len), replacing what is not well-formed UTF-8 by
 * U+FFFD. */
void charset_append_utf8(struct buf *out, const char *text, size_t len);

/* Appends text[0..len) in `charset` converted to UTF-8. Returns 0, or -1
 * (nothing appended) when iconv does not know the charset. */
int charset_to_utf8(const char *charset, const char *text, size_t len,
                    struct buf *out);

#endif
