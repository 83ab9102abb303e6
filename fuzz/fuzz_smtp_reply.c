/* fuzz_smtp_reply.c: fuzz target for what an SMTP/LMTP server sends the
 * client (lib/smtpc): the reply reader and the EHLO extension parser
 * line by line, then a whole client session (greeting, EHLO, a message
 * to three recipients, QUIT) against the input as the server's bytes.
 * The first byte picks SMTP or LMTP and whether BDAT is allowed.
 *
 * Checks the reader's promises: a complete reply has a code in 200..599,
 * a valid status whose class matches the code, text within its bound,
 * no more lines than allowed; and the session's: every step ends, every
 * recipient gets a decided result with a valid status. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/event.h"
#include "base/stream.h"
#include "message/dsn.h"
#include "smtpc/smtpc_caps.h"
#include "smtpc/smtpc_reply.h"
#include "smtpc/smtpc_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(const struct smtpc_reply *r)
{
    if (r->code < 200 || r->code > 599)
        abort();
    if (!dsn_status_valid(r->status))
        abort();
    if (r->status[0] != (char)('0' + smtpc_reply_class(r)))
        abort();
    if (r->text.len > SMTPC_REPLY_MAX_TEXT ||
        r->lines.count > SMTPC_REPLY_MAX_LINES)
        abort();
}

static void parse_lines(const char *text, size_t size)
{
    struct smtpc_reply reply;
    struct smtpc_caps caps;
    struct buf why = BUF_INIT;
    smtpc_reply_init(&reply);
    smtpc_caps_init(&caps);
    size_t pos = 0;
    while (pos < size) {
        const char *nl = memchr(text + pos, '\n', size - pos);
        size_t end = nl ? (size_t)(nl - text) : size;
        size_t len = end - pos;
        if (len > 0 && text[pos + len - 1] == '\r')
            len--;
        enum smtpc_reply_state st =
            smtpc_reply_feed(&reply, text + pos, len, &why);
        if (st == SMTPC_REPLY_DONE) {
            check_reply(&reply);
            smtpc_caps_parse(&caps, &reply);
            if (caps.size_limit < 0)
                abort();
        }
        if (st != SMTPC_REPLY_MORE)
            smtpc_reply_reset(&reply);
        pos = end + 1;
    }
    smtpc_caps_free(&caps);
    smtpc_reply_free(&reply);
    buf_free(&why);
}

struct seen {
    int called;
    enum smtpc_outcome outcome;
};

static void done_fn(struct smtpc_session *s, const struct smtpc_result *result,
                    void *ctx)
{
    struct seen *seen = ctx;
    (void)s;
    seen->called = 1;
    seen->outcome = result->outcome;
    if (result->outcome == SMTPC_PENDING || !dsn_status_valid(result->status))
        abort();
}

static ssize_t content_read(void *ctx, char *out, size_t len, struct buf *why)
{
    static const char body[] = "Subject: x\n\n.leading dot\nline\r\n.\nend";
    size_t *pos = ctx;
    (void)why;
    size_t n = sizeof(body) - 1 - *pos;
    if (n > len)
        n = len;
    if (n > 7)
        n = 7;
    memcpy(out, body + *pos, n);
    *pos += n;
    return (ssize_t)n;
}

static int run_step(struct event_loop *loop, struct seen *seen)
{
    for (int i = 0; i < 200 && !seen->called; i++)
        event_loop_once(loop, 5);
    if (!seen->called)
        abort(); /* a step that never ends */
    return seen->outcome == SMTPC_SENT;
}

static void run_session(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 60000)
        return;
    unsigned mode = data[0];
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
        return;
    if (write(fds[1], data + 1, size - 1) != (ssize_t)(size - 1)) {
        close(fds[0]);
        close(fds[1]);
        return;
    }
    shutdown(fds[1], SHUT_WR);

    struct event_loop *loop = event_loop_new();
    struct stream *stream = stream_open(fds[0]);
    struct smtpc_settings settings;
    smtpc_settings_defaults(&settings, mode & 1);
    settings.bdat_enable = (mode & 2) != 0;
    settings.bdat_chunk_size = 16;
    settings.pipeline_limit = 2;
    settings.helo_timeout_ms = settings.mail_timeout_ms = 200;
    settings.rcpt_timeout_ms = settings.data_init_timeout_ms = 200;
    settings.data_xfer_timeout_ms = settings.data_done_timeout_ms = 200;
    settings.rset_timeout_ms = settings.quit_timeout_ms = 200;
    struct smtpc_session *s =
        smtpc_session_new(loop, stream, &settings, "mx.example", "192.0.2.1");

    struct seen seen = {0};
    smtpc_hello(s, done_fn, &seen);
    if (run_step(loop, &seen)) {
        size_t pos = 0;
        struct smtpc_rcpt rcpts[3];
        memset(rcpts, 0, sizeof(rcpts));
        rcpts[0].address = "a@example.org";
        rcpts[0].notify = DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE;
        rcpts[0].orcpt = "rfc822;a@example.org";
        rcpts[1].address = "b@example.org";
        rcpts[2].address = "c@example.org";
        struct smtpc_message msg;
        memset(&msg, 0, sizeof(msg));
        msg.sender = "s@example.net";
        msg.size = 40;
        msg.body = (mode & 4) ? SMTPC_BODY_8BITMIME : SMTPC_BODY_NONE;
        msg.envid = "id+1";
        msg.ret = SMTPC_RET_HDRS;
        msg.rcpts = rcpts;
        msg.rcpt_count = 3;
        msg.content.read = content_read;
        msg.content.read_ctx = &pos;
        for (int round = 0; round < 2 && smtpc_session_usable(s); round++) {
            pos = 0;
            memset(&seen, 0, sizeof(seen));
            smtpc_send(s, &msg, done_fn, &seen);
            run_step(loop, &seen);
            for (int i = 0; i < 3; i++) {
                if (rcpts[i].result.outcome == SMTPC_PENDING ||
                    !dsn_status_valid(rcpts[i].result.status))
                    abort();
                smtpc_result_free(&rcpts[i].result);
            }
        }
        if (smtpc_session_usable(s)) {
            memset(&seen, 0, sizeof(seen));
            smtpc_quit(s, done_fn, &seen);
            run_step(loop, &seen);
        }
    }
    smtpc_session_free(s);
    stream_close(stream);
    close(fds[1]);
    event_loop_free(loop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_lines((const char *)data, size);
    run_session(data, size);
    return 0;
}
