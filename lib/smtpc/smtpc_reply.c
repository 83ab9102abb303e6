/* smtpc_reply.c: the reply reader (see smtpc_reply.h). */
#include "smtpc/smtpc_reply.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void smtpc_reply_init(struct smtpc_reply *reply)
{
    memset(reply, 0, sizeof(*reply));
    buf_init(&reply->text);
    strlist_init(&reply->lines);
}

static void lines_clear(struct strlist *lines)
{
    for (size_t i = 0; i < lines->count; i++)
        free(lines->items[i]);
    lines->count = 0;
}

void smtpc_reply_reset(struct smtpc_reply *reply)
{
    reply->code = 0;
    reply->status[0] = 0;
    reply->status_given = 0;
    buf_reset(&reply->text);
    lines_clear(&reply->lines);
}

void smtpc_reply_free(struct smtpc_reply *reply)
{
    buf_free(&reply->text);
    strlist_free(&reply->lines);
    memset(reply, 0, sizeof(*reply));
}

void smtpc_reply_copy(struct smtpc_reply *dst, const struct smtpc_reply *src)
{
    smtpc_reply_reset(dst);
    dst->code = src->code;
    memcpy(dst->status, src->status, sizeof(dst->status));
    dst->status_given = src->status_given;
    buf_set(&dst->text, src->text.data ? src->text.data : "", src->text.len);
    for (size_t i = 0; i < src->lines.count; i++)
        strlist_add(&dst->lines, src->lines.items[i]);
}

int smtpc_reply_class(const struct smtpc_reply *reply)
{
    int first = reply->code / 100;
    return first == 3 ? 2 : first;
}

static enum smtpc_reply_state malformed(struct buf *why, const char *reason)
{
    if (why)
        buf_set_str(why, reason);
    return SMTPC_REPLY_MALFORMED;
}

enum smtpc_reply_state smtpc_reply_feed(struct smtpc_reply *reply,
                                        const char *line, size_t len,
                                        struct buf *why)
{
    if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
        line[1] > '9' || line[2] < '0' || line[2] > '9')
        return malformed(why, "malformed reply line");
    if (len > 3 && line[3] != ' ' && line[3] != '-')
        return malformed(why, "malformed reply line");
    if (memchr(line, 0, len))
        return malformed(why, "NUL byte in reply");
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    int last = len == 3 || line[3] == ' ';

    if (reply->code == 0) {
        struct dsn_reply parsed;
        reply->code = code;
        if (dsn_parse_reply(line, len, &parsed) == 0) {
            memcpy(reply->status, parsed.status, sizeof(reply->status));
            reply->status_given = parsed.status_given;
        } else {
            reply->status[0] = (char)('0' + smtpc_reply_class(reply));
            memcpy(reply->status + 1, ".0.0", 5);
        }
    } else if (code != reply->code) {
        return malformed(why, "inconsistent reply codes");
    }
    if (reply->lines.count >= SMTPC_REPLY_MAX_LINES)
        return malformed(why, "too many reply lines");

    size_t text_len = len > 4 ? len - 4 : 0;
    char *text = xstrndup(len > 4 ? line + 4 : "", text_len);
    strlist_add(&reply->lines, text);
    free(text);
    if (reply->text.len + 1 + len > SMTPC_REPLY_MAX_TEXT)
        return malformed(why, "reply too long");
    if (reply->text.len)
        buf_append_char(&reply->text, ' ');
    buf_append(&reply->text, line, len);
    return last ? SMTPC_REPLY_DONE : SMTPC_REPLY_MORE;
}
