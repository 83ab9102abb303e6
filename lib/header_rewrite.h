/* header_rewrite.h: rewriting the addresses of one header field, as
 * Postfix's cleanup does it (docs/addressing.md, "Header addresses").
 * smtpd uses it while a message arrives (smtpd/smtpd_header.c decides
 * the client's context); qmgr's requeue step (lib/recleanup.h) uses it
 * again when `postsuper -r` sends a queued message through the intake
 * rewriting with today's tables.
 *
 * The fields Postfix rewrites: sender fields (From, Sender, Reply-To,
 * Errors-To, Return-Receipt-To, Resent-From, Resent-Sender,
 * Disposition-Notification-To, Mail-Followup-To) get the header_sender
 * class, recipient fields (To, Cc, Bcc, Apparently-To, Resent-To,
 * Resent-Cc, Resent-Bcc, Resent-Reply-To) the header_recipient class.
 * Each address goes through rewrite_header_address (canonical form in
 * the context, then the canonical maps of its class). When nothing
 * changes the field stays exactly as written. When something does, each
 * address is replaced where it stands, so display names, comments and
 * folding are kept; only a field that cannot be edited in place is
 * written again from its parsed addresses (comments lost), or kept as it
 * is when it has groups. */
#ifndef POSTERN_HEADER_REWRITE_H
#define POSTERN_HEADER_REWRITE_H

#include <stddef.h>

#include "buf.h"

struct rewrite;

/* For the first line of a header field: 1 when it is a sender address
 * field, 0 a recipient address field, -1 not one that is rewritten. */
int header_rewrite_is_address(const char *line, size_t len);

/* Rewrites the addresses of one whole field (name, colon, value, with
 * its line breaks and final LF) into out. context is REWRITE_LOCAL or
 * REWRITE_REMOTE; flags takes ADDRESS_FLAG_UTF8. Returns 1 when out
 * holds a changed field, 0 when the field stays as it is (also when its
 * value is not an address list we can read), -1 on a table error (the
 * reason in why: the caller defers the message). */
int header_rewrite_field(struct rewrite *rw, const char *field, size_t len,
                         int sender, int context, unsigned flags,
                         struct buf *out, struct buf *why);

#endif
