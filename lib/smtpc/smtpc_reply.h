/* smtpc_reply.h: reading a server's SMTP/LMTP reply, line by line.
 *
 * A reply is one or more lines "CODE-text" ending with "CODE text" (or a
 * bare "CODE") (RFC 5321, section 4.2). The reader takes the lines as the
 * stream delivers them, without their CRLF, and builds one struct
 * smtpc_reply: the code, the enhanced status code (RFC 3463, given on the
 * first line or derived from the code as "X.0.0"), and the text in the
 * shape Postfix quotes it in logs and bounces: every line with its code,
 * joined by single spaces ("550-5.1.1 No such user 550 5.1.1 Try again").
 *
 * The reply comes from an untrusted peer, so the reader is strict and
 * bounded: a line without a 3-digit code in 2..5 followed by ' ', '-' or
 * the end, a line whose code differs from the first line's, more than
 * SMTPC_REPLY_MAX_LINES lines or more than SMTPC_REPLY_MAX_TEXT bytes of
 * text make the reply malformed. The session treats a malformed reply as
 * a protocol error that defers (like a 4xx), as Postfix does. Control
 * characters in the text are kept out of log lines by the log formatter
 * (lib/message/dsn.h), not here. Fuzzed by fuzz/fuzz_smtp_reply.c. */
#ifndef POSTERN_SMTPC_REPLY_H
#define POSTERN_SMTPC_REPLY_H

#include <stddef.h>

#include "base/buf.h"
#include "base/str.h"
#include "message/dsn.h"

/* Longest reply line the session reads (RFC 5321 says 512 with CRLF;
 * servers send longer ones, Postfix accepts up to line_length_limit). */
#define SMTPC_REPLY_MAX_LINE 2048
/* Most lines in one reply (an EHLO reply has a line per extension). */
#define SMTPC_REPLY_MAX_LINES 100
/* Most bytes of joined text kept for one reply. */
#define SMTPC_REPLY_MAX_TEXT 8192

struct smtpc_reply {
    int code;                        /* 250, 451, 550; 0 = none yet */
    char status[DSN_STATUS_MAX + 1]; /* "5.1.1"; derived "X.0.0" when the
                                        reply gave none or a bad one */
    int status_given;                /* 1 when the first line carried it */
    struct buf text;                 /* all lines with their codes, joined
                                        by ' ' (Postfix's quoting form) */
    struct strlist lines;            /* each line's text after "CODE-" or
                                        "CODE ", for the EHLO keywords */
};

enum smtpc_reply_state {
    SMTPC_REPLY_MORE,      /* a continuation line: feed the next one */
    SMTPC_REPLY_DONE,      /* the last line came: the reply is complete */
    SMTPC_REPLY_MALFORMED, /* not a valid reply; the reply holds what was
                              understood, why says what was wrong */
};

void smtpc_reply_init(struct smtpc_reply *reply);
/* Empties the reply for the next one (keeps allocations). */
void smtpc_reply_reset(struct smtpc_reply *reply);
void smtpc_reply_free(struct smtpc_reply *reply);
/* Deep copy; dst must be initialised (its old contents are replaced). */
void smtpc_reply_copy(struct smtpc_reply *dst, const struct smtpc_reply *src);

/* Feeds one line (without CRLF; not NUL-terminated; any bytes) to the
 * reply being read. After SMTPC_REPLY_DONE or _MALFORMED the reply must
 * be reset before the next line. On _MALFORMED, why (may be NULL) gets a
 * short reason ("malformed reply line", "too many reply lines"). */
enum smtpc_reply_state smtpc_reply_feed(struct smtpc_reply *reply,
                                        const char *line, size_t len,
                                        struct buf *why);

/* The class of a complete reply: 2 (2xx and 3xx), 4 or 5. */
int smtpc_reply_class(const struct smtpc_reply *reply);

#endif
