/* smtpc_session.c: the client session: I/O on the event loop, the queue
 * of commands awaiting replies, and the steps around the transaction
 * (greeting, EHLO/HELO/LHLO, STARTTLS, AUTH, RSET, QUIT). See
 * smtpc_session.h for the contract and smtpc_xfer.c for the transaction.
 *
 * How it runs: every step writes its commands into the stream's output
 * and queues what replies it expects (struct smtpc_pending, in order);
 * drive() then flushes, lets the transaction write content, and reads
 * reply lines until the socket has nothing more, handing each complete
 * reply to the step. One timer holds the timeout of what the session
 * waits for; it restarts whenever bytes move, as Postfix's timeouts
 * bound each read and write rather than the whole step. A step ends
 * with smtpc_finish(); its done function runs as the last thing drive()
 * does, so it may free the session or start the next step. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/log.h"
#include "base/mem.h"
#include "smtpc/smtpc_internal.h"

/* Rounds of reading and writing in one drive() before yielding to the
 * other sessions on the loop. */
#define DRIVE_ROUNDS_MAX 64

static void drive(struct smtpc_session *s);
static void deliver_done(struct smtpc_session *s);

/* ---- the queue of expected replies ---- */

void smtpc_expect(struct smtpc_session *s, enum smtpc_command command,
                  int last_chunk, int ignore)
{
    if (s->pending_count == s->pending_cap) {
        size_t cap = s->pending_cap ? s->pending_cap * 2 : 16;
        struct smtpc_pending *ring = xcalloc(cap, sizeof(*ring));
        for (size_t i = 0; i < s->pending_count; i++)
            ring[i] = s->pending[(s->pending_head + i) % s->pending_cap];
        free(s->pending);
        s->pending = ring;
        s->pending_cap = cap;
        s->pending_head = 0;
    }
    struct smtpc_pending *slot =
        &s->pending[(s->pending_head + s->pending_count) % s->pending_cap];
    slot->command = command;
    slot->last_chunk = last_chunk;
    slot->ignore = ignore;
    s->pending_count++;
}

static int pending_pop(struct smtpc_session *s, struct smtpc_pending *out)
{
    if (s->pending_count == 0)
        return -1;
    *out = s->pending[s->pending_head];
    s->pending_head = (s->pending_head + 1) % s->pending_cap;
    s->pending_count--;
    return 0;
}

static const struct smtpc_pending *pending_head(const struct smtpc_session *s)
{
    return s->pending_count ? &s->pending[s->pending_head] : NULL;
}

void smtpc_command(struct smtpc_session *s, enum smtpc_command command,
                   int last_chunk, int ignore, const char *fmt, ...)
{
    va_list ap;
    struct buf line = BUF_INIT;
    va_start(ap, fmt);
    buf_vappendf(&line, fmt, ap);
    va_end(ap);
    buf_append(&line, "\r\n", 2);
    stream_write(s->stream, line.data, line.len);
    buf_free(&line);
    smtpc_expect(s, command, last_chunk, ignore);
}

/* ---- timeouts ---- */

static int command_timeout_ms(const struct smtpc_session *s,
                              const struct smtpc_pending *p)
{
    const struct smtpc_settings *set = s->settings;
    switch (p->command) {
    case SMTPC_CMD_STARTTLS:
        return set->starttls_timeout_ms;
    case SMTPC_CMD_MAIL:
        return set->mail_timeout_ms;
    case SMTPC_CMD_RCPT:
        return set->rcpt_timeout_ms;
    case SMTPC_CMD_DATA:
        return set->data_init_timeout_ms;
    case SMTPC_CMD_DATA_END:
        return set->data_done_timeout_ms;
    case SMTPC_CMD_BDAT:
        return p->last_chunk ? set->data_done_timeout_ms
                             : set->data_xfer_timeout_ms;
    case SMTPC_CMD_RSET:
        return set->rset_timeout_ms;
    case SMTPC_CMD_QUIT:
        return set->quit_timeout_ms;
    default:
        return set->helo_timeout_ms;
    }
}

/* The timeout of what the session waits for now, and what it is doing
 * (for "timed out while ..."). */
static int current_timeout_ms(const struct smtpc_session *s)
{
    if (s->xfer.body_active)
        return s->settings->data_xfer_timeout_ms;
    const struct smtpc_pending *p = pending_head(s);
    if (p)
        return command_timeout_ms(s, p);
    if (s->step == SMTPC_STEP_QUIT)
        return s->settings->quit_timeout_ms;
    return s->settings->data_xfer_timeout_ms;
}

static const char *current_where(const struct smtpc_session *s)
{
    if (s->xfer.body_active)
        return "sending message body";
    const struct smtpc_pending *p = pending_head(s);
    if (p)
        return smtpc_where(p->command, s->settings->lmtp);
    if (s->step == SMTPC_STEP_QUIT)
        return smtpc_where(SMTPC_CMD_QUIT, s->settings->lmtp);
    if (s->step == SMTPC_STEP_SEND)
        return "sending message body";
    return smtpc_where(SMTPC_CMD_NONE, s->settings->lmtp);
}

static enum smtpc_command current_command(const struct smtpc_session *s)
{
    const struct smtpc_pending *p = pending_head(s);
    if (s->xfer.body_active || !p)
        return s->step == SMTPC_STEP_SEND ? SMTPC_CMD_DATA_END : SMTPC_CMD_NONE;
    return p->command;
}

/* ---- ending steps ---- */

void smtpc_finish(struct smtpc_session *s, struct smtpc_result *result)
{
    smtpc_result_free(&s->step_result);
    s->step_result = *result;
    memset(result, 0, sizeof(*result));
    s->step_finished = 1;
    if (s->step == SMTPC_STEP_SEND)
        smtpc_xfer_clear(s);
    s->step = SMTPC_STEP_NONE;
}

void smtpc_session_fail(struct smtpc_session *s, enum smtpc_failure failure,
                        const char *why)
{
    struct smtpc_result result = {0};
    struct buf reason = BUF_INIT;
    const char *status = "4.4.2";
    switch (failure) {
    case SMTPC_FAIL_TIMEOUT:
        buf_appendf(&reason, "conversation with %s timed out while %s", s->peer,
                    current_where(s));
        break;
    case SMTPC_FAIL_PROTOCOL:
        status = "4.5.0";
        buf_appendf(&reason, "protocol error with %s while %s: %s", s->peer,
                    current_where(s), why ? why : "malformed reply");
        break;
    case SMTPC_FAIL_CONTENT:
        status = "4.3.0";
        buf_appendf(&reason, "cannot read the message content: %s",
                    why ? why : "read error");
        break;
    default:
        buf_appendf(&reason, "lost connection with %s while %s", s->peer,
                    current_where(s));
        break;
    }
    smtpc_result_local(&result, SMTPC_DEFERRED, status, failure,
                       current_command(s), buf_cstr(&reason));
    buf_free(&reason);
    s->dead = 1;
    s->pending_count = 0;
    if (s->step == SMTPC_STEP_SEND)
        smtpc_xfer_abort(s, &result);
    smtpc_finish(s, &result);
}

void smtpc_unexpected_reply(struct smtpc_session *s,
                            const struct smtpc_reply *reply,
                            enum smtpc_command command)
{
    struct buf why = BUF_INIT;
    buf_appendf(&why, "unexpected reply to %s: %s",
                command == SMTPC_CMD_NONE ? "nothing"
                                          : smtpc_command_name(command),
                buf_cstr(&reply->text));
    smtpc_session_fail(s, SMTPC_FAIL_PROTOCOL, buf_cstr(&why));
    buf_free(&why);
}

/* A refusal that ends a handshake step: "host P refused to talk to me:
 * TEXT" (greeting, HELO, LHLO, EHLO's 421), the session unusable. */
static void refused_to_talk(struct smtpc_session *s,
                            const struct smtpc_reply *reply,
                            enum smtpc_command command)
{
    struct smtpc_result result = {0};
    smtpc_result_from_reply(&result, s->peer, reply, command);
    if (result.outcome == SMTPC_SENT) { /* 3xx where 2xx belongs */
        smtpc_result_free(&result);
        smtpc_unexpected_reply(s, reply, command);
        return;
    }
    if (command == SMTPC_CMD_GREETING && result.outcome == SMTPC_BOUNCED &&
        s->settings->skip_5xx_greeting) {
        result.outcome = SMTPC_DEFERRED;
        result.status[0] = '4';
    }
    buf_reset(&result.reason);
    buf_appendf(&result.reason, "host %s refused to talk to me: %s", s->peer,
                buf_cstr(&reply->text));
    s->dead = 1;
    smtpc_finish(s, &result);
}

static void finish_ok(struct smtpc_session *s, const struct smtpc_reply *reply,
                      enum smtpc_command command)
{
    struct smtpc_result result = {0};
    smtpc_result_from_reply(&result, s->peer, reply, command);
    smtpc_finish(s, &result);
}

/* ---- the loop ---- */

static unsigned wanted_events(const struct smtpc_session *s)
{
    if (s->step == SMTPC_STEP_NONE || s->step == SMTPC_STEP_TLS)
        return 0;
    unsigned events = EVENT_READ;
    if (stream_output_pending(s->stream) > 0 || s->xfer.body_active)
        events |= EVENT_WRITE;
    return events | stream_wants(s->stream);
}

static void update_watch(struct smtpc_session *s)
{
    if (!s->registered)
        return;
    if (event_fd_set(s->loop, stream_fd(s->stream), wanted_events(s)) < 0)
        log_warn("smtpc: cannot watch the connection to %s: %s", s->peer,
                 strerror(errno));
}

static void on_fd(struct event_loop *loop, int fd, unsigned events, void *ctx)
{
    struct smtpc_session *s = ctx;
    if (events & EVENT_READ)
        stream_readable(s->stream);
    drive(s);
}

static void on_timeout(struct event_loop *loop, void *ctx)
{
    struct smtpc_session *s = ctx;
    if (s->step == SMTPC_STEP_NONE || s->step == SMTPC_STEP_TLS)
        return;
    smtpc_session_fail(s, SMTPC_FAIL_TIMEOUT, NULL);
    update_watch(s);
    deliver_done(s);
}

static void on_finish_timer(struct event_loop *loop, void *ctx)
{
    deliver_done(ctx);
}

static void on_kick(struct event_loop *loop, void *ctx)
{
    drive(ctx);
}

static void watch(struct smtpc_session *s)
{
    if (!s->registered) {
        if (event_fd_rebind(s->loop, stream_fd(s->stream), 0, on_fd, s) < 0)
            log_warn("smtpc: cannot watch the connection to %s: %s", s->peer,
                     strerror(errno));
        else
            s->registered = 1;
    }
}

static void unwatch(struct smtpc_session *s)
{
    if (s->registered)
        event_fd_remove(s->loop, stream_fd(s->stream));
    s->registered = 0;
}

/* Starts a step: the fd watched, the timer running. */
static void step_begin(struct smtpc_session *s, enum smtpc_step step,
                       smtpc_done_fn done, void *ctx)
{
    if (s->step != SMTPC_STEP_NONE || s->step_finished)
        log_panic("smtpc: a step started while another runs (%s)", s->peer);
    s->step = step;
    s->done = done;
    s->done_ctx = ctx;
    watch(s);
}

/* Arms the step's timer, kicks the I/O. */
static void step_go(struct smtpc_session *s)
{
    event_timer_start(s->loop, &s->io_timer, (uint64_t)current_timeout_ms(s));
    update_watch(s);
}

/* Runs done for a step that ended at once (from the loop, not from
 * inside the API call that started it). */
static void finish_soon(struct smtpc_session *s)
{
    event_timer_start(s->loop, &s->finish_timer, 0);
}

static void deliver_done(struct smtpc_session *s)
{
    if (!s->step_finished)
        return;
    s->step_finished = 0;
    event_timer_stop(s->loop, &s->io_timer);
    event_timer_stop(s->loop, &s->finish_timer);
    update_watch(s);
    struct smtpc_result result = s->step_result;
    memset(&s->step_result, 0, sizeof(s->step_result));
    smtpc_done_fn done = s->done;
    void *ctx = s->done_ctx;
    s->done = NULL;
    s->done_ctx = NULL;
    if (done)
        done(s, &result, ctx); /* may free s */
    smtpc_result_free(&result);
}

static void dispatch(struct smtpc_session *s, const struct smtpc_reply *reply);

/* Reads one reply line. 1: progress (a line), 0: nothing now, -1: the
 * step ended. */
static int read_one_line(struct smtpc_session *s)
{
    enum stream_status st =
        stream_read_line(s->stream, &s->line, SMTPC_REPLY_MAX_LINE);
    switch (st) {
    case STREAM_OK:
        break;
    case STREAM_AGAIN:
        return 0;
    case STREAM_TOO_LONG:
        smtpc_session_fail(s, SMTPC_FAIL_PROTOCOL, "reply line too long");
        return -1;
    case STREAM_TIMEOUT:
        smtpc_session_fail(s, SMTPC_FAIL_TIMEOUT, NULL);
        return -1;
    case STREAM_EOF:
    case STREAM_ERROR:
    default:
        smtpc_session_fail(s, SMTPC_FAIL_LOST, NULL);
        return -1;
    }
    struct buf why = BUF_INIT;
    enum smtpc_reply_state rs =
        smtpc_reply_feed(&s->reply, s->line.data, s->line.len, &why);
    if (rs == SMTPC_REPLY_MALFORMED) {
        smtpc_session_fail(s, SMTPC_FAIL_PROTOCOL, buf_cstr(&why));
        buf_free(&why);
        return -1;
    }
    buf_free(&why);
    if (rs == SMTPC_REPLY_DONE) {
        dispatch(s, &s->reply);
        smtpc_reply_reset(&s->reply);
    }
    return 1;
}

static void drive(struct smtpc_session *s)
{
    int progress = 0, round;
    for (round = 0; round < DRIVE_ROUNDS_MAX; round++) {
        int moved = 0;
        if (s->step == SMTPC_STEP_NONE || s->step == SMTPC_STEP_TLS)
            break;
        if (s->step == SMTPC_STEP_SEND && smtpc_xfer_produce(s))
            moved = 1;
        if (s->step == SMTPC_STEP_NONE)
            break;
        size_t before = stream_output_pending(s->stream);
        if (before > 0) {
            enum stream_status st = stream_flush(s->stream);
            if (st == STREAM_ERROR || st == STREAM_TIMEOUT ||
                st == STREAM_EOF) {
                smtpc_session_fail(s, SMTPC_FAIL_LOST, NULL);
                break;
            }
            if (stream_output_pending(s->stream) < before)
                moved = 1;
        }
        if (s->step == SMTPC_STEP_QUIT &&
            stream_output_pending(s->stream) == 0) {
            struct smtpc_result result = {0};
            smtpc_result_local(&result, SMTPC_SENT, "2.0.0", SMTPC_FAIL_NONE,
                               SMTPC_CMD_QUIT, "QUIT sent");
            s->dead = 1;
            smtpc_finish(s, &result);
            break;
        }
        int got = read_one_line(s);
        if (got < 0)
            break;
        if (got > 0)
            moved = 1;
        if (!moved)
            break;
        progress = 1;
    }
    if (progress && s->step != SMTPC_STEP_NONE && s->step != SMTPC_STEP_TLS)
        event_timer_start(s->loop, &s->io_timer,
                          (uint64_t)current_timeout_ms(s));
    if (s->call_tls_fn) {
        s->call_tls_fn = 0;
        event_timer_stop(s->loop, &s->io_timer);
        unwatch(s);
        s->tls_fn(s, s->stream, s->done_ctx); /* may finish or free s */
        return;
    }
    /* Out of rounds with replies already buffered: the fd will not say
     * so, so come back from the loop. */
    if (round == DRIVE_ROUNDS_MAX && s->step != SMTPC_STEP_NONE)
        event_timer_start(s->loop, &s->kick_timer, 0);
    update_watch(s);
    deliver_done(s); /* may free s */
}

/* ---- the handshake steps ---- */

static void send_hello(struct smtpc_session *s)
{
    if (s->settings->lmtp)
        smtpc_command(s, SMTPC_CMD_LHLO, 0, 0, "LHLO %s",
                      s->settings->helo_name);
    else
        smtpc_command(s, SMTPC_CMD_EHLO, 0, 0, "EHLO %s",
                      s->settings->helo_name);
}

static void hello_reply(struct smtpc_session *s, enum smtpc_command command,
                        const struct smtpc_reply *reply)
{
    int cls = smtpc_reply_class(reply);
    switch (command) {
    case SMTPC_CMD_GREETING:
        smtpc_reply_copy(&s->greeting, reply);
        s->greeted = 1;
        if (reply->code / 100 != 2) {
            refused_to_talk(s, reply, command);
            return;
        }
        send_hello(s);
        return;
    case SMTPC_CMD_EHLO:
        if (reply->code / 100 == 2) {
            smtpc_caps_parse(&s->caps, reply);
            s->caps.flags &= ~s->settings->discard_caps;
            finish_ok(s, reply, command);
            return;
        }
        /* Postfix falls back to HELO on any refusal but 421, which says
         * the server is going away. */
        if (reply->code == 421 || s->after_tls || cls == 2) {
            refused_to_talk(s, reply, command);
            return;
        }
        smtpc_caps_clear(&s->caps);
        smtpc_command(s, SMTPC_CMD_HELO, 0, 0, "HELO %s",
                      s->settings->helo_name);
        return;
    case SMTPC_CMD_HELO:
    case SMTPC_CMD_LHLO:
        if (reply->code / 100 == 2) {
            if (command == SMTPC_CMD_LHLO)
                smtpc_caps_parse(&s->caps, reply);
            s->caps.flags &= ~s->settings->discard_caps;
            finish_ok(s, reply, command);
            return;
        }
        refused_to_talk(s, reply, command);
        return;
    default:
        smtpc_unexpected_reply(s, reply, command);
        return;
    }
}

static void starttls_reply(struct smtpc_session *s,
                           const struct smtpc_reply *reply)
{
    if (reply->code != 220) {
        struct smtpc_result result = {0};
        smtpc_result_from_reply(&result, s->peer, reply, SMTPC_CMD_STARTTLS);
        if (result.outcome == SMTPC_SENT) {
            smtpc_result_free(&result);
            smtpc_unexpected_reply(s, reply, SMTPC_CMD_STARTTLS);
            return;
        }
        smtpc_finish(s, &result);
        return;
    }
    /* Bytes after the 220 came before the handshake: a man in the middle
     * may have injected them, so they must never be read as protected
     * (the client side of RFC 3207's warning). */
    if (stream_input_pending(s->stream) > 0) {
        smtpc_session_fail(s, SMTPC_FAIL_PROTOCOL,
                           "data after the STARTTLS reply");
        return;
    }
    s->step = SMTPC_STEP_TLS;
    s->call_tls_fn = 1;
}

static void sasl_fail(struct smtpc_session *s, const struct smtpc_reply *reply)
{
    struct smtpc_result result = {0};
    smtpc_result_from_reply(&result, s->peer, reply, SMTPC_CMD_AUTH);
    if (result.outcome == SMTPC_SENT) {
        smtpc_result_free(&result);
        smtpc_unexpected_reply(s, reply, SMTPC_CMD_AUTH);
        return;
    }
    buf_reset(&result.reason);
    buf_appendf(&result.reason,
                "SASL authentication failed; server %s said: %s", s->peer,
                buf_cstr(&reply->text));
    smtpc_finish(s, &result);
}

/* Writes one SASL response line: base64, "=" for an empty initial
 * response, "*" to cancel. */
static void sasl_respond(struct smtpc_session *s, const struct buf *response,
                         int cancel)
{
    struct buf line = BUF_INIT;
    if (cancel)
        buf_set_str(&line, "*");
    else
        base64_encode(response->data ? response->data : "", response->len,
                      &line);
    smtpc_command(s, SMTPC_CMD_AUTH, 0, 0, "%s", buf_cstr(&line));
    memset(line.data, 0, line.len);
    buf_free(&line);
}

static void auth_reply(struct smtpc_session *s, const struct smtpc_reply *reply)
{
    if (reply->code == 235) {
        finish_ok(s, reply, SMTPC_CMD_AUTH);
        return;
    }
    if (reply->code != 334) {
        sasl_fail(s, reply);
        return;
    }
    /* A challenge: the text after "334 " in base64. */
    const char *text = reply->lines.count ? reply->lines.items[0] : "";
    struct buf challenge = BUF_INIT, response = BUF_INIT;
    int rc = -1;
    buf_init(&challenge);
    buf_init(&response);
    if (base64_decode(text, strlen(text), &challenge) == 0)
        rc =
            s->sasl_step(s->sasl_ctx, challenge.data, challenge.len, &response);
    sasl_respond(s, &response, rc != 0);
    memset(response.data, 0, response.len);
    buf_free(&response);
    buf_free(&challenge);
}

static void rset_reply(struct smtpc_session *s, const struct smtpc_reply *reply)
{
    if (reply->code / 100 == 2) {
        s->dirty = 0;
        finish_ok(s, reply, SMTPC_CMD_RSET);
        return;
    }
    struct smtpc_result result = {0};
    smtpc_result_from_reply(&result, s->peer, reply, SMTPC_CMD_RSET);
    if (result.outcome == SMTPC_SENT)
        result.outcome = SMTPC_DEFERRED;
    s->dead = 1;
    smtpc_finish(s, &result);
}

static void dispatch(struct smtpc_session *s, const struct smtpc_reply *reply)
{
    struct smtpc_pending pending;
    if (pending_pop(s, &pending) < 0) {
        /* A server that refuses the content as it comes ("552 message
         * too big") answers before the end of data. */
        if (s->step == SMTPC_STEP_SEND && s->xfer.body_active &&
            reply->code / 100 >= 4) {
            smtpc_xfer_early_reply(s, reply);
            return;
        }
        /* Nothing was asked: a server going away says 421 unasked. */
        if (reply->code == 421) {
            smtpc_session_fail(s, SMTPC_FAIL_LOST, NULL);
            return;
        }
        smtpc_unexpected_reply(s, reply, SMTPC_CMD_NONE);
        return;
    }
    /* 421: the server is closing the connection, whatever it answers
     * (RFC 5321, section 3.8); the step still gets the reply. */
    if (reply->code == 421)
        s->dead = 1;
    switch (s->step) {
    case SMTPC_STEP_HELLO:
        hello_reply(s, pending.command, reply);
        break;
    case SMTPC_STEP_STARTTLS:
        starttls_reply(s, reply);
        break;
    case SMTPC_STEP_AUTH:
        auth_reply(s, reply);
        break;
    case SMTPC_STEP_SEND:
        smtpc_xfer_reply(s, &pending, reply);
        break;
    case SMTPC_STEP_RSET:
        rset_reply(s, reply);
        break;
    default:
        smtpc_unexpected_reply(s, reply, pending.command);
        break;
    }
}

/* ---- the API ---- */

struct smtpc_session *smtpc_session_new(struct event_loop *loop,
                                        struct stream *stream,
                                        const struct smtpc_settings *settings,
                                        const char *host, const char *addr)
{
    struct smtpc_session *s = xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->stream = stream;
    s->settings = settings;
    struct buf peer = BUF_INIT;
    buf_appendf(&peer, "%s[%s]", host, addr);
    s->peer = buf_detach(&peer);
    smtpc_caps_init(&s->caps);
    smtpc_reply_init(&s->greeting);
    smtpc_reply_init(&s->reply);
    buf_init(&s->line);
    event_timer_init(&s->io_timer, on_timeout, s);
    event_timer_init(&s->finish_timer, on_finish_timer, s);
    event_timer_init(&s->kick_timer, on_kick, s);
    stream_set_nonblocking(stream, 1);
    return s;
}

static void forget_password(struct smtpc_session *s)
{
    if (s->auth_password) {
        memset(s->auth_password, 0, strlen(s->auth_password));
        free(s->auth_password);
        s->auth_password = NULL;
    }
    free(s->auth_user);
    s->auth_user = NULL;
    free(s->auth_mech);
    s->auth_mech = NULL;
}

void smtpc_session_free(struct smtpc_session *s)
{
    if (!s)
        return;
    unwatch(s);
    event_timer_stop(s->loop, &s->io_timer);
    event_timer_stop(s->loop, &s->finish_timer);
    event_timer_stop(s->loop, &s->kick_timer);
    smtpc_xfer_clear(s);
    smtpc_result_free(&s->step_result);
    smtpc_result_free(&s->xfer.failure);
    forget_password(s);
    smtpc_caps_free(&s->caps);
    smtpc_reply_free(&s->greeting);
    smtpc_reply_free(&s->reply);
    buf_free(&s->line);
    free(s->pending);
    free(s->peer);
    free(s);
}

const char *smtpc_session_peer(const struct smtpc_session *s)
{
    return s->peer;
}

const struct smtpc_caps *smtpc_session_caps(const struct smtpc_session *s)
{
    return &s->caps;
}

const struct smtpc_reply *smtpc_session_greeting(const struct smtpc_session *s)
{
    return &s->greeting;
}

int smtpc_session_usable(const struct smtpc_session *s)
{
    return !s->dead && s->step == SMTPC_STEP_NONE && !s->step_finished;
}

unsigned smtpc_session_transactions(const struct smtpc_session *s)
{
    return s->transactions;
}

void smtpc_session_set_tls(struct smtpc_session *s, int encrypted, int verified)
{
    s->tls_encrypted = encrypted ? 1 : 0;
    s->tls_verified = encrypted && verified ? 1 : 0;
}

/* A step refused before it began (dead session): DEFERRED at once. */
static int refuse_if_dead(struct smtpc_session *s, enum smtpc_command command)
{
    if (!s->dead)
        return 0;
    struct smtpc_result result = {0};
    struct buf reason = BUF_INIT;
    buf_appendf(&reason, "connection with %s is no longer usable", s->peer);
    smtpc_result_local(&result, SMTPC_DEFERRED, "4.4.2", SMTPC_FAIL_LOST,
                       command, buf_cstr(&reason));
    buf_free(&reason);
    smtpc_finish(s, &result);
    finish_soon(s);
    return 1;
}

void smtpc_hello(struct smtpc_session *s, smtpc_done_fn done, void *ctx)
{
    step_begin(s, SMTPC_STEP_HELLO, done, ctx);
    if (refuse_if_dead(s, SMTPC_CMD_GREETING))
        return;
    if (!s->greeted)
        smtpc_expect(s, SMTPC_CMD_GREETING, 0, 0);
    else
        send_hello(s);
    step_go(s);
}

void smtpc_starttls(struct smtpc_session *s, smtpc_tls_fn tls_fn,
                    smtpc_done_fn done, void *ctx)
{
    step_begin(s, SMTPC_STEP_STARTTLS, done, ctx);
    if (refuse_if_dead(s, SMTPC_CMD_STARTTLS))
        return;
    s->tls_fn = tls_fn;
    smtpc_command(s, SMTPC_CMD_STARTTLS, 0, 0, "STARTTLS");
    step_go(s);
}

void smtpc_starttls_finish(struct smtpc_session *s, int ok, int verified,
                           const char *why)
{
    if (s->step != SMTPC_STEP_TLS)
        log_panic("smtpc: smtpc_starttls_finish outside a handshake (%s)",
                  s->peer);
    watch(s);
    if (!ok) {
        struct smtpc_result result = {0};
        smtpc_result_local(&result, SMTPC_DEFERRED, "4.7.5", SMTPC_FAIL_TLS,
                           SMTPC_CMD_STARTTLS,
                           "Cannot start TLS: handshake failure");
        (void)why; /* the caller logs the detail */
        s->dead = 1;
        smtpc_finish(s, &result);
        finish_soon(s);
        return;
    }
    smtpc_session_set_tls(s, 1, verified);
    smtpc_caps_clear(&s->caps);
    s->after_tls = 1;
    s->step = SMTPC_STEP_HELLO;
    send_hello(s);
    step_go(s);
}

static int password_step(void *ctx, const char *challenge, size_t len,
                         struct buf *response)
{
    struct smtpc_session *s = ctx;
    (void)len;
    if (str_equal_nocase(s->auth_mech, "PLAIN")) {
        if (challenge != NULL && s->login_stage > 0)
            return -1; /* PLAIN has one round */
        s->login_stage = 1;
        buf_append_char(response, 0);
        buf_append_str(response, s->auth_user);
        buf_append_char(response, 0);
        buf_append_str(response, s->auth_password);
        return 0;
    }
    /* LOGIN: no initial response; then the user name, then the
     * password, whatever the prompts say. */
    if (challenge == NULL)
        return 1;
    switch (s->login_stage++) {
    case 0:
        buf_append_str(response, s->auth_user);
        return 0;
    case 1:
        buf_append_str(response, s->auth_password);
        return 0;
    default:
        return -1;
    }
}

void smtpc_auth(struct smtpc_session *s, const char *mech,
                smtpc_sasl_step_fn step, void *step_ctx, smtpc_done_fn done,
                void *ctx)
{
    step_begin(s, SMTPC_STEP_AUTH, done, ctx);
    if (refuse_if_dead(s, SMTPC_CMD_AUTH))
        return;
    s->sasl_step = step;
    s->sasl_ctx = step_ctx;
    struct buf response = BUF_INIT;
    buf_init(&response);
    int rc = step(step_ctx, NULL, 0, &response);
    if (rc < 0) {
        struct smtpc_result result = {0};
        struct buf reason = BUF_INIT;
        buf_appendf(&reason,
                    "SASL authentication failed; cannot authenticate to "
                    "server %s: mechanism %s failed to start",
                    s->peer, mech);
        smtpc_result_local(&result, SMTPC_DEFERRED, "4.7.0", SMTPC_FAIL_POLICY,
                           SMTPC_CMD_AUTH, buf_cstr(&reason));
        buf_free(&reason);
        buf_free(&response);
        smtpc_finish(s, &result);
        finish_soon(s);
        return;
    }
    if (rc == 1) {
        smtpc_command(s, SMTPC_CMD_AUTH, 0, 0, "AUTH %s", mech);
    } else {
        struct buf line = BUF_INIT;
        buf_appendf(&line, "AUTH %s ", mech);
        if (response.len == 0)
            buf_append_char(&line, '=');
        else
            base64_encode(response.data, response.len, &line);
        smtpc_command(s, SMTPC_CMD_AUTH, 0, 0, "%s", buf_cstr(&line));
        memset(line.data, 0, line.len);
        buf_free(&line);
    }
    memset(response.data, 0, response.len);
    buf_free(&response);
    step_go(s);
}

void smtpc_auth_password(struct smtpc_session *s, const char *mech,
                         const char *user, const char *password,
                         smtpc_done_fn done, void *ctx)
{
    forget_password(s);
    if (!str_equal_nocase(mech, "PLAIN") && !str_equal_nocase(mech, "LOGIN")) {
        step_begin(s, SMTPC_STEP_AUTH, done, ctx);
        struct smtpc_result result = {0};
        struct buf reason = BUF_INIT;
        buf_appendf(&reason,
                    "SASL authentication failed; cannot authenticate to "
                    "server %s: no mechanism available",
                    s->peer);
        smtpc_result_local(&result, SMTPC_BOUNCED, "5.7.0", SMTPC_FAIL_POLICY,
                           SMTPC_CMD_AUTH, buf_cstr(&reason));
        buf_free(&reason);
        smtpc_finish(s, &result);
        finish_soon(s);
        return;
    }
    s->auth_mech = xstrdup(mech);
    for (char *p = s->auth_mech; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    s->auth_user = xstrdup(user);
    s->auth_password = xstrdup(password);
    s->login_stage = 0;
    smtpc_auth(s, s->auth_mech, password_step, s, done, ctx);
}

void smtpc_rset(struct smtpc_session *s, smtpc_done_fn done, void *ctx)
{
    step_begin(s, SMTPC_STEP_RSET, done, ctx);
    if (refuse_if_dead(s, SMTPC_CMD_RSET))
        return;
    smtpc_command(s, SMTPC_CMD_RSET, 0, 0, "RSET");
    step_go(s);
}

void smtpc_rset_before_next(struct smtpc_session *s)
{
    /* smtpc_send sends RSET first while the session is dirty, in the
     * same pipeline as MAIL when the server offers PIPELINING. */
    s->dirty = 1;
}

void smtpc_quit(struct smtpc_session *s, smtpc_done_fn done, void *ctx)
{
    step_begin(s, SMTPC_STEP_QUIT, done, ctx);
    if (refuse_if_dead(s, SMTPC_CMD_QUIT))
        return;
    stream_puts(s->stream, "QUIT\r\n");
    step_go(s);
}

/* ---- for smtpc_xfer.c ---- */

void smtpc_step_begin(struct smtpc_session *s, smtpc_done_fn done, void *ctx)
{
    step_begin(s, SMTPC_STEP_SEND, done, ctx);
}

int smtpc_step_refuse_dead(struct smtpc_session *s)
{
    return refuse_if_dead(s, SMTPC_CMD_MAIL);
}

void smtpc_step_finish_soon(struct smtpc_session *s)
{
    finish_soon(s);
}

void smtpc_step_go(struct smtpc_session *s)
{
    step_go(s);
}
