/* smtpd_check_ctx.h: what smtpd_check.c (the restriction lists) and
 * smtpd_access.c (access(5) tables and their actions) share: the state of
 * one evaluation and the ways to end it. Private to smtpd. */
#ifndef POSTERN_SMTPD_CHECK_CTX_H
#define POSTERN_SMTPD_CHECK_CTX_H

#include "smtpd.h"

struct check_ctx {
    const char *stage;  /* "RCPT", "DATA" */
    const char *sender; /* NULL when none yet */
    const char *rcpt;   /* NULL outside RCPT */
    int depth;
    /* defer_if_permit: the first deferral remembered, sent only when the
     * evaluation ends without a reject. */
    int defer_active;
    long defer_code;
    char defer_dsn[12];
    struct buf defer_text;
    /* DEFER_IF_REJECT: a later 5xx reject of this evaluation is sent as
     * this deferral instead. */
    int dir_active;
    long dir_code;
    char dir_dsn[12];
    struct buf dir_text;
};

/* Logs "NOQUEUE: what: STAGE from ...: reply; from=<> to=<> ..." */
void check_log(struct smtpd_session *s, const struct check_ctx *c,
               const char *what, const char *reply);
/* Replies code dsn text and logs the reject (a 5xx becomes the deferral
 * an earlier DEFER_IF_REJECT asked for). SMTPD_REJECT. */
enum smtpd_verdict check_reject(struct smtpd_session *s,
                                const struct check_ctx *c, long code,
                                const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* A temporary failure: replied now (defer_now), or remembered and sent
 * only if the evaluation would otherwise accept. */
enum smtpd_verdict check_defer_if_permit(struct smtpd_session *s,
                                         struct check_ctx *c, int defer_now,
                                         long code, const char *dsn,
                                         const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* "<x@y>: Recipient address" and friends, for the restriction kind. */
void check_reply_subject(struct smtpd_session *s, enum restriction_kind kind,
                         const struct check_ctx *c, struct buf *out);
/* Evaluates a restriction list (a class named in an access result). */
enum smtpd_verdict check_eval_list(struct smtpd_session *s,
                                   const struct restriction_list *list,
                                   struct check_ctx *c);

/* smtpd_access.c: check_client_access, check_helo_access,
 * check_sender_access and check_recipient_access. */
enum smtpd_verdict check_access_table(struct smtpd_session *s,
                                      const struct restriction *r,
                                      struct check_ctx *c);

#endif
