/* submit_client.h: the client side of local submission: one message to
 * smtpd's submit service ($queue_directory/public/submit, master.cf
 * `submit unix ... smtpd -o smtpd_local_submission=yes`) over ESMTP.
 * smtpd learns the submitter's uid from the kernel (SO_PEERCRED), so the
 * caller must run as the user the message comes from. sendmail uses it
 * directly; pickup uses it for what postdrop left in maildrop/. */
#ifndef POSTERN_SUBMIT_CLIENT_H
#define POSTERN_SUBMIT_CLIENT_H

#include <stddef.h>

#include "base/buf.h"
#include "base/str.h"
#include "base/stream.h"

/* How long one reply may take. */
#define SUBMIT_TIMEOUT_MS (300 * 1000)

enum submit_result {
    SUBMIT_OK,           /* queued; at least one recipient accepted */
    SUBMIT_DOWN,         /* no submit service (the mail system is not
                            running): nothing happened */
    SUBMIT_TEMPFAIL,     /* a 4xx reply or a lost connection */
    SUBMIT_USER_REFUSED, /* 5xx greeting: not in authorized_submit_users */
    SUBMIT_REJECTED,     /* the sender or the message was refused (5xx) */
    SUBMIT_RCPT_REFUSED, /* a recipient was refused (5xx): nothing queued */
};

/* Connects to queue_directory/public/submit: a stream with the timeout
 * set, or NULL with err set (errno kept from connect). */
struct stream *submit_connect(const char *queue_directory, struct buf *err);

/* 1 when errno (from a failed submit_connect) means that nobody listens:
 * the mail system is not running. */
int submit_down_errno(int err);

/* Reads one (possibly multi-line) reply: the code, or -1. The last line
 * is left in text. */
int submit_read_reply(struct stream *s, struct buf *text);

/* Submits one message (content in local form, LF line ends) from sender
 * ("" for <>) to rcpts over a fresh connection s (closed here). On
 * anything but SUBMIT_OK, why holds the reply or reason that explains it
 * (for SUBMIT_USER_REFUSED, the greeting's text without its codes); each
 * refused recipient is added to refused as "ADDRESS: REPLY". Every
 * recipient is tried; nothing is queued when one is refused. qid gets
 * the queue id smtpd named (may stay empty). */
enum submit_result submit_message(struct stream *s, const char *sender,
                                  const struct strlist *rcpts,
                                  const char *content, size_t content_len,
                                  struct buf *why, struct strlist *refused,
                                  struct buf *qid);

#endif
