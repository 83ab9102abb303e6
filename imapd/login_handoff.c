/* login_handoff.c: what imap-login does after a successful login
 * (docs/imapd.md, "Handoff"): it sends imapd's dispatcher one record
 * (the user, uid, gid, home and mail the auth service answered, the
 * session's addresses and id, the login command's tag, and the bytes
 * the client pipelined after it) with a descriptor, over
 * $queue_directory/private/imapd.
 *
 * Without TLS the descriptor is the client's own socket and this process
 * is done with the session once imapd has answered. With TLS it keeps
 * the TLS connection and passes one end of a socketpair instead, then
 * relays plaintext between the two: the worker never sees TLS and never
 * holds the key. Idle, a relayed session keeps no buffers of ours
 * (OpenSSL releases its own: SSL_MODE_RELEASE_BUFFERS).
 *
 * imapd answers with the worker's pid (mpid=) for the Login line, or
 * with a failure it has already told the client about. */
#include "login.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/auth_line.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "ipc/fd_pass.h"
#include "ipc/server.h"
#include "tls/tls_conn.h"

#define HANDOFF_CONNECT_TIMEOUT_MS 5000
#define HANDOFF_REPLY_TIMEOUT_MS 30000
#define PROXY_CHUNK 16384

static void on_reply(struct event_loop *loop, int fd, unsigned events,
                     void *ctx);
static void on_worker_io(struct event_loop *loop, int fd, unsigned events,
                         void *ctx);

static const char *field(const struct auth_line *fields, const char *name)
{
    const char *value = auth_line_param(fields, 2, name);
    return value ? value : "";
}

static void internal_error(struct login_session *s, const char *why)
{
    log_warn("%s: cannot hand the session of %s to imapd: %s", s->rip,
             s->user ? s->user : "?", why);
    login_reply(s,
                "%s NO [UNAVAILABLE] Internal error occurred. Refer to "
                "server log for more information.",
                s->tag);
    free(s->tag);
    s->tag = NULL;
    s->state = LOGIN_CMD;
    login_run(s);
}

static struct attr_msg *record(struct login_session *s, const char *user,
                               const struct auth_line *fields,
                               const char *input, size_t input_len)
{
    long uid = 0, gid = 0;
    if (str_to_long(field(fields, "uid"), &uid) < 0 ||
        str_to_long(field(fields, "gid"), &gid) < 0)
        return NULL;
    struct attr_msg *msg = attr_msg_new(HANDOFF_PROTO, 1);
    attr_add_str(msg, "user", user);
    attr_add_num(msg, "uid", uid);
    attr_add_num(msg, "gid", gid);
    attr_add_str(msg, "home", field(fields, "home"));
    attr_add_str(msg, "mail", field(fields, "mail"));
    attr_add_str(msg, "session", s->session);
    attr_add_str(msg, "rip", s->rip);
    attr_add_str(msg, "rport", s->rport);
    attr_add_str(msg, "lip", s->lip);
    attr_add_str(msg, "lport", s->lport);
    attr_add_num(msg, "tls", s->tls_active);
    attr_add_str(msg, "tag", s->tag);
    attr_add_str(msg, "enabled", "");
    attr_add_bytes(msg, "input", input, input_len);
    attr_add_str(msg, "method", s->method);
    return msg;
}

void login_handoff(struct login_session *s, const char *user,
                   const struct auth_line *fields)
{
    size_t pending = 0;
    const char *input = stream_peek(s->stream, &pending);
    if (s->tls_active)
        pending = 0; /* relayed to the worker as it comes */
    if (pending > HANDOFF_INPUT_MAX) {
        internal_error(s, "too much pipelined input");
        return;
    }
    struct attr_msg *msg = record(s, user, fields, input, pending);
    if (msg == NULL) {
        internal_error(s, "the auth service gave no valid uid and gid");
        return;
    }
    struct buf wire = BUF_INIT, err = BUF_INIT;
    attr_encode(msg, &wire);
    attr_msg_free(msg);
    char *path = xasprintf("%s/private/imapd", imapd_var.queue_directory);
    int conn = attr_connect(path, HANDOFF_CONNECT_TIMEOUT_MS, &err);
    free(path);
    int pair[2] = {-1, -1};
    int passed = s->fd;
    if (conn >= 0 && s->tls_active) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
            buf_set_str(&err, "socketpair failed");
            close(conn);
            conn = -1;
        }
        passed = pair[1];
    }
    if (conn >= 0 && fd_pass_send(conn, wire.data, wire.len, passed) < 0) {
        buf_set_str(&err, "sending the record failed");
        close(conn);
        conn = -1;
    }
    buf_free(&wire);
    if (pair[1] >= 0)
        close(pair[1]);
    if (conn < 0) {
        if (pair[0] >= 0)
            close(pair[0]);
        internal_error(s, buf_cstr(&err));
        buf_free(&err);
        return;
    }
    buf_free(&err);
    s->logged_in = 1;
    s->handoff_fd = conn;
    imap_reader_free(&s->reader);
    imap_reader_init(&s->reader, &imapd_var.limits);
    if (event_fd_add(server_loop(), conn, EVENT_READ, on_reply, s) < 0)
        log_warn("event_fd_add: %m");
    event_timer_start(server_loop(), &s->timer, HANDOFF_REPLY_TIMEOUT_MS);
    if (!s->tls_active) {
        /* The worker owns the client now. */
        event_fd_remove(server_loop(), s->fd);
        stream_close(s->stream);
        s->stream = NULL;
        s->fd = -1;
        s->state = LOGIN_HANDOFF;
        return;
    }
    s->proxy_fd = pair[0];
    int flags = fcntl(s->proxy_fd, F_GETFL);
    if (flags >= 0)
        (void)fcntl(s->proxy_fd, F_SETFL, flags | O_NONBLOCK);
    s->state = LOGIN_PROXY;
    if (event_fd_add(server_loop(), s->proxy_fd, 0, on_worker_io, s) < 0) {
        log_warn("event_fd_add: %m");
        login_destroy(s);
        return;
    }
    login_proxy_io(s, EVENT_READ, 0);
}

static void log_login(struct login_session *s, long mpid)
{
    struct buf line = BUF_INIT;
    buf_append_str(&line, "Login: ");
    login_log_fields(s, &line, 1, mpid);
    imapd_log("imap-login", "%s", buf_cstr(&line));
    buf_free(&line);
}

static void reply_done(struct login_session *s)
{
    event_fd_remove(server_loop(), s->handoff_fd);
    close(s->handoff_fd);
    s->handoff_fd = -1;
    event_timer_stop(server_loop(), &s->timer);
    if (s->state == LOGIN_HANDOFF)
        login_destroy(s);
}

static void on_reply(struct event_loop *loop, int fd, unsigned events,
                     void *ctx)
{
    (void)loop;
    (void)events;
    struct login_session *s = ctx;
    char data[512];
    ssize_t n = read(fd, data, sizeof(data));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    struct attr_msg *msg = NULL;
    struct buf err = BUF_INIT;
    size_t used = 0;
    long long status = -1, mpid = 0;
    if (n > 0 &&
        attr_decode(data, (size_t)n, NULL, &msg, &used, &err) == ATTR_OK) {
        if (attr_check_proto(msg, HANDOFF_REPLY_PROTO, 1, &err) < 0 ||
            attr_get_num(msg, "status", &status, &err) < 0 ||
            attr_get_num(msg, "mpid", &mpid, &err) < 0)
            status = -1;
        attr_msg_free(msg);
    }
    if (status == 0)
        log_login(s, (long)mpid);
    else
        log_warn("%s: imapd refused the session of %s%s%s", s->rip,
                 s->user ? s->user : "?", err.len ? ": " : "", buf_cstr(&err));
    buf_free(&err);
    reply_done(s);
}

/* ---- the TLS relay ---- */

static void proxy_interest(struct login_session *s)
{
    size_t out = stream_output_pending(s->stream);
    unsigned client = 0, worker = 0;
    int reading = s->to_worker.len == 0;
    if (reading)
        client |= EVENT_READ;
    if (out)
        client |= EVENT_WRITE;
    client |= login_tls_interest(s, reading, out > 0);
    if (out == 0)
        worker |= EVENT_READ;
    if (s->to_worker.len)
        worker |= EVENT_WRITE;
    event_fd_set(server_loop(), s->fd, client);
    event_fd_set(server_loop(), s->proxy_fd, worker);
}

/* Client to worker: 0 go on, 1 wait, -1 the session is over. */
static int client_to_worker(struct login_session *s)
{
    while (s->to_worker.len == 0) {
        enum stream_status st =
            stream_read_some(s->stream, &s->to_worker, PROXY_CHUNK);
        if (st == STREAM_AGAIN)
            return 1;
        if (st != STREAM_OK)
            return -1;
        ssize_t n = write(s->proxy_fd, s->to_worker.data, s->to_worker.len);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
        if (n > 0)
            buf_consume(&s->to_worker, (size_t)n);
    }
    ssize_t n = write(s->proxy_fd, s->to_worker.data, s->to_worker.len);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
        return -1;
    if (n > 0)
        buf_consume(&s->to_worker, (size_t)n);
    return s->to_worker.len ? 1 : 0;
}

/* Worker to client: the same outcomes. */
static int worker_to_client(struct login_session *s)
{
    static char chunk[PROXY_CHUNK];
    for (;;) {
        if (stream_output_pending(s->stream) > 0) {
            enum stream_status st = stream_flush(s->stream);
            if (st == STREAM_AGAIN)
                return 1;
            if (st != STREAM_OK)
                return -1;
        }
        ssize_t n = read(s->proxy_fd, chunk, sizeof(chunk));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 1;
        if (n <= 0)
            return -1;
        stream_write(s->stream, chunk, (size_t)n);
    }
}

void login_proxy_io(struct login_session *s, unsigned events, int on_worker)
{
    (void)events;
    (void)on_worker;
    for (int round = 0; round < 2; round++) {
        int a = client_to_worker(s);
        int b = worker_to_client(s);
        if (a < 0 || b < 0) {
            (void)stream_flush(s->stream);
            login_destroy(s);
            return;
        }
    }
    if (s->to_worker.len == 0)
        buf_free(&s->to_worker);
    stream_trim(s->stream);
    proxy_interest(s);
}

static void on_worker_io(struct event_loop *loop, int fd, unsigned events,
                         void *ctx)
{
    (void)loop;
    (void)fd;
    login_proxy_io(ctx, events, 1);
}

void login_handoff_end(struct login_session *s)
{
    if (s->handoff_fd >= 0) {
        event_fd_remove(server_loop(), s->handoff_fd);
        close(s->handoff_fd);
        s->handoff_fd = -1;
    }
    if (s->proxy_fd >= 0) {
        event_fd_remove(server_loop(), s->proxy_fd);
        close(s->proxy_fd);
        s->proxy_fd = -1;
    }
    buf_free(&s->to_worker);
}
