/* dkim_reader.c: header/body split of a streamed message (see
 * dkim_reader.h). */
#include "dkim/dkim_reader.h"

#include <string.h>

void dkim_reader_init(struct dkim_reader *r, void (*on_headers)(void *ctx),
                      void (*on_body)(void *ctx, const char *data, size_t len),
                      void *ctx)
{
    memset(r, 0, sizeof(*r));
    header_block_init(&r->hb, 0, 0, 0);
    buf_init(&r->line);
    r->on_headers = on_headers;
    r->on_body = on_body;
    r->ctx = ctx;
}

/* One complete header line (without its line end). Returns 1 when the
 * header section ended with it. */
static int header_line(struct dkim_reader *r)
{
    size_t len = r->line.len;
    if (len > 0 && r->line.data[len - 1] == '\r')
        len--;
    enum header_line_kind kind = header_block_line(&r->hb, r->line.data, len);
    if (kind == HEADER_LINE_FIELD)
        return 0;
    r->headers_done = 1;
    r->on_headers(r->ctx);
    if (kind == HEADER_LINE_END_BODY) {
        r->on_body(r->ctx, r->line.data, len);
        r->on_body(r->ctx, "\r\n", 2);
    }
    return 1;
}

void dkim_reader_feed(struct dkim_reader *r, const char *data, size_t len)
{
    while (!r->headers_done && len > 0) {
        const char *lf = memchr(data, '\n', len);
        size_t piece = lf ? (size_t)(lf - data) : len;
        /* Room for a field at header_block's size limit and a CR. */
        size_t room = r->hb.size_limit + 2 > r->line.len
                          ? r->hb.size_limit + 2 - r->line.len
                          : 0;
        if (piece > room) {
            r->hb.truncated = 1;
            buf_append(&r->line, data, room);
        } else {
            buf_append(&r->line, data, piece);
        }
        if (lf == NULL)
            return;
        data += piece + 1;
        len -= piece + 1;
        int done = header_line(r);
        buf_reset(&r->line);
        if (done)
            break;
    }
    if (r->headers_done && len > 0)
        r->on_body(r->ctx, data, len);
}

void dkim_reader_end(struct dkim_reader *r)
{
    if (r->ended)
        return;
    r->ended = 1;
    if (r->headers_done)
        return;
    if (r->line.len > 0 && header_line(r))
        return;
    if (!r->headers_done) {
        r->headers_done = 1;
        r->on_headers(r->ctx);
    }
}

int dkim_reader_damaged(const struct dkim_reader *r)
{
    return r->hb.truncated || r->hb.dropped > 0;
}

void dkim_reader_free(struct dkim_reader *r)
{
    header_block_free(&r->hb);
    buf_free(&r->line);
}
