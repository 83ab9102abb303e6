/* smtp_reply_out.h: writing one server reply line (smtpd, lmtpd): the
 * formatted text with any CR or LF turned into a space, so nothing from a
 * table or the client can add a line, logged at verbose level, then CRLF,
 * onto the session's stream. */
#ifndef POSTERN_SMTP_REPLY_OUT_H
#define POSTERN_SMTP_REPLY_OUT_H

#include <stdarg.h>

#include "base/stream.h"

void smtp_reply_write(struct stream *stream, const char *namaddr,
                      const char *fmt, va_list ap);

#endif
