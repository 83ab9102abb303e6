/* smtpc_internal.h: what the engine's files share (not for callers).
 *
 * smtpc_session.c holds the session, its I/O on the event loop, the
 * queue of commands awaiting replies, and the steps other than the
 * transaction; smtpc_xfer.c holds the transaction (MAIL, RCPT, DATA or
 * BDAT, the content); smtpc_result.c words the results. */
#ifndef POSTERN_SMTPC_INTERNAL_H
#define POSTERN_SMTPC_INTERNAL_H

#include "smtpc/smtpc_session.h"

/* A command whose reply has not come yet. */
struct smtpc_pending {
    enum smtpc_command command;
    int last_chunk; /* BDAT LAST */
    int ignore;     /* the reply does not matter (a "." sent only to end a
                       DATA nobody will use) */
};

enum smtpc_step {
    SMTPC_STEP_NONE = 0,
    SMTPC_STEP_HELLO,
    SMTPC_STEP_STARTTLS,
    SMTPC_STEP_TLS, /* the caller's handshake runs */
    SMTPC_STEP_AUTH,
    SMTPC_STEP_SEND,
    SMTPC_STEP_RSET,
    SMTPC_STEP_QUIT,
};

/* Per-recipient progress inside a transaction. */
enum smtpc_rcpt_state {
    SMTPC_RCPT_UNSENT = 0,
    SMTPC_RCPT_SENT,     /* RCPT written, reply not read */
    SMTPC_RCPT_ACCEPTED, /* RCPT took it; the end of data decides */
    SMTPC_RCPT_DECIDED,  /* result final */
};

struct smtpc_xfer {
    struct smtpc_message *msg;
    enum smtpc_rcpt_state *rcpt_state;
    size_t next_rcpt;      /* next RCPT to write */
    size_t lmtp_cursor;    /* next accepted recipient for an LMTP reply */
    size_t accepted;       /* RCPTs accepted */
    size_t rcpt_replies;   /* RCPT replies read */
    size_t bdat_in_flight; /* BDAT chunks awaiting replies */
    size_t rcpts_sent;
    int rset_first; /* an RSET precedes MAIL */
    int mail_sent;
    int mail_state; /* -1 no reply yet, 0 refused, 1 accepted */
    int pipelining;
    int use_bdat;
    int data_sent;      /* DATA, or the first BDAT chunk, written */
    int data_done;      /* the end of data ("." or BDAT LAST) written */
    int data_skipped;   /* no content will be sent */
    int end_reply_seen; /* a reply to the end of data came */
    int body_active;    /* DATA content being written */
    int content_eof;
    const struct smtpc_content *content;
    int at_line_start;           /* for dot-stuffing */
    int prev_cr;                 /* the last content byte was CR */
    size_t line_len;             /* bytes of the current wire line so far */
    struct buf chunk;            /* wire form of the content being written */
    struct smtpc_result failure; /* what ended the transaction, if any */
};

struct smtpc_session {
    struct event_loop *loop;
    struct stream *stream;
    const struct smtpc_settings *settings;
    char *peer; /* "host[addr]" */
    struct smtpc_caps caps;
    struct smtpc_reply greeting;
    struct smtpc_reply reply; /* being read */
    struct buf line;

    struct smtpc_pending *pending; /* ring of commands awaiting replies */
    size_t pending_head, pending_count, pending_cap;

    enum smtpc_step step;
    smtpc_done_fn done;
    void *done_ctx;
    struct smtpc_result step_result;
    int step_finished; /* step_result is ready for done */
    int call_tls_fn;   /* tls_fn is due at the end of the current drive */
    smtpc_tls_fn tls_fn;

    int registered; /* the fd is on the loop */
    int dead;       /* unusable: failure or QUIT */
    int greeted;    /* the greeting was read */
    int after_tls;  /* EHLO after STARTTLS: no HELO fallback */
    int dirty;      /* a transaction is open on the server: RSET first */
    int tls_encrypted, tls_verified;
    unsigned transactions;
    int progress; /* I/O moved during this drive */

    struct event_timer io_timer;     /* the timeout of what we wait for */
    struct event_timer finish_timer; /* done for a step that ended at once */
    struct event_timer kick_timer;   /* drive again (buffered replies) */

    /* AUTH */
    char *auth_mech;
    smtpc_sasl_step_fn sasl_step;
    void *sasl_ctx;
    int sasl_first;
    char *auth_user, *auth_password;
    int login_stage;

    struct smtpc_xfer xfer;
};

/* ---- smtpc_session.c, for the transaction ---- */

/* Writes one command line (CRLF added) and queues its reply. */
void smtpc_command(struct smtpc_session *s, enum smtpc_command command,
                   int last_chunk, int ignore, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Queues a reply without writing (the command went out another way). */
void smtpc_expect(struct smtpc_session *s, enum smtpc_command command,
                  int last_chunk, int ignore);
/* Ends the step under way with result (moved; zeroed in the caller). */
void smtpc_finish(struct smtpc_session *s, struct smtpc_result *result);
/* The session cannot go on: an I/O failure, a malformed or unexpected
 * reply. Ends the step with a DEFERRED result worded for failure. why
 * (may be NULL) adds detail for protocol errors. */
void smtpc_session_fail(struct smtpc_session *s, enum smtpc_failure failure,
                        const char *why);
/* Ends the step with reply as a protocol error ("unexpected reply"). */
void smtpc_unexpected_reply(struct smtpc_session *s,
                            const struct smtpc_reply *reply,
                            enum smtpc_command command);

/* Starts the transaction step (the fd watched). */
void smtpc_step_begin(struct smtpc_session *s, smtpc_done_fn done, void *ctx);
/* Ends the step at once when the session is dead; 1 when it did. */
int smtpc_step_refuse_dead(struct smtpc_session *s);
/* Runs done from the loop for a step ended by smtpc_finish before any
 * I/O. */
void smtpc_step_finish_soon(struct smtpc_session *s);
/* Arms the timer and the fd for the commands written. */
void smtpc_step_go(struct smtpc_session *s);

/* ---- smtpc_xfer.c ---- */

/* A reply to a transaction command. */
void smtpc_xfer_reply(struct smtpc_session *s,
                      const struct smtpc_pending *pending,
                      const struct smtpc_reply *reply);
/* Writes what can be written now (commands within the pipeline window,
 * content while the output buffer has room). Returns 1 when it wrote. */
int smtpc_xfer_produce(struct smtpc_session *s);
/* A 4xx/5xx reply while the content is being written: it answers the
 * data for every recipient accepted; the connection is given up. */
void smtpc_xfer_early_reply(struct smtpc_session *s,
                            const struct smtpc_reply *reply);
/* Ends the transaction with a session failure (result moved). */
void smtpc_xfer_abort(struct smtpc_session *s, struct smtpc_result *result);
void smtpc_xfer_clear(struct smtpc_session *s);

/* ---- smtpc_result.c ---- */

/* Sets result from a peer's reply to command: SENT for 2xx/3xx (reason
 * = the reply text), else DEFERRED/BOUNCED with "host P said: TEXT (in
 * reply to NAME command)". */
void smtpc_result_from_reply(struct smtpc_result *result, const char *peer,
                             const struct smtpc_reply *reply,
                             enum smtpc_command command);
/* Sets result to a local outcome: status, failure, and reason. */
void smtpc_result_local(struct smtpc_result *result, enum smtpc_outcome outcome,
                        const char *status, enum smtpc_failure failure,
                        enum smtpc_command command, const char *reason);
/* The "while ..." phrase for a command (Postfix's wording). */
const char *smtpc_where(enum smtpc_command command, int lmtp);

#endif
