/* smtp_content.c: the message content for the protocol engine, read from
 * the queue file of the request as the engine sends it (smtp.h). No copy
 * of the message is made: each read takes the next piece of the content
 * record, so memory stays at one chunk whatever the message size.
 *
 * For a server without 8BITMIME the engine reads the content_7bit hook
 * instead: the same pieces passed through lib/message/mime_downgrade
 * (8-bit parts become quoted-printable), so memory stays bounded by the
 * converter's hold.
 *
 * Also the one header the client itself reads: TLS-Required (RFC 8689). */
#include "smtp.h"

#include <string.h>

#include "base/str.h"
#include "message/header.h"
#include "message/mime_downgrade.h"
#include "queue/qfile_reader.h"

/* Bytes read from the queue file per step of the 7-bit conversion and of
 * the scan for 8-bit bytes. */
#define SMTP_CONTENT_PIECE 16384

static ssize_t content_read(void *ctx, char *data, size_t len, struct buf *why)
{
    struct agent_delivery *d = ctx;
    static struct buf chunk = BUF_INIT;
    if (qfile_content_read(d->qf, &chunk, len, why) != QFILE_OK) {
        if (why->len == 0)
            buf_append_str(why, "cannot read queue file");
        return -1;
    }
    memcpy(data, chunk.data, chunk.len);
    return (ssize_t)chunk.len;
}

void smtp_content_init(struct smtpc_content *content, struct agent_delivery *d)
{
    /* From the start: a transaction retried on a fresh connection reads
     * the message again. */
    qfile_content_seek(d->qf, 0);
    content->read = content_read;
    content->read_ctx = d;
}

/* ---- the 7-bit form ---- */

/* One conversion at a time: a process sends one transaction at a time. */
static struct {
    struct agent_delivery *d;
    struct mime_downgrade *md;
    struct buf out; /* converted bytes not yet given to the engine */
    size_t out_pos;
    int at_end; /* the converter has been given the whole message */
} conv = {.out = BUF_INIT};

static ssize_t content_7bit_read(void *ctx, char *data, size_t len,
                                 struct buf *why)
{
    static struct buf piece = BUF_INIT;
    (void)ctx;
    while (conv.out_pos == conv.out.len) {
        buf_reset(&conv.out);
        conv.out_pos = 0;
        if (conv.at_end)
            return 0;
        if (qfile_content_read(conv.d->qf, &piece, SMTP_CONTENT_PIECE, why) !=
            QFILE_OK) {
            if (why->len == 0)
                buf_append_str(why, "cannot read queue file");
            return -1;
        }
        if (piece.len == 0) {
            mime_downgrade_finish(conv.md, &conv.out);
            conv.at_end = 1;
        } else {
            mime_downgrade_input(conv.md, piece.data, piece.len, &conv.out);
        }
    }
    size_t n = conv.out.len - conv.out_pos;
    if (n > len)
        n = len;
    memcpy(data, conv.out.data + conv.out_pos, n);
    conv.out_pos += n;
    return (ssize_t)n;
}

void smtp_content_init_7bit(struct smtpc_content *content,
                            struct agent_delivery *d)
{
    smtp_content_done();
    qfile_content_seek(d->qf, 0);
    conv.d = d;
    conv.md = mime_downgrade_new(0);
    buf_init(&conv.out);
    content->read = content_7bit_read;
    content->read_ctx = &conv;
}

void smtp_content_done(void)
{
    mime_downgrade_free(conv.md);
    conv.md = NULL;
    conv.d = NULL;
    buf_free(&conv.out);
    conv.out_pos = 0;
    conv.at_end = 0;
}

int smtp_content_has_8bit(struct agent_delivery *d)
{
    static struct buf piece = BUF_INIT;
    struct buf why = BUF_INIT;
    buf_init(&why);
    int found = 0;
    qfile_content_seek(d->qf, 0);
    for (;;) {
        if (qfile_content_read(d->qf, &piece, SMTP_CONTENT_PIECE, &why) !=
            QFILE_OK) {
            found = 1; /* the sending reads it again and reports */
            break;
        }
        if (piece.len == 0)
            break;
        for (size_t i = 0; i < piece.len && !found; i++)
            found = (unsigned char)piece.data[i] >= 0x80;
        if (found)
            break;
    }
    qfile_content_seek(d->qf, 0);
    buf_free(&why);
    return found;
}

void smtp_content_prepare(struct smtpc_message *m, struct agent_delivery *d,
                          const struct smtpc_session *session)
{
    smtp_content_init(&m->content, d);
    if (!smtp_cfg.mime_output_conversion ||
        (smtpc_session_caps(session)->flags & SMTPC_CAP_8BITMIME))
        return;
    /* Postfix converts every message not declared 7-bit (BODY=7BIT); the
     * queue file tells only BODY=8BITMIME from the rest, so for the rest
     * the content decides: 8-bit bytes are converted (a client that sent
     * them without BODY=8BITMIME), 7-bit content goes as it is, SIZE=
     * included. The engine then takes content_7bit (no BODY= is sent to
     * a server without 8BITMIME). */
    if (m->body != SMTPC_BODY_8BITMIME) {
        if (!smtp_content_has_8bit(d))
            return;
        m->body = SMTPC_BODY_8BITMIME;
    }
    smtp_content_init_7bit(&m->content_7bit, d);
}

/* Reads the header section (at most SMTP_HEADER_SCAN_MAX bytes) into hb. */
#define SMTP_HEADER_SCAN_MAX (1024 * 1024)

static void header_scan(struct agent_delivery *d, struct header_block *hb)
{
    struct buf chunk = BUF_INIT, line = BUF_INIT, why = BUF_INIT;
    size_t total = 0;
    int ended = 0;
    qfile_content_seek(d->qf, 0);
    while (!ended && total < SMTP_HEADER_SCAN_MAX) {
        buf_reset(&why);
        if (qfile_content_read(d->qf, &chunk, 8192, &why) != QFILE_OK)
            break; /* the transaction will report it */
        if (chunk.len == 0) {
            if (line.len > 0)
                header_block_line(hb, line.data, line.len);
            break;
        }
        total += chunk.len;
        for (size_t k = 0; k < chunk.len && !ended; k++) {
            char c = chunk.data[k];
            if (c != '\n') {
                if (line.len < HEADER_SIZE_LIMIT)
                    buf_append_char(&line, c);
                continue;
            }
            size_t len = line.len;
            if (len > 0 && line.data[len - 1] == '\r')
                len--;
            if (header_block_line(hb, line.data, len) != HEADER_LINE_FIELD)
                ended = 1;
            buf_reset(&line);
        }
    }
    qfile_content_seek(d->qf, 0);
    buf_free(&chunk);
    buf_free(&line);
    buf_free(&why);
}

int smtp_content_tls_required_no(struct agent_delivery *d)
{
    if (d->qf == NULL)
        return 0;
    struct header_block hb;
    header_block_init(&hb, 0, 0, 0);
    header_scan(d, &hb);
    struct buf value = BUF_INIT;
    int no = header_get(&hb, "TLS-Required", &value) &&
             str_equal_nocase(buf_cstr(&value), "No");
    buf_free(&value);
    header_block_free(&hb);
    return no;
}
