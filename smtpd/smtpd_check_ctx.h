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
    /* Carrying on an evaluation that waited: check_eval_list starts each
     * list where s->check_wait says, until it reaches the restriction
     * that waited (which is evaluated again, and now has its answer). */
    int resuming;
};

/* Where a suspended evaluation stopped: for each nesting depth (a
 * restriction class named in an access result opens the next) the list
 * and the index of the restriction being evaluated; a class list parsed
 * from an access result is kept here while it waits. The context
 * (defer_if_permit, DEFER_IF_REJECT) is kept too, so that the resumed
 * evaluation decides exactly as one that never waited. */
#define CHECK_FRAMES_MAX 6
struct check_frame {
    const struct restriction_list *list;
    size_t item;
    struct restriction_list owned; /* a class list kept for the wait */
    int has_owned;
};
struct smtpd_check_wait {
    int active;   /* an evaluation is suspended */
    int recorded; /* the innermost frame of this suspension is recorded */
    struct check_ctx ctx;
    size_t stage; /* which of the command's lists (RCPT has five) */
    size_t frames;
    struct check_frame frame[CHECK_FRAMES_MAX];
};

/* A class list parsed by an access result waits: keep it in the frame
 * for depth (the class's depth). */
void check_keep_class(struct smtpd_session *s, int depth,
                      struct restriction_list *list);

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
/* smtpd_login.c: the *_sender_login_mismatch restrictions. */
enum smtpd_verdict check_login_mismatch(struct smtpd_session *s,
                                        enum restriction_kind kind,
                                        struct check_ctx *c);
/* smtpd_spf.c: reject_spf_fail, reject_spf_softfail, reject_spf_permerror,
 * defer_spf_temperror and reject_spf_helo_fail. */
enum smtpd_verdict check_spf(struct smtpd_session *s,
                             enum restriction_kind kind, struct check_ctx *c);
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
