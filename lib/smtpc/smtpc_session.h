/* smtpc_session.h: the SMTP/LMTP client protocol engine.
 *
 * One session is one conversation with one server over a socket the
 * caller has already connected (TCP, or a unix socket for LMTP). The
 * engine speaks the protocol; everything around it is the caller's: DNS,
 * connecting, TLS handshakes, SASL passwords, the queue file, logging
 * and the DSN. Everything runs on the caller's event loop, without
 * blocking: the caller starts a step, the engine calls the step's done
 * function when it is over, and the caller starts the next one from
 * there (or frees the session).
 *
 * The steps, in order:
 *
 *   smtpc_hello       read the greeting, send EHLO (LHLO in LMTP mode;
 *                     HELO after a 5xx to EHLO in SMTP mode), read the
 *                     extensions (smtpc_session_caps)
 *   smtpc_starttls    optional: STARTTLS, then the caller's handshake
 *                     (tls_fn, finished with smtpc_starttls_finish), then
 *                     EHLO again with the old extensions forgotten
 *   smtpc_auth_*      optional: AUTH with PLAIN/LOGIN from a user name and
 *                     password, or any mechanism through a step function
 *   smtpc_send        one message transaction; repeat on the same session
 *                     for connection reuse (RSET is sent first whenever
 *                     the previous transaction did not end cleanly)
 *   smtpc_rset        optional: RSET, e.g. to check a connection before
 *                     caching it (smtp_rset_timeout)
 *   smtpc_rset_before_next  optional: the same check sent in front of
 *                     the next transaction, without a round trip
 *   smtpc_quit        QUIT
 *
 * Results are Postfix-shaped (struct smtpc_result): a status code, a
 * reason ready for the log and the DSN ("host mx.example.com[192.0.2.1]
 * said: 550 5.1.1 No such user (in reply to RCPT TO command)", "lost
 * connection with mx.example.com[192.0.2.1] while sending RCPT TO") and
 * the reply itself for the DSN's Diagnostic-Code. A failure of the
 * session (greeting, EHLO, lost connection, timeout, malformed reply)
 * leaves the session unusable (smtpc_session_usable() is 0): the caller
 * frees it and may try the next MX host with the recipients still
 * deferred.
 *
 * Ownership and re-entry: the session borrows the loop and the stream
 * (it puts the stream in non-blocking mode and watches its fd while a
 * step runs); smtpc_session_free() stops watching, and the caller then
 * closes the stream. Done functions are called last thing in the engine,
 * so they may start the next step or free the session. Only one step
 * runs at a time; starting one while another runs is a fatal error. */
#ifndef POSTERN_SMTPC_SESSION_H
#define POSTERN_SMTPC_SESSION_H

#include <stddef.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/event.h"
#include "base/stream.h"
#include "message/dsn.h"
#include "smtpc/smtpc_caps.h"
#include "smtpc/smtpc_reply.h"
#include "smtpc/smtpc_settings.h"

struct smtpc_session;

/* ---- results ---- */

/* The command a reply answered, or that was under way when something
 * went wrong. */
enum smtpc_command {
    SMTPC_CMD_NONE = 0, /* no command: a decision made before sending
                           (SIZE, SMTPUTF8, REQUIRETLS) or local trouble */
    SMTPC_CMD_GREETING,
    SMTPC_CMD_EHLO,
    SMTPC_CMD_HELO,
    SMTPC_CMD_LHLO,
    SMTPC_CMD_STARTTLS,
    SMTPC_CMD_AUTH,
    SMTPC_CMD_MAIL,
    SMTPC_CMD_RCPT,
    SMTPC_CMD_DATA,     /* the DATA command (its 354) */
    SMTPC_CMD_DATA_END, /* the content and its final "." */
    SMTPC_CMD_BDAT,     /* a BDAT chunk (BDAT LAST included) */
    SMTPC_CMD_RSET,
    SMTPC_CMD_QUIT,
};

/* The name Postfix uses in "(in reply to NAME command)": "MAIL FROM",
 * "RCPT TO", "DATA", "end of DATA", "BDAT", "EHLO", "HELO", "LHLO",
 * "STARTTLS", "AUTH", "RSET", "QUIT"; "" for NONE and GREETING. */
const char *smtpc_command_name(enum smtpc_command command);

enum smtpc_outcome {
    SMTPC_PENDING = 0, /* not decided (the zero value) */
    SMTPC_SENT,        /* 2xx: delivered, or the step succeeded */
    SMTPC_DEFERRED,    /* 4xx, malformed reply, lost connection, timeout,
                          local trouble: try again later (or elsewhere) */
    SMTPC_BOUNCED,     /* 5xx, or a permanent local decision (SIZE) */
};

/* What kind of trouble, for the caller's choice of next MX host and its
 * log lines; SMTPC_FAIL_NONE when the peer's reply decided it. */
enum smtpc_failure {
    SMTPC_FAIL_NONE = 0, /* a well-formed reply (any code) decided it */
    SMTPC_FAIL_PROTOCOL, /* malformed or unexpected reply: like a 4xx */
    SMTPC_FAIL_LOST,     /* EOF or I/O error on the connection */
    SMTPC_FAIL_TIMEOUT,  /* the step's timeout expired */
    SMTPC_FAIL_TLS,      /* the caller's TLS handshake failed */
    SMTPC_FAIL_POLICY,   /* refused before sending: SIZE, SMTPUTF8,
                            REQUIRETLS */
    SMTPC_FAIL_CONTENT,  /* the content callback failed */
};

/* The result of a step, or of one recipient. Zero-filled is a valid,
 * empty result; smtpc_result_free releases one. */
struct smtpc_result {
    enum smtpc_outcome outcome;
    char status[DSN_STATUS_MAX + 1]; /* "2.0.0", "5.1.1", "4.4.2", ... */
    struct buf reason;               /* for the log's "status=WORD (...)"
                                        and the DSN: see the file comment;
                                        for SENT, the reply text ("250
                                        2.0.0 Ok: queued as 4XyZ") */
    enum smtpc_command command;      /* answered, or under way */
    enum smtpc_failure failure;
    int from_peer;            /* 1 when reply holds the peer's
                                 reply that decided the result */
    struct smtpc_reply reply; /* its text is the Diagnostic-Code
                                 ("smtp; " + reply.text) */
};

void smtpc_result_free(struct smtpc_result *result);
/* Deep copy; dst is overwritten (free it first if it held anything). */
void smtpc_result_copy(struct smtpc_result *dst,
                       const struct smtpc_result *src);

/* Called when a step is over. result is the step's (for smtpc_send the
 * transaction's; the recipients have their own); it lives until the
 * callback returns. */
typedef void (*smtpc_done_fn)(struct smtpc_session *session,
                              const struct smtpc_result *result, void *ctx);

/* ---- the session ---- */

/* A session on a connected stream. host and addr name the peer in
 * reasons ("host HOST[ADDR] said: ..."); for a unix socket pass its
 * path as both. The two strings are copied; the stream and settings are
 * borrowed and must outlive the session. */
struct smtpc_session *smtpc_session_new(struct event_loop *loop,
                                        struct stream *stream,
                                        const struct smtpc_settings *settings,
                                        const char *host, const char *addr);
/* Stops watching the fd and cancels the step under way (its done
 * function is not called). The stream is not closed. NULL is ignored. */
void smtpc_session_free(struct smtpc_session *session);

/* "HOST[ADDR]", as reasons name the peer. */
const char *smtpc_session_peer(const struct smtpc_session *session);
/* The extensions of the last EHLO/LHLO (empty after HELO). */
const struct smtpc_caps *smtpc_session_caps(const struct smtpc_session *s);
/* The greeting (code 0 before it came). */
const struct smtpc_reply *
smtpc_session_greeting(const struct smtpc_session *session);
/* 1 when no step runs and the connection can take another step (no
 * failure so far, QUIT not sent). For connection reuse and caching. */
int smtpc_session_usable(const struct smtpc_session *session);
/* Transactions that reached the end of data on this connection (Postfix
 * logs conn_use=N+1 for reuse). */
unsigned smtpc_session_transactions(const struct smtpc_session *session);
/* Tells the engine that the connection is under TLS whose peer was
 * verified (smtpc_starttls_finish does it too; for a connection that
 * began with TLS, smtps/port 465). A REQUIRETLS message is only sent
 * over a verified connection (RFC 8689). */
void smtpc_session_set_tls(struct smtpc_session *session, int encrypted,
                           int verified);

/* ---- the steps ---- */

/* Reads the greeting and sends EHLO (LHLO). SENT when the server took
 * it. A 5xx to EHLO is followed by HELO (SMTP only; the extensions then
 * stay empty). Failures: the greeting's 4xx/5xx ("host H[A] refused to
 * talk to me: 554 ..."), EHLO/HELO/LHLO refused ("host H[A] said: ...
 * (in reply to EHLO command)"), lost connection or timeout ("lost
 * connection with H[A] while receiving the initial server greeting",
 * "... while performing the EHLO handshake"). Any failure leaves the
 * session unusable. After a STARTTLS step the greeting is not read
 * again (smtpc_starttls does its own EHLO; this is for the first). */
void smtpc_hello(struct smtpc_session *session, smtpc_done_fn done, void *ctx);

/* The caller's TLS handshake, started by smtpc_starttls after the 220.
 * The engine no longer watches the fd: the caller runs the handshake on
 * the loop (with settings' starttls_timeout_ms), puts the TLS layer
 * under the stream (stream_set_io) and then calls smtpc_starttls_finish.
 * It may call smtpc_starttls_finish from inside tls_fn. */
typedef void (*smtpc_tls_fn)(struct smtpc_session *session,
                             struct stream *stream, void *ctx);

/* Sends STARTTLS. A reply other than 220 ends the step with that reply
 * (4xx DEFERRED, 5xx BOUNCED; the session stays usable in plain text,
 * so an opportunistic caller may go on). On 220, tls_fn runs; after a
 * successful smtpc_starttls_finish the engine forgets the extensions,
 * sends EHLO (LHLO) again and ends the step as smtpc_hello does. */
void smtpc_starttls(struct smtpc_session *session, smtpc_tls_fn tls_fn,
                    smtpc_done_fn done, void *ctx);
/* Reports the handshake: ok 1 with encrypted/verified as for
 * smtpc_session_set_tls, or ok 0 with why (the step then ends DEFERRED,
 * SMTPC_FAIL_TLS, and the session is unusable). */
void smtpc_starttls_finish(struct smtpc_session *session, int ok, int verified,
                           const char *why);

/* One SASL step, for any mechanism. Called first with challenge NULL
 * for the initial response; later with each decoded server challenge
 * (334). Puts the raw response in response (the engine base64-encodes
 * it; empty is sent as "=" initially). Returns 0 with a response, 1 for
 * "no initial response" (first call only), -1 to abort (sends "*"). */
typedef int (*smtpc_sasl_step_fn)(void *step_ctx, const char *challenge,
                                  size_t challenge_len, struct buf *response);

/* AUTH mech through step. SENT on 235. A refusal ends the step with the
 * reply ("SASL authentication failed; server H[A] said: 535 ..."),
 * 4xx DEFERRED and 5xx BOUNCED (the caller decides; Postfix defers and
 * tries the next server); the session stays usable after a refusal. */
void smtpc_auth(struct smtpc_session *session, const char *mech,
                smtpc_sasl_step_fn step, void *step_ctx, smtpc_done_fn done,
                void *ctx);
/* AUTH PLAIN or AUTH LOGIN (mech, case-insensitive) with user and
 * password (copied; never logged). Other mechanisms: BOUNCED at once
 * with SMTPC_FAIL_POLICY. */
void smtpc_auth_password(struct smtpc_session *session, const char *mech,
                         const char *user, const char *password,
                         smtpc_done_fn done, void *ctx);

/* ---- a message transaction ---- */

/* The message content, read by the engine as it sends. read returns up
 * to len bytes (> 0), 0 at the end, or -1 with why set (the transaction
 * then ends DEFERRED, SMTPC_FAIL_CONTENT, and the connection is
 * unusable when DATA was under way). The content is the message in
 * local form: lines end with LF or CRLF (both become CRLF on the wire);
 * the engine dot-stuffs, adds a final CRLF when missing, and ends with
 * "." (or sends BDAT chunks). Reads come from the loop's callbacks, so
 * read should not block for long (a queue file on a local disk is fine). */
struct smtpc_content {
    ssize_t (*read)(void *read_ctx, char *data, size_t len, struct buf *why);
    void *read_ctx;
};

enum smtpc_body {
    SMTPC_BODY_NONE = 0, /* no BODY= parameter */
    SMTPC_BODY_7BIT,     /* BODY=7BIT (only when the peer has 8BITMIME) */
    SMTPC_BODY_8BITMIME, /* BODY=8BITMIME; see content_7bit */
};

/* DSN RET values (as dsn_ret_parse gives them). */
#define SMTPC_RET_NONE 0
#define SMTPC_RET_FULL 1
#define SMTPC_RET_HDRS 2

struct smtpc_rcpt {
    const char *address; /* without <>; "" never */
    unsigned notify;     /* DSN_NOTIFY_* mask (message/dsn.h); 0 = none */
    const char *orcpt;   /* "rfc822;decoded-address" (dsn_orcpt_parse's
                            form), or NULL; xtext-encoded on the wire */
    struct smtpc_result result; /* filled by the engine; zero it first */
};

struct smtpc_message {
    const char *sender;       /* without <>; "" for the null sender */
    long long size;           /* the content's size in bytes, for SIZE=
                                 and the peer's limit; < 0: unknown */
    enum smtpc_body body;     /* see enum smtpc_body */
    int smtputf8;             /* the message needs SMTPUTF8 (UTF-8 in the
                                 envelope or headers): SMTPUTF8 on MAIL,
                                 or BOUNCED 5.6.7 when not offered */
    const char *envid;        /* DSN ENVID, decoded; NULL = none */
    int ret;                  /* SMTPC_RET_* */
    int requiretls;           /* RFC 8689: REQUIRETLS on MAIL; BOUNCED
                                 5.7.30 when not offered or the TLS is
                                 not verified */
    struct smtpc_rcpt *rcpts; /* caller's array; results filled in */
    size_t rcpt_count;
    struct smtpc_content content;      /* the message */
    struct smtpc_content content_7bit; /* optional (read NULL = none): the
                                          message converted to 7 bits, used
                                          when body is 8BITMIME and the
                                          peer lacks 8BITMIME; without it
                                          the 8-bit content is sent as is,
                                          without BODY= (as Postfix does
                                          with conversion disabled). MAIL
                                          has no SIZE= when it is used */
    int used_7bit; /* set by the engine: content_7bit was read */
};

/* Sends one message. Before MAIL: SIZE (size > the peer's non-zero
 * limit: all BOUNCED 5.3.4 "message size N exceeds size limit M of
 * server H[A]"), SMTPUTF8 and REQUIRETLS checks; then MAIL, RCPT for
 * each recipient, DATA or BDAT (bdat_enable and CHUNKING offered),
 * pipelined (up to pipeline_limit commands in flight) when the peer
 * offers PIPELINING, lock-step otherwise. DSN parameters (NOTIFY, ORCPT,
 * RET, ENVID) go out only when the peer offers DSN; BODY= only with
 * 8BITMIME; SIZE= only with SIZE (and not with content_7bit).
 *
 * Every recipient gets its result: its RCPT refusal, else the reply to
 * the end of data (SMTP: one for all; LMTP: one each, RFC 2033), else
 * what ended the transaction (MAIL refused, lost connection, ...). The
 * done result says how the transaction as a whole went: a session
 * failure (lost connection, timeout, malformed reply) when one ended it;
 * else the first recipient's SENT result when one was delivered; else
 * what ended the transaction (MAIL's or DATA's refusal); else the last
 * deferred recipient's result, or the last one's (every RCPT refused).
 * After a session failure smtpc_session_usable() is 0.
 *
 * message, its recipients and their strings are borrowed until done
 * runs. */
void smtpc_send(struct smtpc_session *session, struct smtpc_message *message,
                smtpc_done_fn done, void *ctx);

/* Sends RSET and waits for its reply (rset_timeout_ms). SENT on 2xx;
 * anything else makes the session unusable. */
void smtpc_rset(struct smtpc_session *session, smtpc_done_fn done, void *ctx);

/* Makes the next smtpc_send start with RSET, pipelined with MAIL, RCPT
 * and DATA when the server offers PIPELINING: a kept connection is
 * checked without a round trip of its own. When the RSET is refused,
 * lost or times out (rset_timeout_ms), the transaction ends before any
 * recipient was answered, with the result's command SMTPC_CMD_RSET, and
 * the session is unusable. */
void smtpc_rset_before_next(struct smtpc_session *session);

/* Sends QUIT and waits (quit_timeout_ms) for the output to be written,
 * not for the reply (as Postfix's default smtp_skip_quit_response).
 * Always SENT unless the write failed. The session is unusable after. */
void smtpc_quit(struct smtpc_session *session, smtpc_done_fn done, void *ctx);

#endif
