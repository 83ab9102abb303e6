/* submit_client.c: one message to smtpd's submit service over ESMTP
 * (see submit_client.h). */
#include "smtp/submit_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct stream *submit_connect(const char *queue_directory, struct buf *err)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    int n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/public/submit",
                     queue_directory);
    if (n < 0 || (size_t)n >= sizeof(sun.sun_path)) {
        buf_set_str(err, "queue directory path too long");
        errno = ENAMETOOLONG;
        return NULL;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        int saved = errno;
        buf_set_str(err, "");
        buf_appendf(err, "connect to %s: %s", sun.sun_path, strerror(saved));
        if (fd >= 0)
            close(fd);
        errno = saved;
        return NULL;
    }
    struct stream *s = stream_open(fd);
    stream_set_timeout(s, SUBMIT_TIMEOUT_MS);
    return s;
}

int submit_down_errno(int err)
{
    return err == ENOENT || err == ECONNREFUSED || err == ENOTDIR;
}

int submit_read_reply(struct stream *s, struct buf *text)
{
    for (;;) {
        if (stream_read_line(s, text, 4096) != STREAM_OK)
            return -1;
        if (text->len < 3)
            return -1;
        if (text->len == 3 || text->data[3] != '-')
            return atoi(text->data);
    }
}

static int command(struct stream *s, struct buf *reply, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int command(struct stream *s, struct buf *reply, const char *fmt, ...)
{
    struct buf line = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&line, fmt, ap);
    va_end(ap);
    buf_append(&line, "\r\n", 2);
    stream_write(s, line.data, line.len);
    buf_free(&line);
    if (stream_flush(s) != STREAM_OK)
        return -1;
    return submit_read_reply(s, reply);
}

/* The greeting's text without its codes: "554 5.7.1 User ..." -> "User
 * ...". */
static void reply_text(const struct buf *reply, struct buf *out)
{
    const char *text = reply->len > 4 ? reply->data + 4 : "";
    if (text[0] >= '2' && text[0] <= '5' && text[1] == '.') {
        const char *space = strchr(text, ' ');
        if (space)
            text = space + 1;
    }
    buf_set_str(out, text);
}

static enum submit_result failed(int code, const struct buf *reply,
                                 struct buf *why, enum submit_result perm)
{
    buf_set_str(why, code < 0 ? "lost connection" : buf_cstr(reply));
    return code >= 500 ? perm : SUBMIT_TEMPFAIL;
}

/* Sends the content: CRLF line ends, dot-stuffed, then the end dot. */
static int send_content(struct stream *s, const char *content, size_t len,
                        struct buf *reply)
{
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(content + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - content) : len;
        if (content[pos] == '.')
            stream_write(s, ".", 1);
        stream_write(s, content + pos, end - pos);
        stream_write(s, "\r\n", 2);
        pos = end + 1;
    }
    return command(s, reply, ".");
}

enum submit_result submit_message(struct stream *s, const char *sender,
                                  const struct strlist *rcpts,
                                  const char *content, size_t content_len,
                                  struct buf *why, struct strlist *refused,
                                  struct buf *qid)
{
    struct buf reply = BUF_INIT;
    enum submit_result result = SUBMIT_OK;
    int code = submit_read_reply(s, &reply);
    if (code >= 500) {
        reply_text(&reply, why);
        result = SUBMIT_USER_REFUSED;
        goto done;
    }
    if (code != 220 || (code = command(s, &reply, "EHLO localhost")) != 250 ||
        (code = command(s, &reply, "MAIL FROM:<%s>", sender)) != 250) {
        result = failed(code, &reply, why, SUBMIT_REJECTED);
        goto done;
    }
    size_t accepted = 0;
    for (size_t i = 0; i < rcpts->count; i++) {
        code = command(s, &reply, "RCPT TO:<%s>", rcpts->items[i]);
        if (code == 250 || code == 251) {
            accepted++;
            continue;
        }
        struct buf line = BUF_INIT;
        buf_appendf(&line, "%s: %s", rcpts->items[i],
                    code < 0 ? "lost connection" : buf_cstr(&reply));
        strlist_add(refused, line.data);
        buf_free(&line);
        result = failed(code, &reply, why, SUBMIT_RCPT_REFUSED);
        if (code < 0)
            goto done;
        if (result == SUBMIT_TEMPFAIL)
            break; /* the rest would be refused the same way */
    }
    if (accepted == 0 && result == SUBMIT_OK) {
        buf_set_str(why, "no recipients");
        result = SUBMIT_RCPT_REFUSED;
    }
    if (result != SUBMIT_OK)
        goto done;
    if ((code = command(s, &reply, "DATA")) != 354) {
        result = failed(code, &reply, why, SUBMIT_REJECTED);
        goto done;
    }
    code = send_content(s, content, content_len, &reply);
    if (code != 250) {
        result = failed(code, &reply, why, SUBMIT_REJECTED);
        goto done;
    }
    /* "250 2.0.0 Ok: queued as QID" */
    const char *as = strstr(buf_cstr(&reply), "queued as ");
    if (as && qid)
        buf_set_str(qid, as + strlen("queued as "));
    (void)command(s, &reply, "QUIT");
done:
    buf_free(&reply);
    stream_close(s);
    return result;
}
