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
 * server and late for another (SMTP smuggling). BDAT chunks are counted
 * bytes: CR LF becomes LF, and a bare LF or CR is refused or normalised
 * by the same rule as in DATA, so a message means the same whichever
 * command carried it.
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
        s->rcpts_in_file = 0;
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

/* Content bytes to the queue file, counted against message_size_limit. */
static void content_out(struct smtpd_session *s, const char *data, size_t len)
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

/* The client's header section is stored up to header_size_limit bytes
 * (our Received: and PREPEND headers included), as Postfix's cleanup
 * bounds a header: what would go past the limit is discarded, the rest of
 * the message is kept. The line at the limit keeps its first bytes, up to
 * the limit, and is ended there (Postfix keeps the first
 * header_size_limit bytes of a header the same way), unless too little
 * of it fits to name its field, when it is dropped whole. From then on
 * every header line is read (to find where the body starts) and dropped.
 * Lines reach here whole or in pieces of at least DATA_PIECE bytes, so
 * what is kept does not depend on how the client's input was split. */
static void header_out(struct smtpd_session *s, const char *data, size_t len)
{
    if (s->hdr_cut || len == 0)
        return;
    size_t limit = (size_t)smtpd_var.header_size_limit;
    size_t room = s->hdr_bytes < limit ? limit - s->hdr_bytes : 0;
    if (len < room) { /* room for this, and for a line end after it */
        content_out(s, data, len);
        s->hdr_bytes += len;
        s->hdr_line_open = data[len - 1] != '\n';
        return;
    }
    s->hdr_cut = 1;
    log_info("%s: message header length exceeds safety limit (%zu bytes); "
             "the rest of the header is discarded: from %s; from=<%s> "
             "proto=%s helo=<%s>",
             s->qid, limit, s->namaddr, s->sender ? s->sender : "",
             s->esmtp ? "ESMTP" : "SMTP", s->helo ? s->helo : "");
    size_t keep = room > 1 ? room - 1 : 0;
    /* A new line keeps a part only when that part is still a header
     * line: a continuation, or one that has its "name:". */
    if (!s->hdr_line_open && keep > 0 && data[0] != ' ' && data[0] != '\t' &&
        memchr(data, ':', keep) == NULL)
        keep = 0;
    if (keep > 0) {
        content_out(s, data, keep);
        s->hdr_line_open = data[keep - 1] != '\n';
    }
    if (s->hdr_line_open)
        content_out(s, "\n", 1);
    s->hdr_line_open = 0;
}

/* Message content: the header section within header_size_limit. */
static void out(struct smtpd_session *s, const char *data, size_t len)
{
    if (s->in_header)
        header_out(s, data, len);
    else
        content_out(s, data, len);
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
        /* Held, up to header_size_limit; a longer field is not rewritten
         * (and header_out cuts it at the limit). */
        buf_append(&s->hdr_field, data, len);
        if (eol)
            buf_append_char(&s->hdr_field, '\n');
        s->data_line_start = eol;
        if (s->hdr_field.len > (size_t)smtpd_var.header_size_limit) {
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
    else {
        struct buf fields = BUF_INIT;
        smtpd_sasl_log_fields(s, &fields); /* after AUTH, as Postfix */
        smtpd_spf_log_fields(s, &fields);
        log_info("%s: client=%s%s", s->qid, s->namaddr, buf_cstr(&fields));
        buf_free(&fields);
    }
    int rc = 0;
    rc |= qfile_writer_sender(s->writer, s->sender, &err);
    if (rc == 0)
        rc |= smtpd_rcpt_write_all(s, &err);
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
        if (s->requiretls)
            rc |= qfile_writer_attr(s->writer, "requiretls", "1", &err);
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
        s->rcpts_in_file = 0;
        smtpd_error_reply(s, "451 4.3.0 Error: queue file write error");
        return -1;
    }
    buf_free(&err);
    s->data_size = 0;
    s->too_big = s->write_error = 0;
    s->data_line_start = 1;
    smtp_data_init(&s->scanner, s->bare_nl_reject);
    s->in_header = 1;
    s->hdr_bytes = 0;
    s->hdr_cut = 0;
    s->hdr_line_open = 0;
    s->hdr_held = -1;
    s->hdr_error = 0;
    buf_reset(&s->hdr_field);
    buf_reset(&s->bdat_line);
    /* The copy kept for lookups (Message-ID, hops) is bounded as the
     * stored header is (raw text and unfolded value: twice). */
    size_t hlimit = (size_t)smtpd_var.header_size_limit;
    header_block_init(&s->headers, hlimit, 0, 2 * hlimit);
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
        smtpd_spf_header(s, &rcv); /* RFC 7208 9.1: above our Received: */
        buf_appendf(&rcv, "Received: from %s (%s [%s])", helo, s->name,
                    s->addr);
        smtpd_tls_received(s, &rcv); /* smtpd_tls_received_header */
        smtpd_sasl_received(s, &rcv); /* smtpd_sasl_authenticated_header */
        /* RFC 3848: ESMTPS over TLS (ESMTPA, ESMTPSA authenticated). */
        buf_appendf(&rcv, "\n\tby %s (%s) with %s id %s", smtpd_var.myhostname,
                    smtpd_var.mail_name, smtpd_received_protocol(s), s->qid);
        /* "for" names the one recipient the client gave, as Postfix. */
        if (s->rcpt_accepted == 1 && s->rcpt_count > 0 &&
            qfile_text_ok(s->rcpts[0].original, strlen(s->rcpts[0].original)))
            buf_appendf(&rcv, "\n\tfor <%s>", s->rcpts[0].original);
        buf_appendf(&rcv, "; %s\n", date);
    }
    /* Ours: always stored, and counted in header_size_limit. */
    content_out(s, rcv.data, rcv.len);
    s->hdr_bytes = rcv.len;
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
    s->rcpts_in_file = 0;
    header_block_free(&s->headers);
    s->qid[0] = '\0';
    smtpd_reset_transaction(s);
    smtpd_resume(s);
}

/* The message is complete: reply now or after the commit. */
static void data_finish(struct smtpd_session *s, const char *verb)
{
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
    /* The content is complete and sound: the end of data runs as a
     * command of its own (restrictions, hooks, then the commit). */
    smtpd_command_start(s, SMTP_COMMAND_END_OF_DATA);
}

/* The end-of-data restrictions; a reject drops the message. */
enum smtp_step smtpd_eod_check(struct smtpd_session *s)
{
    enum smtpd_verdict v = smtpd_check_end_of_data(s);
    if (v == SMTPD_SUSPEND)
        return SMTP_STEP_SUSPEND;
    if (v == SMTPD_REJECT) {
        /* The reply is sent and logged; drop the message. */
        smtpd_count_late_failure(s, s->bdat_used ? "bdat" : "data");
        smtpd_data_abort(s);
        smtpd_reset_transaction(s);
        return SMTP_STEP_STOP;
    }
    return SMTP_STEP_NEXT;
}

/* Discard, hold or commit. */
enum smtp_step smtpd_eod_proceed(struct smtpd_session *s)
{
    if (s->discard) {
        log_info("%s: discard: END-OF-MESSAGE from %s: message discarded; "
                 "from=<%s> proto=%s helo=<%s>",
                 s->qid, s->namaddr, s->sender, s->esmtp ? "ESMTP" : "SMTP",
                 s->helo ? s->helo : "");
        smtpd_reply(s, "250 2.0.0 Ok: queued as %s", s->qid);
        smtpd_data_abort(s);
        smtpd_reset_transaction(s);
        return SMTP_STEP_NEXT;
    }
    if (smtpd_actions_late(s) < 0) {
        smtpd_count_late_failure(s, s->bdat_used ? "bdat" : "data");
        smtpd_data_abort(s);
        smtpd_reset_transaction(s);
        return SMTP_STEP_STOP;
    }
    if (s->hold)
        log_info("%s: hold: message held: %s", s->qid,
                 s->hold_reason ? s->hold_reason : "");
    s->state = SMTPD_COMMIT;
    group_commit_submit(smtpd_group_commit, s->writer, queue_dir(s), on_commit,
                        s);
    return SMTP_STEP_NEXT;
}

/* A bare LF or CR in DATA or BDAT content, with
 * smtpd_forbid_bare_newline = reject: 5xx, drop the message, disconnect
 * (the rest of the input is never read as commands). */
static void bare_newline(struct smtpd_session *s, const char *what)
{
    const char *verb = s->bdat_used ? "BDAT" : "DATA";
    smtpd_reply(s, "%ld 5.5.2 %s Error: bare <%s> received",
                smtpd_var.bare_newline_code, smtpd_var.myhostname, what);
    log_info("%s: reject: bare <%s> received in %s from %s; from=<%s> "
             "proto=%s helo=<%s>",
             s->qid, what, verb, s->namaddr, s->sender,
             s->esmtp ? "ESMTP" : "SMTP", s->helo ? s->helo : "");
    smtpd_count_late_failure(s, s->bdat_used ? "bdat" : "data");
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

/* A refused chunk is still read, and dropped. */
static enum smtp_step bdat_refused(struct smtpd_session *s)
{
    s->bdat_failed = 1;
    if (s->state != SMTPD_CLOSING)
        s->state = SMTPD_BDAT_SKIP;
    return SMTP_STEP_STOP;
}

enum smtp_step smtpd_bdat_parse(struct smtpd_session *s)
{
    struct smtp_cmd *c = &s->cmd;
    s->bdat_left = c->chunk_size;
    s->bdat_last = c->last;
    const char *fail = NULL;
    if (!s->esmtp)
        fail = "503 5.5.1 Error: send EHLO first";
    else if (s->bdat_failed)
        fail = "503 5.5.1 Error: BDAT after error"; /* until RSET */
    else if (!s->in_mail)
        fail = "503 5.5.1 Error: need MAIL command";
    else if (s->rcpt_accepted == 0)
        fail = "554 5.5.1 Error: no valid recipients";
    if (fail) {
        /* Skipping already: no error sleep before the chunk is read. */
        s->state = SMTPD_BDAT_SKIP;
        smtpd_error_reply(s, "%s", fail);
        return bdat_refused(s);
    }
    return SMTP_STEP_NEXT;
}

enum smtp_step smtpd_bdat_check(struct smtpd_session *s)
{
    if (s->bdat_used)
        return SMTP_STEP_NEXT; /* checked before the first chunk */
    /* While this waits the chunk stays in the input, unread. */
    enum smtpd_verdict v = smtpd_check_data(s);
    if (v == SMTPD_SUSPEND)
        return SMTP_STEP_SUSPEND;
    if (v == SMTPD_REJECT)
        return bdat_refused(s);
    return SMTP_STEP_NEXT;
}

enum smtp_step smtpd_bdat_proceed(struct smtpd_session *s)
{
    if (!s->bdat_used) {
        if (smtpd_data_begin(s) < 0)
            return bdat_refused(s);
        s->bdat_used = 1;
    }
    /* session_run reads the chunk (an empty one ends at once). */
    s->state = SMTPD_BDAT;
    return SMTP_STEP_NEXT;
}

/* BDAT content is cut into lines as DATA content is: a line is passed on
 * whole (or in DATA_PIECE pieces when longer), never as it happens to be
 * split by reads or chunks, so the header is parsed the same whatever
 * the client's chunking (a header name split across two chunks must not
 * end the header). The start of a line whose end has not come yet waits
 * in s->bdat_line.
 *
 * CR LF becomes LF, also when the CR ends one chunk and the LF starts the
 * next. A bare LF or a bare CR is what it is in DATA: with
 * smtpd_forbid_bare_newline = reject (s->bare_nl_reject) the message is
 * refused and the session closed; otherwise (normalize) a bare LF ends a
 * line and a bare CR is data. */

/* A CR in data that is not right before its LF: refused when rejecting. */
static int bdat_bare_cr(struct smtpd_session *s, const char *data, size_t len)
{
    if (s->bare_nl_reject && memchr(data, '\r', len) != NULL) {
        bare_newline(s, "CR");
        return -1;
    }
    return 0;
}

/* One complete line (its LF removed). */
static int bdat_line(struct smtpd_session *s, const char *line, size_t len)
{
    int crlf = len > 0 && line[len - 1] == '\r';
    if (crlf)
        len--;
    else if (s->bare_nl_reject) {
        bare_newline(s, "LF");
        return -1;
    }
    if (bdat_bare_cr(s, line, len) < 0)
        return -1;
    content_piece(s, line, len, 1);
    return 0;
}

/* The waiting start of a line has grown to a piece: pass it on, but keep
 * a last CR, which may be the start of CR LF. */
static int bdat_long_piece(struct smtpd_session *s)
{
    struct buf *held = &s->bdat_line;
    size_t n = held->len;
    if (n > 0 && held->data[n - 1] == '\r')
        n--;
    if (bdat_bare_cr(s, held->data, n) < 0)
        return -1;
    content_piece(s, held->data, n, 0);
    memmove(held->data, held->data + n, held->len - n);
    held->len -= n;
    return 0;
}

/* len bytes of chunk content. Returns -1 after refusing the message. */
static int bdat_bytes(struct smtpd_session *s, const char *p, size_t len)
{
    const char *end = p + len;
    struct buf *held = &s->bdat_line;
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        if (lf == NULL) {
            buf_append(held, p, (size_t)(end - p));
            if (held->len >= DATA_PIECE)
                return bdat_long_piece(s);
            return 0;
        }
        int rc;
        if (held->len > 0) {
            buf_append(held, p, (size_t)(lf - p));
            rc = bdat_line(s, held->data, held->len);
            held->len = 0;
        } else {
            rc = bdat_line(s, p, (size_t)(lf - p));
        }
        if (rc < 0)
            return -1;
        p = lf + 1;
    }
    return 0;
}

/* The last chunk is in: a last line without its LF. 0, or -1 after
 * refusing the message (it ends in a bare CR). */
static int bdat_end(struct smtpd_session *s)
{
    struct buf *held = &s->bdat_line;
    if (held->len == 0)
        return 0;
    if (bdat_bare_cr(s, held->data, held->len) < 0)
        return -1;
    content_piece(s, held->data, held->len, 0);
    held->len = 0;
    if (held->cap > DATA_PIECE)
        buf_free(held); /* an idle session keeps no big buffer */
    return 0;
}

int smtpd_bdat_input(struct smtpd_session *s)
{
    while (s->bdat_left > 0) {
        size_t avail;
        const char *p = stream_peek(s->stream, &avail);
        if (avail == 0)
            return 1;
        size_t n = avail < s->bdat_left ? avail : (size_t)s->bdat_left;
        if (s->state == SMTPD_BDAT && bdat_bytes(s, p, n) < 0)
            return 0; /* refused and closing */
        stream_consume(s->stream, n);
        s->bdat_left -= n;
    }
    if (s->state == SMTPD_BDAT_SKIP) {
        s->state = SMTPD_CMD;
        return 0;
    }
    if (s->bdat_last) {
        if (bdat_end(s) < 0)
            return 0;
        data_finish(s, "END-OF-MESSAGE");
    } else {
        smtpd_reply(s, "250 2.0.0 Ok: %llu bytes",
                    (unsigned long long)s->cmd.chunk_size);
        s->state = SMTPD_CMD;
    }
    return 0;
}
