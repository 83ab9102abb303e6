/* lmtpd_data.c: DATA for LMTP (RFC 2033 section 4.2): the content is read
 * once into the spool (lib/smtp/smtp_data scans it: dot-stuffing, the
 * end of data, with its anti-smuggling rule), then written into each
 * accepted recipient's mailbox by the virtual agent's own code
 * (lib/delivery/virtual_mailbox.h), and then one reply per recipient
 * goes out, in RCPT order.
 *
 * BDAT (RFC 3030) chunks go into the same spool as they come (no
 * dot-stuffing to undo; CR LF becomes LF in the mailbox as for DATA),
 * and the LAST one ends the message as the final dot does.
 *
 * A 250 for a recipient means that its copy and the copy's directory
 * entry are on disk: the Maildir code fsyncs the file and new/ before
 * the outcome is known (for several recipients, the syncs are shared:
 * lib/delivery/agent_mailbox.h), and replies wait for every outcome.
 *
 * The copy is the message as the client sent it, after our Received:
 * and below the Return-Path: and Delivered-To: that the mailbox code
 * puts first, as Dovecot's LMTP stores it. */
#include "lmtpd.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "delivery/agent.h"
#include "delivery/agent_mailbox.h"
#include "delivery/deliver_req.h"
#include "delivery/virtual_mailbox.h"
#include "message/address.h"
#include "message/bounce_msg.h"
#include "queue/qid.h"
#include "smtp/smtp_data.h"

/* Most of one line the scanner holds back waiting for its end. */
#define DATA_PIECE 4096

/* Appends text for a header line: printable ASCII (and UTF-8 bytes), a
 * control character or a space shown as '?' when no_space is set. */
static void append_header_text(struct buf *out, const char *text, int no_space)
{
    for (; *text; text++) {
        unsigned char c = (unsigned char)*text;
        buf_append_char(out, c < 0x20 || c == 0x7f || (no_space && c == ' ')
                                 ? '?'
                                 : (char)c);
    }
}

/* Our Received:, in the shape of Dovecot's LMTP:
 *   Received: from LHLO-NAME ([ADDRESS])
 *           by MYHOSTNAME (Postern) with LMTP id ID
 *           (envelope-from <SENDER>)
 *           for <RCPT>; DATE
 * "([ADDRESS])" only over TCP; "for" only with one recipient (the copy
 * is the same for every recipient). */
static void received_header(struct lmtpd_session *s, const char *id, time_t now,
                            struct buf *out)
{
    buf_append_str(out, "Received: from ");
    append_header_text(out, s->lhlo ? s->lhlo : "unknown", 1);
    if (s->addr[0])
        buf_appendf(out, " ([%s])", s->addr);
    buf_appendf(out, "\n\tby %s (%s) with LMTP id %s", lmtpd_var.myhostname,
                lmtpd_var.mail_name, id);
    struct buf ext = BUF_INIT;
    address_externalize(s->sender, &ext);
    buf_append_str(out, "\n\t(envelope-from <");
    append_header_text(out, buf_cstr(&ext), 0);
    buf_append_str(out, ">)");
    if (s->rcpt_count == 1) {
        buf_append_str(out, "\n\tfor <");
        append_header_text(out, s->rcpts[0].original, 0);
        buf_append_str(out, ">");
    }
    buf_append_str(out, "; ");
    bounce_format_date(out, now);
    buf_append_str(out, "\n");
    buf_free(&ext);
}

/* The start of the content (DATA, or the first BDAT): an id, the time,
 * our Received:. */
static void content_begin(struct lmtpd_session *s)
{
    if (s->content_started)
        return;
    s->content_started = 1;
    qid_new(s->id, 0);
    gettimeofday(&s->arrival, NULL);
    struct buf rcv = BUF_INIT;
    received_header(s, s->id, s->arrival.tv_sec, &rcv);
    lmtpd_spool_append(&s->spool, rcv.data, rcv.len);
    s->content_size = rcv.len;
    buf_free(&rcv);
}

/* Message bytes; past message_size_limit they are dropped. */
static void content_append(struct lmtpd_session *s, const void *data,
                           size_t len)
{
    s->content_size += len;
    if (lmtpd_var.message_size_limit > 0 &&
        s->content_size > (unsigned long long)lmtpd_var.message_size_limit)
        s->too_big = 1;
    if (!s->too_big)
        lmtpd_spool_append(&s->spool, data, len);
}

/* Waits for more input, sending first what the client waits for (the
 * 354, a chunk's 250). 0, or -1 when the connection is lost (logged). */
static int need_input(struct lmtpd_session *s, const char *verb)
{
    if (stream_output_pending(s->stream) > 0 &&
        stream_flush(s->stream) != STREAM_OK)
        return -1;
    enum stream_status st = stream_fill(s->stream);
    if (st == STREAM_OK)
        return 0;
    log_info("%s after %s (%llu bytes) from %s",
             st == STREAM_TIMEOUT ? "timeout" : "lost connection", verb,
             s->content_size, s->namaddr);
    return -1;
}

/* Reads the DATA content up to the end-of-data line into the spool. 0,
 * or -1 when the connection was lost. */
static int read_content(struct lmtpd_session *s)
{
    struct smtp_data_scanner scanner;
    smtp_data_init(&scanner, 0);
    for (;;) {
        size_t avail;
        const char *in = stream_peek(s->stream, &avail);
        struct smtp_data_piece piece;
        enum smtp_data_event ev =
            smtp_data_next(&scanner, in, avail, DATA_PIECE, &piece);
        if (ev == SMTP_DATA_NEED_MORE) {
            if (need_input(s, "DATA") < 0)
                return -1;
            continue;
        }
        if (ev == SMTP_DATA_END) {
            stream_consume(s->stream, piece.consumed);
            return 0;
        }
        /* SMTP_DATA_PIECE (bare CR and LF are data: reject_bare is 0). */
        content_append(s, piece.data, piece.len);
        if (piece.eol)
            content_append(s, "\n", 1);
        stream_consume(s->stream, piece.consumed);
    }
}

/* The reply for one recipient's outcome. Deferred: 451 (452 when the
 * mailbox is full for now); bounced: 550 (552 for a full mailbox or a
 * message too large for it). */
static void reply_outcome(struct lmtpd_session *s, const struct lmtpd_rcpt *r,
                          const struct deliver_result *res, const char *id)
{
    int storage =
        strcmp(res->dsn + 1, ".2.2") == 0 || strcmp(res->dsn + 1, ".3.4") == 0;
    switch (res->status) {
    case DELIVER_SENT:
        lmtpd_reply(s, "250 2.0.0 <%s> %s Saved", r->original, id);
        break;
    case DELIVER_DEFERRED:
        lmtpd_reply(s, "%d %s <%s> %s", storage ? 452 : 451, res->dsn,
                    r->original, res->reason);
        break;
    case DELIVER_BOUNCED:
        lmtpd_reply(s, "%d %s <%s> %s", storage ? 552 : 550, res->dsn,
                    r->original, res->reason);
        break;
    }
}

/* Every recipient gets the same answer (nothing was delivered). */
static void reply_all(struct lmtpd_session *s, const char *code_dsn,
                      const char *text)
{
    for (size_t i = 0; i < s->rcpt_count; i++)
        lmtpd_reply(s, "%s <%s> %s", code_dsn, s->rcpts[i].original, text);
}

static void deliver_all(struct lmtpd_session *s, const char *id,
                        const struct timeval *arrival)
{
    struct deliver_request req;
    memset(&req, 0, sizeof(req));
    req.queue_id = (char *)id;
    req.log_ident = (char *)id;
    req.sender = s->sender;
    req.arrival_time = (long long)arrival->tv_sec;
    req.message_size = (long long)s->spool.size;
    req.smtputf8 = s->smtputf8;
    req.rcpt_count = s->rcpt_count;
    req.rcpts = xcalloc(s->rcpt_count, sizeof(*req.rcpts));
    for (size_t i = 0; i < s->rcpt_count; i++) {
        req.rcpts[i].address = s->rcpts[i].address;
        req.rcpts[i].original = s->rcpts[i].original;
        req.rcpts[i].orcpt = s->rcpts[i].orcpt;
        req.rcpts[i].notify = s->rcpts[i].notify;
    }
    struct agent_content content = {lmtpd_spool_read, &s->spool};
    struct agent_delivery d;
    memset(&d, 0, sizeof(d));
    d.req = &req;
    d.content = &content;
    d.results = xcalloc(s->rcpt_count, sizeof(*d.results));
    d.relay = lmtpd_var.relay;
    /* delay= counts from DATA (or the first BDAT); of delays=a/b/c/d,
     * a is the time the message took to arrive, b and c are 0 (no
     * queue in between) and d is the delivery. */
    d.env.arrival_sec = (uint64_t)arrival->tv_sec;
    d.env.arrival_usec = (uint32_t)arrival->tv_usec;
    gettimeofday(&d.received, NULL);
    strlist_init(&d.delivered_to);

    for (size_t i = 0; i < s->rcpt_count; i++)
        virtual_mailbox_deliver(&d, i);
    agent_mailbox_flush(&d); /* copies that shared their syncs report */
    for (size_t i = 0; i < s->rcpt_count; i++) {
        if (d.results[i].reason == NULL)
            log_panic("%s: no outcome for recipient %zu", id, i);
        reply_outcome(s, &s->rcpts[i], &d.results[i], id);
    }
    deliver_results_free(d.results, s->rcpt_count);
    strlist_free(&d.delivered_to);
    free(req.rcpts);
}

/* The end of the content: the deliveries and a reply per recipient. */
static void content_end(struct lmtpd_session *s)
{
    s->transactions++;
    log_info("%s: client=%s, from=<%s>, size=%llu, nrcpt=%zu", s->id,
             s->namaddr, s->sender, s->content_size, s->rcpt_count);
    if (s->too_big) {
        log_info("%s: reject: message size exceeds fixed limit from %s", s->id,
                 s->namaddr);
        reply_all(s, "552 5.3.4", "Message size exceeds fixed limit");
        return;
    }
    if (lmtpd_spool_finish(&s->spool) < 0) {
        log_warn("%s: cannot spool the message: %s", s->id,
                 buf_cstr(&s->spool.err));
        reply_all(s, "451 4.3.0",
                  "Temporary failure: cannot spool the "
                  "message");
        return;
    }
    deliver_all(s, s->id, &s->arrival);
}

int lmtpd_data(struct lmtpd_session *s)
{
    content_begin(s);
    if (read_content(s) < 0)
        return -1;
    content_end(s);
    return 0;
}

int lmtpd_bdat(struct lmtpd_session *s)
{
    unsigned long long chunk = s->cmd.chunk_size, left = chunk;
    int last = s->cmd.last;
    const char *refusal = NULL;
    if (!s->in_mail)
        refusal = "503 5.5.1 Error: need MAIL command";
    else if (s->rcpt_count == 0)
        refusal = "503 5.5.1 Error: need RCPT command";
    else
        content_begin(s);
    /* The chunk is read in any case: its bytes are not commands. */
    while (left > 0) {
        size_t avail;
        const char *in = stream_peek(s->stream, &avail);
        if (avail == 0) {
            if (need_input(s, "BDAT") < 0)
                return -1;
            continue;
        }
        size_t take = avail < left ? avail : (size_t)left;
        if (refusal == NULL)
            content_append(s, in, take);
        stream_consume(s->stream, take);
        left -= take;
    }
    if (refusal) {
        lmtpd_error_reply(s, "%s", refusal);
        return 0;
    }
    if (!last) {
        lmtpd_reply(s, "250 2.0.0 Ok: %llu octets", chunk);
        return 0;
    }
    content_end(s);
    return 1;
}
