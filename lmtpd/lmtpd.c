/* lmtpd.c: the LMTP server's process and connection (lmtpd.h): settings,
 * the command loop with PIPELINING, replies and the session's log lines.
 *
 * Replies are buffered and written when the client has nothing more
 * waiting in our input buffer (before any read that could block), so a
 * client that pipelines MAIL, RCPT... and DATA gets their replies in
 * one write, as RFC 2920 expects of a server. */
#include "lmtpd.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "config/config.h"
#include "delivery/virtual_mailbox.h"
#include "ipc/server.h"
#include "smtp/smtp_reply_out.h"

struct lmtpd_settings lmtpd_var;

static void settings_load(void)
{
    struct lmtpd_settings *v = &lmtpd_var;
    v->myhostname = cfg_str("myhostname");
    v->mail_name = cfg_str("mail_name");
    long long timeout = cfg_time("lmtpd_timeout");
    v->timeout_ms = timeout > 86400 ? 86400 * 1000 : (int)timeout * 1000;
    v->line_length_limit = cfg_int("line_length_limit");
    if (v->line_length_limit < 512)
        v->line_length_limit = 512;
    v->message_size_limit = cfg_size("message_size_limit");
    v->temp_directory = cfg_str("lmtpd_temp_directory");
    v->relay = server_service();
}

/* ---- replies ---- */

static void reply_v(struct lmtpd_session *s, const char *fmt, va_list ap)
{
    smtp_reply_write(s->stream, s->namaddr, fmt, ap);
}

void lmtpd_reply(struct lmtpd_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_v(s, fmt, ap);
    va_end(ap);
}

void lmtpd_error_reply(struct lmtpd_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_v(s, fmt, ap);
    va_end(ap);
    if (++s->errors >= LMTPD_ERROR_LIMIT && !s->closing) {
        lmtpd_reply(s, "421 4.7.0 %s Error: too many errors",
                    lmtpd_var.myhostname);
        log_warn("too many errors from %s", s->namaddr);
        s->closing = 1;
    }
}

/* ---- the connection ---- */

/* Who is at the other end: an address for TCP; a unix socket has none
 * (the client is a process on this host). */
static void identify_client(struct lmtpd_session *s)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    str_copy(s->name, "localhost", sizeof(s->name));
    s->addr[0] = 0;
    if (getpeername(stream_fd(s->stream), (struct sockaddr *)&ss, &len) == 0 &&
        (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
        char host[NI_MAXHOST];
        if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), NULL,
                        0, NI_NUMERICHOST) == 0) {
            const char *h = host;
            if (str_has_prefix(h, "::ffff:") && strchr(h, '.'))
                h += 7;
            str_copy(s->addr, h, sizeof(s->addr));
            str_copy(s->name, h, sizeof(s->name));
        }
    }
    snprintf(s->namaddr, sizeof(s->namaddr), "%s[%s]", s->name,
             s->addr[0] ? s->addr : "unix");
}

/* Before a read that may wait: send what the client waits for. */
static int flush_if_idle(struct lmtpd_session *s)
{
    size_t avail;
    const char *in = stream_peek(s->stream, &avail);
    if (avail > 0 && memchr(in, '\n', avail))
        return 0; /* a whole command is here: answer it first */
    if (stream_output_pending(s->stream) == 0)
        return 0;
    return stream_flush(s->stream) == STREAM_OK ? 0 : -1;
}

static void serve(struct stream *stream)
{
    struct lmtpd_session *s = xcalloc(1, sizeof(*s));
    s->stream = stream;
    stream_set_timeout(stream, lmtpd_var.timeout_ms);
    smtp_cmd_init(&s->cmd);
    buf_init(&s->line);
    lmtpd_spool_init(&s->spool, lmtpd_var.temp_directory);
    identify_client(s);
    log_info("connect from %s", s->namaddr);
    lmtpd_greeting(s);
    const char *lost = NULL;
    while (!s->closing && !s->lost) {
        if (flush_if_idle(s) < 0) {
            lost = "lost connection";
            break;
        }
        enum stream_status st = stream_read_line(
            stream, &s->line, (size_t)lmtpd_var.line_length_limit);
        if (st == STREAM_TOO_LONG) {
            lmtpd_error_reply(s, "500 5.5.0 Error: line too long");
            continue;
        }
        if (st == STREAM_TIMEOUT) {
            lmtpd_reply(s, "421 4.4.2 %s Error: timeout exceeded",
                        lmtpd_var.myhostname);
            lost = "timeout";
            break;
        }
        if (st != STREAM_OK) {
            lost = "lost connection";
            break;
        }
        lmtpd_command(s, s->line.data, s->line.len);
    }
    /* A connection lost during DATA was logged there. */
    if (lost)
        log_info("%s after %s from %s", lost,
                 s->in_mail ? "MAIL" : (s->lhlo ? "LHLO" : "CONNECT"),
                 s->namaddr);
    (void)stream_flush(stream);
    log_info("disconnect from %s", s->namaddr);
    lmtpd_reset_transaction(s);
    lmtpd_spool_free(&s->spool);
    smtp_cmd_free(&s->cmd);
    buf_free(&s->line);
    free(s->lhlo);
    free(s);
}

/* Runs as root when master does (master.cf: unpriv = n): each delivery
 * switches to the mailbox owner, as virtual's do. */
static void lmtpd_pre_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    settings_load();
    virtual_mailbox_init();
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .mode = SERVER_SINGLE,
        .pre_init = lmtpd_pre_init,
        .serve = serve,
    };
    return server_main(argc, argv, &ops);
}
