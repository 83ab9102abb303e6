/* smtp_content.c: the message content for the protocol engine, read from
 * the queue file of the request as the engine sends it (smtp.h). No copy
 * of the message is made: each read takes the next piece of the content
 * record, so memory stays at one chunk whatever the message size. */
#include "smtp.h"

#include <string.h>

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
