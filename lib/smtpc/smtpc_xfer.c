/* smtpc_xfer.c: one message transaction on a client session (see
 * smtpc_session.h): the checks before MAIL, the envelope (pipelined
 * within a window when the server offers PIPELINING, one command at a
 * time otherwise), the content as DATA (dot-stuffed, CRLF line ends) or
 * as BDAT chunks, and each recipient's result from the replies.
 *
 * Replies come back in the order the commands went out, so each one is
 * matched to its command through the session's queue; a RCPT reply goes
 * to the oldest recipient whose RCPT is unanswered, and in LMTP each
 * reply after the end of data to the next recipient RCPT accepted
 * (RFC 2033, section 4.2). */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/xtext.h"
#include "smtpc/smtpc_internal.h"

/* Bytes asked of the content callback at a time. */
#define CONTENT_READ_SIZE (16 * 1024)
/* Content bytes kept in the output buffer before waiting for the peer. */
#define OUTPUT_HIGH_WATER (64 * 1024)
/* BDAT chunks awaiting replies at once under PIPELINING, once every RCPT
 * is answered: a chunk per round trip would cap a large message at
 * chunk size / RTT. */
#define BDAT_WINDOW 4

/* 1 when str holds a control character: it would end the command line
 * early and let the rest be read as another command. */
static int has_control(const char *str)
{
    for (const unsigned char *p = (const unsigned char *)str; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

/* ---- recipients' results ---- */

static void rcpt_decide(struct smtpc_session *s, size_t index,
                        const struct smtpc_result *result)
{
    struct smtpc_rcpt *rcpt = &s->xfer.msg->rcpts[index];
    smtpc_result_free(&rcpt->result);
    smtpc_result_copy(&rcpt->result, result);
    s->xfer.rcpt_state[index] = SMTPC_RCPT_DECIDED;
}

/* Gives result to every recipient in state (or, with state -1, to every
 * recipient not decided yet). */
static void rcpts_decide_all(struct smtpc_session *s, int state,
                             const struct smtpc_result *result)
{
    for (size_t i = 0; i < s->xfer.msg->rcpt_count; i++) {
        enum smtpc_rcpt_state st = s->xfer.rcpt_state[i];
        if (state < 0 ? st != SMTPC_RCPT_DECIDED : (int)st == state)
            rcpt_decide(s, i, result);
    }
}

static void remember_failure(struct smtpc_session *s,
                             const struct smtpc_result *result)
{
    if (s->xfer.failure.outcome == SMTPC_PENDING)
        smtpc_result_copy(&s->xfer.failure, result);
}

void smtpc_xfer_clear(struct smtpc_session *s)
{
    struct smtpc_xfer *x = &s->xfer;
    free(x->rcpt_state);
    buf_free(&x->chunk);
    smtpc_result_free(&x->failure);
    memset(x, 0, sizeof(*x));
}

void smtpc_xfer_abort(struct smtpc_session *s, struct smtpc_result *result)
{
    if (!s->xfer.msg)
        return;
    rcpts_decide_all(s, -1, result);
}

/* Ends the transaction: the result of the whole (see smtpc_send). */
static void complete(struct smtpc_session *s)
{
    struct smtpc_xfer *x = &s->xfer;
    struct smtpc_message *msg = x->msg;
    struct smtpc_result result = {0};

    /* A recipient RCPT accepted but nothing decided (cannot happen with
     * a sane server): defer it rather than lose it. */
    if (x->failure.outcome == SMTPC_PENDING) {
        struct smtpc_result unknown = {0};
        struct buf reason = BUF_INIT;
        buf_appendf(&reason, "conversation with %s ended without a reply",
                    s->peer);
        smtpc_result_local(&unknown, SMTPC_DEFERRED, "4.5.0",
                           SMTPC_FAIL_PROTOCOL, SMTPC_CMD_DATA_END,
                           buf_cstr(&reason));
        buf_free(&reason);
        rcpts_decide_all(s, SMTPC_RCPT_ACCEPTED, &unknown);
        rcpts_decide_all(s, SMTPC_RCPT_SENT, &unknown);
        smtpc_result_free(&unknown);
    } else {
        rcpts_decide_all(s, -1, &x->failure);
    }
    s->dirty = x->mail_state == 1 && !x->end_reply_seen;

    const struct smtpc_result *pick = NULL;
    for (size_t i = 0; i < msg->rcpt_count && !pick; i++)
        if (msg->rcpts[i].result.outcome == SMTPC_SENT)
            pick = &msg->rcpts[i].result;
    if (!pick && x->failure.outcome != SMTPC_PENDING)
        pick = &x->failure;
    for (size_t i = msg->rcpt_count; i-- > 0 && !pick;)
        if (msg->rcpts[i].result.outcome == SMTPC_DEFERRED)
            pick = &msg->rcpts[i].result;
    if (!pick && msg->rcpt_count > 0)
        pick = &msg->rcpts[msg->rcpt_count - 1].result;
    if (pick)
        smtpc_result_copy(&result, pick);
    else
        smtpc_result_local(&result, SMTPC_BOUNCED, "5.5.1", SMTPC_FAIL_POLICY,
                           SMTPC_CMD_NONE, "no recipients");
    smtpc_finish(s, &result);
}

static void maybe_complete(struct smtpc_session *s)
{
    struct smtpc_xfer *x = &s->xfer;
    if (s->step != SMTPC_STEP_SEND || s->pending_count > 0 || x->body_active)
        return;
    if (x->mail_state == 0 || x->data_skipped || x->data_done)
        complete(s);
}

/* ---- the envelope ---- */

static void write_mail(struct smtpc_session *s)
{
    struct smtpc_xfer *x = &s->xfer;
    const struct smtpc_message *msg = x->msg;
    unsigned caps = s->caps.flags;
    struct buf params = BUF_INIT;
    buf_init(&params);
    /* The converted content is larger than msg->size, by an amount not
     * known before it is sent: no SIZE= then, as Postfix. */
    if ((caps & SMTPC_CAP_SIZE) && msg->size >= 0 && !msg->used_7bit)
        buf_appendf(&params, " SIZE=%lld", msg->size);
    if ((caps & SMTPC_CAP_8BITMIME) && msg->body == SMTPC_BODY_7BIT)
        buf_append_str(&params, " BODY=7BIT");
    else if ((caps & SMTPC_CAP_8BITMIME) && msg->body == SMTPC_BODY_8BITMIME)
        buf_append_str(&params, " BODY=8BITMIME");
    if (msg->smtputf8 && (caps & SMTPC_CAP_SMTPUTF8))
        buf_append_str(&params, " SMTPUTF8");
    if (caps & SMTPC_CAP_DSN) {
        if (msg->ret == SMTPC_RET_FULL)
            buf_append_str(&params, " RET=FULL");
        else if (msg->ret == SMTPC_RET_HDRS)
            buf_append_str(&params, " RET=HDRS");
        if (msg->envid && *msg->envid) {
            buf_append_str(&params, " ENVID=");
            xtext_encode(msg->envid, strlen(msg->envid), &params);
        }
    }
    if (msg->requiretls)
        buf_append_str(&params, " REQUIRETLS");
    smtpc_command(s, SMTPC_CMD_MAIL, 0, 0, "MAIL FROM:<%s>%s", msg->sender,
                  buf_cstr(&params));
    buf_free(&params);
    x->mail_sent = 1;
}

static void append_notify(struct buf *out, unsigned notify)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{DSN_NOTIFY_SUCCESS, "SUCCESS"},
                 {DSN_NOTIFY_FAILURE, "FAILURE"},
                 {DSN_NOTIFY_DELAY, "DELAY"}};
    if (notify & DSN_NOTIFY_NEVER) {
        buf_append_str(out, " NOTIFY=NEVER");
        return;
    }
    const char *sep = " NOTIFY=";
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (notify & names[i].bit) {
            buf_append_str(out, sep);
            buf_append_str(out, names[i].name);
            sep = ",";
        }
}

/* ORCPT=type;xtext from "type;address"; nothing when the type is not a
 * plain atom (it goes on the wire as is). */
static void append_orcpt(struct buf *out, const char *orcpt)
{
    const char *semi = strchr(orcpt, ';');
    if (!semi || semi == orcpt)
        return;
    for (const char *p = orcpt; p < semi; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == '=' || *p == '+')
            return;
    buf_append_str(out, " ORCPT=");
    buf_append(out, orcpt, (size_t)(semi - orcpt + 1));
    xtext_encode(semi + 1, strlen(semi + 1), out);
}

static void write_rcpt(struct smtpc_session *s, size_t index)
{
    const struct smtpc_rcpt *rcpt = &s->xfer.msg->rcpts[index];
    struct buf params = BUF_INIT;
    buf_init(&params);
    if (s->caps.flags & SMTPC_CAP_DSN) {
        if (rcpt->notify)
            append_notify(&params, rcpt->notify);
        if (rcpt->orcpt && *rcpt->orcpt)
            append_orcpt(&params, rcpt->orcpt);
    }
    smtpc_command(s, SMTPC_CMD_RCPT, 0, 0, "RCPT TO:<%s>%s", rcpt->address,
                  buf_cstr(&params));
    buf_free(&params);
    s->xfer.rcpt_state[index] = SMTPC_RCPT_SENT;
    s->xfer.rcpts_sent++;
}

/* ---- the content ---- */

/* Appends content bytes in wire form: CRLF line ends (a bare LF gets its
 * CR; CRLF stays), with stuff a '.' doubled at the start of a line
 * (RFC 5321, section 4.5.2), and a line longer than limit (0: no limit)
 * broken with CRLF and a space, as Postfix's smtp_line_length_limit
 * does. State carries across calls. */
static void wire_form(struct smtpc_xfer *x, const char *in, size_t len,
                      int stuff, size_t limit, struct buf *out)
{
    size_t i = 0;
    if (limit == 1)
        limit = 2; /* room for one byte after the continuation's space */
    while (i < len) {
        if (x->at_line_start && stuff && in[i] == '.') {
            buf_append_char(out, '.');
            x->line_len++;
        }
        const char *nl = memchr(in + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - in) : len;
        while (end > i) {
            /* The CR of a CRLF does not count toward the length. */
            size_t text = end - i - (nl && in[end - 1] == '\r' ? 1 : 0);
            size_t take = end - i;
            if (limit > 0 && x->line_len + text > limit) {
                take = x->line_len < limit ? limit - x->line_len : 0;
                buf_append(out, in + i, take);
                buf_append(out, "\r\n ", 3);
                x->line_len = 1;
                x->prev_cr = 0;
                x->at_line_start = 0;
                i += take;
                continue;
            }
            buf_append(out, in + i, take);
            x->line_len += take;
            x->prev_cr = in[end - 1] == '\r';
            x->at_line_start = 0;
            i = end;
        }
        if (!nl)
            break;
        if (!x->prev_cr)
            buf_append_char(out, '\r');
        buf_append_char(out, '\n');
        x->at_line_start = 1;
        x->prev_cr = 0;
        x->line_len = 0;
        i = end + 1;
    }
}

/* Ends the wire form with a line end when the content lacked one. */
static void wire_form_end(struct smtpc_xfer *x, struct buf *out)
{
    if (x->prev_cr)
        buf_append_char(out, '\n');
    else if (!x->at_line_start)
        buf_append(out, "\r\n", 2);
    x->at_line_start = 1;
    x->prev_cr = 0;
    x->line_len = 0;
}

/* Reads the next piece of content into x->chunk in wire form. Returns 1
 * with bytes or at the end (content_eof), -1 when the callback failed
 * (the session has failed then). */
static int read_content(struct smtpc_session *s, int stuff)
{
    struct smtpc_xfer *x = &s->xfer;
    struct buf raw = BUF_INIT, why = BUF_INIT;
    buf_init(&why);
    buf_reserve(&raw, CONTENT_READ_SIZE);
    ssize_t got = x->content->read(x->content->read_ctx, raw.data,
                                   CONTENT_READ_SIZE, &why);
    if (got < 0) {
        buf_free(&raw);
        smtpc_session_fail(s, SMTPC_FAIL_CONTENT, buf_cstr(&why));
        buf_free(&why);
        return -1;
    }
    buf_free(&why);
    if (got == 0) {
        x->content_eof = 1;
        wire_form_end(x, &x->chunk);
    } else {
        wire_form(x, raw.data, (size_t)got, stuff,
                  s->settings->line_length_limit, &x->chunk);
    }
    buf_free(&raw);
    return 1;
}

/* DATA content: writes while the output buffer has room. */
static int write_body(struct smtpc_session *s)
{
    struct smtpc_xfer *x = &s->xfer;
    int wrote = 0;
    while (stream_output_pending(s->stream) < OUTPUT_HIGH_WATER) {
        buf_reset(&x->chunk);
        if (read_content(s, 1) < 0)
            return 0;
        stream_write(s->stream, x->chunk.data, x->chunk.len);
        wrote = 1;
        if (x->content_eof) {
            stream_write(s->stream, ".\r\n", 3);
            x->body_active = 0;
            x->data_done = 1;
            smtpc_expect(s, SMTPC_CMD_DATA_END, 0, 0);
            break;
        }
    }
    buf_reset(&x->chunk);
    return wrote;
}

/* Writes the next BDAT chunk (the last one with LAST). */
static void write_bdat_chunk(struct smtpc_session *s)
{
    struct smtpc_xfer *x = &s->xfer;
    size_t chunk_size = s->settings->bdat_chunk_size
                            ? s->settings->bdat_chunk_size
                            : SMTPC_BDAT_CHUNK_DEFAULT;
    buf_reset(&x->chunk);
    while (x->chunk.len < chunk_size && !x->content_eof)
        if (read_content(s, 0) < 0)
            return;
    int last = x->content_eof;
    stream_printf(s->stream, "BDAT %zu%s\r\n", x->chunk.len,
                  last ? " LAST" : "");
    stream_write(s->stream, x->chunk.data, x->chunk.len);
    buf_reset(&x->chunk);
    smtpc_expect(s, SMTPC_CMD_BDAT, last, 0);
    x->bdat_in_flight++;
    if (last)
        x->data_done = 1;
}

static void start_data(struct smtpc_session *s)
{
    s->xfer.data_sent = 1;
    if (s->xfer.use_bdat)
        write_bdat_chunk(s);
    else
        smtpc_command(s, SMTPC_CMD_DATA, 0, 0, "DATA");
}

int smtpc_xfer_produce(struct smtpc_session *s)
{
    struct smtpc_xfer *x = &s->xfer;
    int wrote = 0;
    if (x->body_active)
        return write_body(s);
    /* BDAT under PIPELINING: chunks follow each other without waiting,
     * once the recipients are known to be worth it. */
    while (s->step == SMTPC_STEP_SEND && x->use_bdat && x->pipelining &&
           x->data_sent && !x->data_done && !x->data_skipped &&
           x->mail_state == 1 && x->accepted > 0 &&
           x->rcpt_replies == x->rcpts_sent &&
           x->bdat_in_flight < BDAT_WINDOW &&
           stream_output_pending(s->stream) < OUTPUT_HIGH_WATER) {
        write_bdat_chunk(s);
        wrote = 1;
    }
    size_t window = x->pipelining && s->settings->pipeline_limit > 0
                        ? (size_t)s->settings->pipeline_limit
                        : 1;
    while (s->step == SMTPC_STEP_SEND && s->pending_count < window) {
        if (!x->mail_sent) {
            write_mail(s);
            wrote = 1;
            continue;
        }
        if (x->mail_state == 0)
            break;
        if (x->next_rcpt < x->msg->rcpt_count) {
            size_t i = x->next_rcpt++;
            if (x->rcpt_state[i] == SMTPC_RCPT_UNSENT) {
                write_rcpt(s, i);
                wrote = 1;
            }
            continue;
        }
        if (x->data_sent || x->data_skipped)
            break;
        /* Lock-step: all replies are in, so DATA only for a recipient
         * accepted. Pipelined: DATA ends the batch (RFC 2920); the
         * server refuses it when no RCPT succeeded. */
        if (x->pipelining ? x->rcpts_sent == 0 : x->accepted == 0) {
            x->data_skipped = 1;
            break;
        }
        start_data(s);
        wrote = 1;
        break;
    }
    maybe_complete(s);
    return wrote;
}

/* ---- replies ---- */

/* The oldest recipient whose RCPT is unanswered, or -1. */
static long rcpt_awaiting(const struct smtpc_xfer *x)
{
    for (size_t i = 0; i < x->msg->rcpt_count; i++)
        if (x->rcpt_state[i] == SMTPC_RCPT_SENT)
            return (long)i;
    return -1;
}

/* A reply to the end of data (DATA's "." or BDAT LAST). */
static void end_reply(struct smtpc_session *s,
                      const struct smtpc_pending *pending,
                      const struct smtpc_reply *reply)
{
    struct smtpc_xfer *x = &s->xfer;
    struct smtpc_result result = {0};
    if (reply->code / 100 == 3) {
        smtpc_unexpected_reply(s, reply, pending->command);
        return;
    }
    if (!x->end_reply_seen)
        s->transactions++;
    x->end_reply_seen = 1;
    enum smtpc_command command = pending->command == SMTPC_CMD_BDAT
                                     ? SMTPC_CMD_BDAT
                                     : SMTPC_CMD_DATA_END;
    smtpc_result_from_reply(&result, s->peer, reply, command);
    if (!s->settings->lmtp) {
        rcpts_decide_all(s, SMTPC_RCPT_ACCEPTED, &result);
    } else {
        /* LMTP: this reply is the next accepted recipient's; expect one
         * more while accepted recipients remain. */
        while (x->lmtp_cursor < x->msg->rcpt_count &&
               x->rcpt_state[x->lmtp_cursor] != SMTPC_RCPT_ACCEPTED)
            x->lmtp_cursor++;
        if (x->lmtp_cursor < x->msg->rcpt_count)
            rcpt_decide(s, x->lmtp_cursor++, &result);
        for (size_t i = x->lmtp_cursor; i < x->msg->rcpt_count; i++)
            if (x->rcpt_state[i] == SMTPC_RCPT_ACCEPTED) {
                smtpc_expect(s, pending->command, pending->last_chunk, 0);
                break;
            }
    }
    smtpc_result_free(&result);
}

/* A refusal (4xx/5xx) of DATA or of a BDAT chunk: every recipient still
 * waiting gets it. */
static void data_refused(struct smtpc_session *s,
                         const struct smtpc_reply *reply,
                         enum smtpc_command command)
{
    struct smtpc_result result = {0};
    smtpc_result_from_reply(&result, s->peer, reply, command);
    if (s->xfer.mail_state == 1 && s->xfer.accepted > 0) {
        rcpts_decide_all(s, SMTPC_RCPT_ACCEPTED, &result);
        remember_failure(s, &result);
    }
    smtpc_result_free(&result);
    s->xfer.data_skipped = 1;
}

void smtpc_xfer_early_reply(struct smtpc_session *s,
                            const struct smtpc_reply *reply)
{
    struct smtpc_result result = {0};
    smtpc_result_from_reply(&result, s->peer, reply, SMTPC_CMD_DATA_END);
    rcpts_decide_all(s, SMTPC_RCPT_ACCEPTED, &result);
    remember_failure(s, &result);
    smtpc_result_free(&result);
    s->xfer.body_active = 0;
    s->xfer.data_skipped = 1;
    s->pending_count = 0;
    s->dead = 1; /* the rest of the content would be read as commands */
    complete(s);
}

static void mail_reply(struct smtpc_session *s, const struct smtpc_reply *reply)
{
    if (reply->code / 100 == 2) {
        s->xfer.mail_state = 1;
        return;
    }
    if (reply->code / 100 == 3) {
        smtpc_unexpected_reply(s, reply, SMTPC_CMD_MAIL);
        return;
    }
    struct smtpc_result result = {0};
    smtpc_result_from_reply(&result, s->peer, reply, SMTPC_CMD_MAIL);
    s->xfer.mail_state = 0;
    rcpts_decide_all(s, -1, &result);
    remember_failure(s, &result);
    smtpc_result_free(&result);
}

static void rcpt_reply(struct smtpc_session *s, const struct smtpc_reply *reply)
{
    struct smtpc_xfer *x = &s->xfer;
    x->rcpt_replies++;
    long index = rcpt_awaiting(x);
    if (x->mail_state != 1 || index < 0)
        return; /* MAIL was refused: every recipient has its result */
    if (reply->code / 100 == 2) {
        x->rcpt_state[index] = SMTPC_RCPT_ACCEPTED;
        x->accepted++;
        return;
    }
    if (reply->code / 100 == 3) {
        smtpc_unexpected_reply(s, reply, SMTPC_CMD_RCPT);
        return;
    }
    struct smtpc_result result = {0};
    smtpc_result_from_reply(&result, s->peer, reply, SMTPC_CMD_RCPT);
    rcpt_decide(s, (size_t)index, &result);
    smtpc_result_free(&result);
}

static void data_reply(struct smtpc_session *s, const struct smtpc_reply *reply)
{
    struct smtpc_xfer *x = &s->xfer;
    if (reply->code / 100 == 3) {
        if (x->mail_state == 1 && x->accepted > 0) {
            x->body_active = 1;
        } else {
            /* 354 with nobody to send to (a pipelining server that did
             * not refuse DATA): end the empty message at once. */
            stream_write(s->stream, ".\r\n", 3);
            smtpc_expect(s, SMTPC_CMD_DATA_END, 0, 1);
            x->data_done = 1;
        }
        return;
    }
    if (reply->code / 100 == 2) {
        smtpc_unexpected_reply(s, reply, SMTPC_CMD_DATA);
        return;
    }
    data_refused(s, reply, SMTPC_CMD_DATA);
}

static void bdat_reply(struct smtpc_session *s,
                       const struct smtpc_pending *pending,
                       const struct smtpc_reply *reply)
{
    struct smtpc_xfer *x = &s->xfer;
    if (x->bdat_in_flight > 0)
        x->bdat_in_flight--;
    if (x->mail_state != 1 || x->accepted == 0 || x->data_skipped) {
        x->data_skipped = 1; /* the refusal of a pipelined chunk */
        return;
    }
    if (pending->last_chunk) {
        end_reply(s, pending, reply);
        return;
    }
    if (reply->code / 100 == 2) {
        if (!x->pipelining) /* else smtpc_xfer_produce streams them */
            write_bdat_chunk(s);
        return;
    }
    if (reply->code / 100 == 3) {
        smtpc_unexpected_reply(s, reply, SMTPC_CMD_BDAT);
        return;
    }
    data_refused(s, reply, SMTPC_CMD_BDAT);
}

static void rset_reply(struct smtpc_session *s, const struct smtpc_reply *reply)
{
    s->xfer.rset_first = 0;
    if (reply->code / 100 == 2) {
        s->dirty = 0;
        return;
    }
    struct smtpc_result result = {0};
    smtpc_result_from_reply(&result, s->peer, reply, SMTPC_CMD_RSET);
    if (result.outcome != SMTPC_DEFERRED) {
        result.outcome = SMTPC_DEFERRED;
        result.status[0] = '4';
    }
    s->dead = 1;
    s->pending_count = 0;
    smtpc_xfer_abort(s, &result);
    smtpc_finish(s, &result);
}

void smtpc_xfer_reply(struct smtpc_session *s,
                      const struct smtpc_pending *pending,
                      const struct smtpc_reply *reply)
{
    if (pending->ignore)
        ;
    else
        switch (pending->command) {
        case SMTPC_CMD_RSET:
            rset_reply(s, reply);
            break;
        case SMTPC_CMD_MAIL:
            mail_reply(s, reply);
            break;
        case SMTPC_CMD_RCPT:
            rcpt_reply(s, reply);
            break;
        case SMTPC_CMD_DATA:
            data_reply(s, reply);
            break;
        case SMTPC_CMD_DATA_END:
            if (s->xfer.mail_state == 1 && s->xfer.accepted > 0)
                end_reply(s, pending, reply);
            break;
        case SMTPC_CMD_BDAT:
            bdat_reply(s, pending, reply);
            break;
        default:
            smtpc_unexpected_reply(s, reply, pending->command);
            break;
        }
    if (s->step == SMTPC_STEP_SEND)
        smtpc_xfer_produce(s);
}

/* ---- starting ---- */

/* Ends the transaction before MAIL: every recipient gets the outcome. */
static void refuse_all(struct smtpc_session *s, enum smtpc_outcome outcome,
                       const char *status, enum smtpc_failure failure,
                       const char *reason)
{
    struct smtpc_result result = {0};
    smtpc_result_local(&result, outcome, status, failure, SMTPC_CMD_NONE,
                       reason);
    rcpts_decide_all(s, -1, &result);
    smtpc_finish(s, &result);
    smtpc_step_finish_soon(s);
}

/* The checks before MAIL; 1 when the transaction ended. */
static int refused_before_mail(struct smtpc_session *s)
{
    const struct smtpc_message *msg = s->xfer.msg;
    struct buf reason = BUF_INIT;
    int refused = 1;
    buf_init(&reason);
    if (s->dead) {
        buf_appendf(&reason, "connection with %s is no longer usable", s->peer);
        refuse_all(s, SMTPC_DEFERRED, "4.4.2", SMTPC_FAIL_LOST,
                   buf_cstr(&reason));
    } else if (has_control(msg->sender)) {
        buf_set_str(&reason, "bad sender address syntax");
        refuse_all(s, SMTPC_BOUNCED, "5.1.7", SMTPC_FAIL_POLICY,
                   buf_cstr(&reason));
    } else if ((s->caps.flags & SMTPC_CAP_SIZE) && s->caps.size_limit > 0 &&
               msg->size > s->caps.size_limit) {
        buf_appendf(&reason,
                    "message size %lld exceeds size limit %lld of "
                    "server %s",
                    msg->size, s->caps.size_limit, s->peer);
        refuse_all(s, SMTPC_BOUNCED, "5.3.4", SMTPC_FAIL_POLICY,
                   buf_cstr(&reason));
    } else if (msg->smtputf8 && !(s->caps.flags & SMTPC_CAP_SMTPUTF8)) {
        buf_appendf(&reason,
                    "SMTPUTF8 is required, but was not offered by host %s",
                    s->peer);
        refuse_all(s, SMTPC_BOUNCED, "5.6.7", SMTPC_FAIL_POLICY,
                   buf_cstr(&reason));
    } else if (msg->requiretls && !(s->caps.flags & SMTPC_CAP_REQUIRETLS)) {
        buf_appendf(&reason,
                    "REQUIRETLS is required, but was not offered by host %s",
                    s->peer);
        refuse_all(s, SMTPC_BOUNCED, "5.7.30", SMTPC_FAIL_POLICY,
                   buf_cstr(&reason));
    } else if (msg->requiretls && !s->tls_verified) {
        buf_appendf(&reason,
                    "REQUIRETLS is required, but the TLS connection to %s "
                    "is not verified",
                    s->peer);
        refuse_all(s, SMTPC_BOUNCED, "5.7.30", SMTPC_FAIL_POLICY,
                   buf_cstr(&reason));
    } else {
        refused = 0;
    }
    buf_free(&reason);
    return refused;
}

void smtpc_send(struct smtpc_session *s, struct smtpc_message *msg,
                smtpc_done_fn done, void *ctx)
{
    smtpc_step_begin(s, done, ctx);
    struct smtpc_xfer *x = &s->xfer;
    smtpc_xfer_clear(s);
    x->msg = msg;
    x->rcpt_state =
        xcalloc(msg->rcpt_count ? msg->rcpt_count : 1, sizeof(*x->rcpt_state));
    x->mail_state = -1;
    x->at_line_start = 1;
    buf_init(&x->chunk);
    msg->used_7bit = 0;
    for (size_t i = 0; i < msg->rcpt_count; i++)
        smtpc_result_free(&msg->rcpts[i].result);
    if (refused_before_mail(s))
        return;

    /* A recipient that would break the command line is refused here. */
    size_t valid = 0;
    for (size_t i = 0; i < msg->rcpt_count; i++) {
        if (!has_control(msg->rcpts[i].address) && msg->rcpts[i].address[0]) {
            valid++;
            continue;
        }
        struct smtpc_result bad = {0};
        smtpc_result_local(&bad, SMTPC_BOUNCED, "5.1.3", SMTPC_FAIL_POLICY,
                           SMTPC_CMD_NONE, "bad recipient address syntax");
        rcpt_decide(s, i, &bad);
        smtpc_result_free(&bad);
    }
    if (valid == 0) {
        complete(s);
        smtpc_step_finish_soon(s);
        return;
    }

    x->pipelining = (s->caps.flags & SMTPC_CAP_PIPELINING) != 0;
    x->use_bdat =
        s->settings->bdat_enable && (s->caps.flags & SMTPC_CAP_CHUNKING) != 0;
    x->content = &msg->content;
    if (msg->body == SMTPC_BODY_8BITMIME &&
        !(s->caps.flags & SMTPC_CAP_8BITMIME) && msg->content_7bit.read) {
        x->content = &msg->content_7bit;
        msg->used_7bit = 1;
    }
    if (s->dirty) {
        smtpc_command(s, SMTPC_CMD_RSET, 0, 0, "RSET");
        x->rset_first = 1;
    }
    smtpc_xfer_produce(s);
    smtpc_step_go(s);
}
