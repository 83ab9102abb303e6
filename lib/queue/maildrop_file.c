/* maildrop_file.c: writing and parsing the files sendmail leaves in
 * maildrop/ through postdrop (see maildrop_file.h). */
#include "queue/maildrop_file.h"

#include <string.h>

#include "queue/qfile.h"

void maildrop_msg_init(struct maildrop_msg *msg)
{
    buf_init(&msg->sender);
    strlist_init(&msg->rcpts);
    msg->content = NULL;
    msg->content_len = 0;
}

void maildrop_msg_free(struct maildrop_msg *msg)
{
    buf_free(&msg->sender);
    strlist_free(&msg->rcpts);
    msg->content = NULL;
    msg->content_len = 0;
}

int maildrop_file_name(const char *name)
{
    return str_has_prefix(name, MAILDROP_PREFIX) &&
           name[strlen(MAILDROP_PREFIX)] != '\0';
}

int maildrop_format_envelope(struct buf *out, const char *sender,
                             const struct strlist *rcpts, struct buf *err)
{
    if (rcpts->count == 0 || rcpts->count > MAILDROP_MAX_RCPTS) {
        buf_set_str(err, rcpts->count ? "too many recipients"
                                      : "no recipient addresses");
        return -1;
    }
    if (*sender && !qfile_text_ok(sender, strlen(sender))) {
        buf_set_str(err, "invalid sender address");
        return -1;
    }
    for (size_t i = 0; i < rcpts->count; i++) {
        const char *r = rcpts->items[i];
        if (!*r || !qfile_text_ok(r, strlen(r))) {
            buf_set_str(err, "invalid recipient address");
            return -1;
        }
    }
    buf_append_str(out, MAILDROP_MAGIC);
    buf_appendf(out, "S%s\n", sender);
    for (size_t i = 0; i < rcpts->count; i++)
        buf_appendf(out, "R%s\n", rcpts->items[i]);
    buf_append_str(out, "M\n");
    return 0;
}

/* One envelope line at *pos: its type byte and its text (without the
 * LF), or -1 when there is no complete line within the envelope limit. */
static int next_line(const char *data, size_t len, size_t *pos, char *type,
                     const char **text, size_t *text_len)
{
    if (*pos >= len)
        return -1;
    size_t room = len - *pos;
    if (room > QFILE_MAX_TEXT + 2)
        room = QFILE_MAX_TEXT + 2;
    const char *nl = memchr(data + *pos, '\n', room);
    if (nl == NULL)
        return -1;
    *type = data[*pos];
    *text = data + *pos + 1;
    *text_len = (size_t)(nl - *text);
    *pos = (size_t)(nl - data) + 1;
    return 0;
}

int maildrop_parse(const char *data, size_t len, struct maildrop_msg *msg,
                   struct buf *err)
{
    size_t magic_len = strlen(MAILDROP_MAGIC);
    if (len < magic_len || memcmp(data, MAILDROP_MAGIC, magic_len) != 0) {
        buf_set_str(err, "not a maildrop file (bad magic)");
        return -1;
    }
    size_t pos = magic_len;
    int have_sender = 0;
    for (;;) {
        char type;
        const char *text;
        size_t text_len;
        if (pos > MAILDROP_MAX_ENVELOPE ||
            next_line(data, len, &pos, &type, &text, &text_len) < 0) {
            buf_set_str(err, "truncated or overlong envelope line");
            return -1;
        }
        if (type == 'M') {
            if (text_len != 0) {
                buf_set_str(err, "bytes after the content marker");
                return -1;
            }
            break;
        }
        /* Text: no control characters, no NUL; the empty sender is the
         * null sender, an empty recipient is not an address. */
        if (text_len > 0 && !qfile_text_ok(text, text_len)) {
            buf_appendf(err, "invalid text in a '%c' line",
                        (type >= 0x20 && type < 0x7f) ? type : '?');
            return -1;
        }
        if (type == 'S') {
            if (have_sender || msg->rcpts.count > 0) {
                buf_set_str(err, "misplaced sender line");
                return -1;
            }
            buf_set(&msg->sender, text, text_len);
            have_sender = 1;
        } else if (type == 'R') {
            if (!have_sender || text_len == 0 ||
                msg->rcpts.count >= MAILDROP_MAX_RCPTS) {
                buf_set_str(err, !have_sender    ? "recipient before sender"
                                 : text_len == 0 ? "empty recipient"
                                                 : "too many recipients");
                return -1;
            }
            struct buf rcpt = BUF_INIT;
            buf_set(&rcpt, text, text_len);
            strlist_add(&msg->rcpts, rcpt.data);
            buf_free(&rcpt);
        } else {
            buf_set_str(err, "unknown envelope line");
            return -1;
        }
    }
    if (!have_sender || msg->rcpts.count == 0) {
        buf_set_str(err, have_sender ? "no recipients" : "no sender");
        return -1;
    }
    msg->content = data + pos;
    msg->content_len = len - pos;
    return 0;
}
