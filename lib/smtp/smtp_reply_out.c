/* smtp_reply_out.c: one server reply line (see smtp_reply_out.h). */
#include "smtp/smtp_reply_out.h"

#include "base/buf.h"
#include "base/log.h"

void smtp_reply_write(struct stream *stream, const char *namaddr,
                      const char *fmt, va_list ap)
{
    struct buf text = BUF_INIT;
    buf_vappendf(&text, fmt, ap);
    /* Never let a CR or LF from a table or the client into a reply. */
    for (size_t i = 0; i < text.len; i++)
        if (text.data[i] == '\r' || text.data[i] == '\n')
            text.data[i] = ' ';
    if (log_verbose_level() > 0)
        log_debug("> %s: %s", namaddr, buf_cstr(&text));
    buf_append(&text, "\r\n", 2);
    stream_write(stream, text.data, text.len);
    buf_free(&text);
}
