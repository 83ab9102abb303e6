/* smtp_content.c: the message content for the protocol engine, read from
 * the queue file of the request as the engine sends it (smtp.h). No copy
 * of the message is made: each read takes the next piece of the content
 * record, so memory stays at one chunk whatever the message size.
 * Also the one header the client itself reads: TLS-Required (RFC 8689). */
#include "smtp.h"

#include <string.h>

#include "base/str.h"
#include "message/header.h"
#include "queue/qfile_reader.h"

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
