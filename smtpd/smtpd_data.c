/* smtpd_data.c: message intake: DATA and BDAT content, the header
 * checks, the Received: header, and the queue file.
 *
 * DATA content is scanned in place in the stream's buffer by
 * lib/smtp/smtp_data: only <CR><LF>.<CR><LF> ends it, and a bare LF or bare
 * CR is either refused at once with a 5xx and a disconnect
 * (smtpd_forbid_bare_newline = reject, the default, except for
 * smtpd_forbid_bare_newline_exclusions) or, with "normalize", taken as
 * a line ending (LF) or as data (CR) but never as part of the end of
 * data, so nothing a client sends can end the message early for one
 * server and late for another (SMTP smuggling). BDAT chunks are counted bytes:
 * CR LF becomes LF, nothing else is interpreted.
 *
 * Content goes to the queue file in local form (LF line ends) through
 * lib/queue/qfile_writer as it arrives; the end of the message hands the
 * writer to lib/queue/group_commit, and the 250 goes out only once the file,
 * its rename and the directory are on disk. */
#include "smtpd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "message/address.h"
#include "config/config.h"
#include "queue/group_commit.h"
#include "base/log.h"
#include "base/mem.h"
#include "queue/qfile.h"
#include "routing/rewrite.h"
#include "smtp/smtp_data.h"

extern struct group_commit *smtpd_group_commit;

/* Bytes buffered before they are handed to the writer, and the longest
 * piece of one line taken at a time (longer lines are passed on in
 * pieces; they are not cut). */
#define DATA_FLUSH 65536
#define DATA_PIECE 65536

void smtpd_data_init(void)
{
}

static const char *queue_dir(struct smtpd_session *s)
{
    return s->hold ? smtpd_var.hold_dir : smtpd_var.incoming_dir;
}

static void rfc5322_date(time_t when, char *out, size_t size)
{
    struct tm tm;
    localtime_r(&when, &tm);
    strftime(out, size, "%a, %d %b %Y %H:%M:%S %z (%Z)", &tm);
}

void smtpd_data_abort(struct smtpd_session *s)
{
    if (s->state == SMTPD_COMMIT)
        return; /* the I/O threads own the writer */
    if (s->writer) {
        qfile_writer_free(s->writer); /* removes the temporary file */
        s->writer = NULL;
        header_block_free(&s->headers);
    }
    buf_reset(&s->data_out);
    buf_free(&s->hdr_field);
    s->hdr_held = -1;
    s->qid[0] = '\0';
}

static void out_flush(struct smtpd_session *s)
{
    if (s->data_out.len == 0 || s->write_error || s->too_big) {
        buf_reset(&s->data_out);
        return;
    }
    struct buf err = BUF_INIT;
    if (qfile_writer_content_append(s->writer, s->data_out.data,
                                    s->data_out.len, &err) < 0) {
        log_warn("%s: queue file write error: %s", s->qid, buf_cstr(&err));
        s->write_error = 1;
    }
    buf_free(&err);
    buf_reset(&s->data_out);
}

static void out(struct smtpd_session *s, const char *data, size_t len)
{
    s->data_size += len;
    if (smtpd_var.message_size_limit > 0 &&
        s->data_size > (uint64_t)smtpd_var.message_size_limit)
        s->too_big = 1;
    if (s->too_big || s->write_error)
        return;
    buf_append(&s->data_out, data, len);
    if (s->data_out.len >= DATA_FLUSH)
        out_flush(s);
}

/* The end of the header section: headers a local submission lacks, and
 * the message-id log line. */
static void header_end(struct smtpd_session *s)
{
    s->in_header = 0;
    struct buf value = BUF_INIT;
    int have_id = header_get(&s->headers, "Message-ID", &value);
    if (s->local) {
        char date[64];
        if (!have_id) {
            char stamp[32];
            struct tm tm;
            time_t now = time(NULL);
            gmtime_r(&now, &tm);
            strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
            buf_set_str(&value, "");
            buf_appendf(&value, "<%s.%s@%s>", stamp, s->qid,
                        smtpd_var.myhostname);
            have_id = 1;
            struct buf line = BUF_INIT;
            buf_appendf(&line, "Message-Id: %s\n", value.data);
            out(s, line.data, line.len);
            buf_free(&line);
        }
        if (!header_find(&s->headers, "Date")) {
            rfc5322_date(time(NULL), date, sizeof(date));
            struct buf line = BUF_INIT;
            buf_appendf(&line, "Date: %s\n", date);
            out(s, line.data, line.len);
            buf_free(&line);
        }
        if (!header_find(&s->headers, "From") && s->sender) {
            struct buf line = BUF_INIT;
            buf_appendf(&line, "From: %s\n",
                        *s->sender ? s->sender : "MAILER-DAEMON");
            out(s, line.data, line.len);
            buf_free(&line);
        }
    }
    if (have_id)
        log_info("%s: message-id=%s", s->qid, buf_cstr(&value));
    buf_free(&value);
}

/* The address field held for rewriting is complete: write it, changed
 * or as received. A table error defers the whole message, as Postfix's
 * cleanup does, rather than queue headers it could not rewrite. */
static void held_field_flush(struct smtpd_session *s)
{
    if (s->hdr_held < 0)
        return;
    int sender = s->hdr_held;
    s->hdr_held = -1;
    if (s->hdr_field.len == 0)
        return;
    struct buf fixed = BUF_INIT, why = BUF_INIT;
    int rc = smtpd_header_rewrite(
        s->hdr_field.data, s->hdr_field.len, sender, s->hdr_context,
        s->smtputf8 ? ADDRESS_FLAG_UTF8 : 0, &fixed, &why);
    if (rc < 0) {
        if (!s->hdr_error)
            log_warn("%s: header address map lookup problem -- message not "
                     "accepted, try again later: %s",
                     s->qid, buf_cstr(&why));
        s->hdr_error = 1;
    }
    if (rc > 0)
        out(s, fixed.data, fixed.len);
    else
        out(s, s->hdr_field.data, s->hdr_field.len);
    /* Idle sessions should not keep a big field's buffer. */
    if (s->hdr_field.cap > 4096)
        buf_free(&s->hdr_field);
    else
        buf_reset(&s->hdr_field);
    buf_free(&fixed);
    buf_free(&why);
}

/* One piece of content: len bytes of a line, ending the line when eol. */
static void content_piece(struct smtpd_session *s, const char *data, size_t len,
                          int eol)
{
    if (s->in_header && s->data_line_start) {
        enum header_line_kind kind = header_block_line(&s->headers, data, len);
        int continuation = len > 0 && (data[0] == ' ' || data[0] == '\t');
        if (kind != HEADER_LINE_FIELD || !continuation)
            held_field_flush(s);
        if (kind != HEADER_LINE_FIELD)
            header_end(s);
        else if (!continuation && s->hdr_context >= 0)
            s->hdr_held = smtpd_header_is_address(data, len);
    }
    if (s->hdr_held >= 0) {
        /* Held, up to header_size_limit; a longer field goes on as sent. */
        buf_append(&s->hdr_field, data, len);
        if (eol)
            buf_append_char(&s->hdr_field, '\n');
        s->data_line_start = eol;
        if (s->hdr_field.len > HEADER_SIZE_LIMIT) {
            out(s, s->hdr_field.data, s->hdr_field.len);
            buf_free(&s->hdr_field);
            s->hdr_held = -1;
        }
        return;
    }
    out(s, data, len);
    if (eol)
        out(s, "\n", 1);
    s->data_line_start = eol;
}

int smtpd_data_begin(struct smtpd_session *s)
{
    /* REDIRECT and BCC change the recipients written below. */
    if (smtpd_actions_envelope(s) < 0)
        return -1;
    struct buf err = BUF_INIT;
    const char *dir = queue_dir(s);
    s->writer = qfile_writer_create(dir, &err);
    if (s->writer == NULL) {
        log_warn("cannot create queue file in %s: %s", dir, buf_cstr(&err));
        buf_free(&err);
        smtpd_error_reply(s, "451 4.3.0 Error: queue file write error");
        return -1;
    }
    str_copy(s->qid, qfile_writer_qid(s->writer), sizeof(s->qid));
    /* Local submission is logged as Postfix's pickup logs it, under its
     * name, so pflogsumm counts the message as received. */
    if (s->local)
        log_info_as("pickup", "%s: uid=%ld from=<%s>", s->qid, s->peer_uid,
                    s->sender);
    else
        log_info("%s: client=%s", s->qid, s->namaddr);
    int rc = 0;
    rc |= qfile_writer_sender(s->writer, s->sender, &err);
    for (size_t i = 0; i < s->rcpt_count && rc == 0; i++) {
        struct qfile_recipient r;
        memset(&r, 0, sizeof(r));
        r.address = s->rcpts[i].address;
        r.original = s->rcpts[i].original;
        r.orcpt = s->rcpts[i].orcpt;
        r.notify = s->rcpts[i].notify;
        rc |= qfile_writer_recipient(s->writer, &r, &err);
    }
    uint32_t enc = (s->body_8bit ? QFILE_ENC_8BITMIME : 0) |
                   (s->smtputf8 ? QFILE_ENC_SMTPUTF8 : 0);
    if (rc == 0 && enc)
        rc |= qfile_writer_encoding(s->writer, enc, &err);
    if (rc == 0 && s->dsn_ret)
        rc |= qfile_writer_dsn_ret(s->writer, (char)s->dsn_ret, &err);
    if (rc == 0 && s->dsn_envid)
        rc |= qfile_writer_dsn_envid(s->writer, s->dsn_envid, &err);
    if (rc == 0) {
        rc |= qfile_writer_attr(s->writer, "client_name", s->name, &err);
        rc |= qfile_writer_attr(s->writer, "client_address", s->addr, &err);
        if (s->helo && qfile_text_ok(s->helo, strlen(s->helo)))
            rc |= qfile_writer_attr(s->writer, "helo_name", s->helo, &err);
        rc |= qfile_writer_attr(s->writer, "protocol",
                                s->esmtp ? "ESMTP" : "SMTP", &err);
        /* Kept so postsuper -r rewrites headers in the same context
         * (decided at MAIL). */
        rc |= qfile_writer_attr(
            s->writer, "rewrite_context",
            s->hdr_context == REWRITE_LOCAL ? "local" : "remote", &err);
        if (s->hold && s->hold_reason &&
            qfile_text_ok(s->hold_reason, strlen(s->hold_reason)))
            rc |= qfile_writer_attr(s->writer, "hold_reason", s->hold_reason,
                                    &err);
    }
    if (rc == 0)
        rc |= qfile_writer_content_begin(s->writer, &err);
    if (rc != 0) {
        log_warn("%s: queue file write error: %s", s->qid, buf_cstr(&err));
        buf_free(&err);
        qfile_writer_free(s->writer);
        s->writer = NULL;
        smtpd_error_reply(s, "451 4.3.0 Error: queue file write error");
        return -1;
    }
    buf_free(&err);
    s->data_size = 0;
    s->too_big = s->write_error = 0;
    s->data_line_start = 1;
    smtp_data_init(&s->scanner, s->bare_nl_reject);
    s->in_header = 1;
    s->hdr_held = -1;
    s->hdr_error = 0;
    buf_reset(&s->hdr_field);
    s->pending_cr = 0;
    header_block_init(&s->headers, 0, 0, 0);
    buf_reset(&s->data_out);

    /* Received: in Postfix's shape. */
    char date[64];
    rfc5322_date(time(NULL), date, sizeof(date));
    struct buf rcv = BUF_INIT;
    smtpd_actions_headers(s, &rcv); /* PREPEND: above our Received: */
    if (s->local) {
        buf_appendf(&rcv,
                    "Received: by %s (%s, from userid %ld)\n\tid %s; %s\n",
                    smtpd_var.myhostname, smtpd_var.mail_name, s->peer_uid,
                    s->qid, date);
    } else {
        const char *helo = s->helo && qfile_text_ok(s->helo, strlen(s->helo))
                               ? s->helo
                               : s->name;
        buf_appendf(&rcv,
                    "Received: from %s (%s [%s])\n\tby %s (%s) with %s "
                    "id %s",
                    helo, s->name, s->addr, smtpd_var.myhostname,
                    smtpd_var.mail_name, s->esmtp ? "ESMTP" : "SMTP", s->qid);
        /* "for" names the one recipient the client gave, as Postfix. */
        if (s->rcpt_accepted == 1 && s->rcpt_count > 0 &&
            qfile_text_ok(s->rcpts[0].original, strlen(s->rcpts[0].original)))
            buf_appendf(&rcv, "\n\tfor <%s>", s->rcpts[0].original);
        buf_appendf(&rcv, "; %s\n", date);
    }
    out(s, rcv.data, rcv.len);
    buf_free(&rcv);
    return 0;
}

static void on_commit(void *ctx, int status, const char *err)
{
    struct smtpd_session *s = ctx;
    if (status == 0) {
        smtpd_reply(s, "250 2.0.0 Ok: queued as %s", s->qid);
        if (!s->hold)
            smtpd_trigger_qmgr();
    } else {
        log_warn("%s: queue file write error: %s", s->qid, err);
        smtpd_error_reply(s, "451 4.3.0 Error: queue file write error");
        smtpd_count_late_failure(s, s->bdat_used ? "bdat" : "data");
    }
    s->state = SMTPD_CMD;
    qfile_writer_free(s->writer);
    s->writer = NULL;
    header_block_free(&s->headers);
    s->qid[0] = '\0';
    smtpd_reset_transaction(s);
    smtpd_resume(s);
}

static void data_decide(struct smtpd_session *s);

/* The message is complete: reply now or after the commit. */
static void data_finish(struct smtpd_session *s, const char *verb)
{
    if (s->pending_cr) {
        content_piece(s, "\r", 1, 0);
        s->pending_cr = 0;
    }
    if (!s->data_line_start)
        content_piece(s, "", 0, 1); /* a last line without its end */
    held_field_flush(s);
    if (s->in_header)
        header_end(s);
    out_flush(s);
    s->state = SMTPD_CMD;
    const char *fail = NULL;
    struct buf err = BUF_INIT;
    if (s->too_big) {
        fail = "552 5.3.4 Message size exceeds fixed limit";
    } else if (header_hop_count(&s->headers) >
               (size_t)smtpd_var.hopcount_limit) {
        fail = "554 5.4.0 Error: too many hops";
    } else if (s->hdr_error) {
        fail = "451 4.3.0 Error: queue file write error";
    } else if (s->write_error ||
               qfile_writer_content_end(s->writer, &err) < 0) {
        if (err.len)
            log_warn("%s: queue file write error: %s", s->qid, err.data);
        fail = "451 4.3.0 Error: queue file write error";
    }
    buf_free(&err);
    if (fail) {
        log_info("%s: reject: %s from %s: %s; from=<%s> proto=%s helo=<%s>",
                 s->qid, verb, s->namaddr, fail, s->sender,
                 s->esmtp ? "ESMTP" : "SMTP", s->helo ? s->helo : "");
        smtpd_error_reply(s, "%s", fail);
        smtpd_count_late_failure(s, s->bdat_used ? "bdat" : "data");
        smtpd_data_abort(s);
        smtpd_reset_transaction(s);
        return;
    }
    smtpd_dns_new_check(s);
    data_decide(s);
}

/* After the content is complete and sound: the end-of-data restrictions
 * (which may wait for DNS and come back here), then discard, hold or
 * commit. */
static void data_decide(struct smtpd_session *s)
{
    enum smtpd_verdict v = smtpd_check_end_of_data(s);
    if (v == SMTPD_SUSPEND) {
        s->dns_resume = data_decide;
        return;
    }
    if (v == SMTPD_REJECT) {
        /* The reply is sent and logged; drop the message. */
        smtpd_count_late_failure(s, s->bdat_used ? "bdat" : "data");
        smtpd_data_abort(s);
        smtpd_reset_transaction(s);
        return;
    }
    if (s->discard) {
        log_info("%s: discard: END-OF-MESSAGE from %s: message discarded; "
                 "from=<%s> proto=%s helo=<%s>",
                 s->qid, s->namaddr, s->sender, s->esmtp ? "ESMTP" : "SMTP",
                 s->helo ? s->helo : "");
        smtpd_reply(s, "250 2.0.0 Ok: queued as %s", s->qid);
        smtpd_data_abort(s);
        smtpd_reset_transaction(s);
        return;
    }
    if (smtpd_actions_late(s) < 0) {
        smtpd_count_late_failure(s, s->bdat_used ? "bdat" : "data");
        smtpd_data_abort(s);
        smtpd_reset_transaction(s);
        return;
    }
    if (s->hold)
        log_info("%s: hold: message held: %s", s->qid,
                 s->hold_reason ? s->hold_reason : "");
    s->state = SMTPD_COMMIT;
    group_commit_submit(smtpd_group_commit, s->writer, queue_dir(s), on_commit,
                        s);
}

static void bare_newline(struct smtpd_session *s, const char *what)
{
    smtpd_reply(s, "%ld 5.5.2 %s Error: bare <%s> received",
                smtpd_var.bare_newline_code, smtpd_var.myhostname, what);
    log_info("%s: reject: bare <%s> received in DATA from %s; from=<%s> "
             "proto=%s helo=<%s>",
             s->qid, what, s->namaddr, s->sender, s->esmtp ? "ESMTP" : "SMTP",
             s->helo ? s->helo : "");
    smtpd_count_late_failure(s, "data");
    smtpd_data_abort(s);
    smtpd_reset_transaction(s);
    smtpd_close_after_reply(s);
}

int smtpd_data_input(struct smtpd_session *s)
{
    for (;;) {
        size_t avail;
        const char *p = stream_peek(s->stream, &avail);
        struct smtp_data_piece piece;
        switch (smtp_data_next(&s->scanner, p, avail, DATA_PIECE, &piece)) {
        case SMTP_DATA_NEED_MORE:
            return 1;
        case SMTP_DATA_BARE_LF:
            bare_newline(s, "LF");
            return 0;
        case SMTP_DATA_BARE_CR:
            bare_newline(s, "CR");
            return 0;
        case SMTP_DATA_END:
            stream_consume(s->stream, piece.consumed);
            data_finish(s, "END-OF-MESSAGE");
            return 0;
        case SMTP_DATA_PIECE:
            content_piece(s, piece.data, piece.len, piece.eol);
            stream_consume(s->stream, piece.consumed);
            break;
        }
    }
}

/* ---- BDAT ---- */

void smtpd_bdat_command(struct smtpd_session *s)
{
    struct smtp_cmd *c = &s->cmd;
    s->bdat_left = c->chunk_size;
    s->bdat_last = c->last;
    const char *fail = NULL;
    if (!s->esmtp)
        fail = "503 5.5.1 Error: send EHLO first";
    else if (s->bdat_failed)
        fail = NULL; /* keep discarding until RSET; replied below */
    else if (!s->in_mail)
        fail = "503 5.5.1 Error: need MAIL command";
    else if (s->rcpt_accepted == 0)
        fail = "554 5.5.1 Error: no valid recipients";
    if (fail || s->bdat_failed) {
        s->bdat_failed = 1;
        s->state = SMTPD_BDAT_SKIP;
        smtpd_error_reply(s, "%s",
                          fail ? fail : "503 5.5.1 Error: BDAT after error");
        if (s->state == SMTPD_CLOSING)
            return;
        s->state = SMTPD_BDAT_SKIP;
        return;
    }
    if (!s->bdat_used) {
        enum smtpd_verdict v = smtpd_check_data(s);
        if (v == SMTPD_SUSPEND)
            return; /* the chunk waits in the input until the answer */
        if (v == SMTPD_REJECT) {
            s->bdat_failed = 1;
            if (s->state != SMTPD_CLOSING)
                s->state = SMTPD_BDAT_SKIP;
            return;
        }
        if (smtpd_data_begin(s) < 0) {
            s->bdat_failed = 1;
            if (s->state != SMTPD_CLOSING)
                s->state = SMTPD_BDAT_SKIP;
            return;
        }
        s->bdat_used = 1;
    }
    s->state = SMTPD_BDAT;
    if (s->bdat_left == 0)
        smtpd_bdat_input(s);
}

/* Content of a chunk: CR LF becomes LF; lines are passed on as pieces. */
static void bdat_bytes(struct smtpd_session *s, const char *p, size_t len)
{
    const char *end = p + len;
    if (s->pending_cr && len > 0) {
        s->pending_cr = 0;
        if (p[0] == '\n') {
            content_piece(s, "", 0, 1);
            p++;
        } else {
            content_piece(s, "\r", 1, 0);
        }
    }
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        if (!lf) {
            size_t n = (size_t)(end - p);
            if (p[n - 1] == '\r') {
                s->pending_cr = 1;
                n--;
            }
            if (n)
                content_piece(s, p, n, 0);
            return;
        }
        size_t n = (size_t)(lf - p);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        content_piece(s, p, n, 1);
        p = lf + 1;
    }
}

int smtpd_bdat_input(struct smtpd_session *s)
{
    while (s->bdat_left > 0) {
        size_t avail;
        const char *p = stream_peek(s->stream, &avail);
        if (avail == 0)
            return 1;
        size_t n = avail < s->bdat_left ? avail : (size_t)s->bdat_left;
        if (s->state == SMTPD_BDAT)
            bdat_bytes(s, p, n);
        stream_consume(s->stream, n);
        s->bdat_left -= n;
    }
    if (s->state == SMTPD_BDAT_SKIP) {
        s->state = SMTPD_CMD;
        return 0;
    }
    if (s->bdat_last) {
        data_finish(s, "END-OF-MESSAGE");
    } else {
        smtpd_reply(s, "250 2.0.0 Ok: %llu bytes",
                    (unsigned long long)s->cmd.chunk_size);
        s->state = SMTPD_CMD;
    }
    return 0;
}
