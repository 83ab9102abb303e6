/* xtext.h: RFC 3461 xtext, the encoding of DSN ENVID and ORCPT values
 * (and of the AUTH= parameter). One codec for smtpd's parser, the queue
 * and the bounce writer. */
#ifndef POSTERN_XTEXT_H
#define POSTERN_XTEXT_H

#include <stddef.h>

#include "base/buf.h"

/* Refuse "+XX" that decodes to a control character (CR, LF, NUL, ...):
 * no envelope id or address needs one, and one in a bounce header or a
 * log line would be an injection. */
#define XTEXT_REFUSE_CONTROL 0x1

/* Decodes len bytes of xtext and appends the result to out: "+XX" is a
 * byte in hex (upper case per the RFC; lower case accepted, since refusing
 * mail over it helps no one); any other byte must be '!'..'~' except '+'
 * and '='. Returns 0, or -1 when the input is not valid xtext, in which
 * case out is left as it was. */
int xtext_decode(const char *in, size_t len, struct buf *out, int flags);
/* Appends the xtext encoding of len bytes. */
void xtext_encode(const char *in, size_t len, struct buf *out);

#endif
