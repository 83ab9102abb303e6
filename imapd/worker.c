/* worker.c: an imapd worker process, running as one mailbox owner
 * (dispatch.c forked it and dropped its privileges): it takes sessions
 * from the dispatcher over its SOCK_SEQPACKET socket (one handoff record
 * with the client's descriptor per message), serves them all on one
 * event loop, and leaves when it has had none for max_idle (asking the
 * dispatcher first, so no session is lost on the way).
 *
 * A session starts by answering the login command's tag
 * ("TAG OK [CAPABILITY ...] Logged in"), then reads commands through
 * lib/imap's reader and runs them from the command table (cmd_table.c).
 * Autologout after imapd_idle_timeout without a command (at least 30
 * minutes while in IDLE, RFC 9051 5.4). An idle session keeps no
 * buffers (imap_reader_trim, stream_trim). */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "ipc/fd_pass.h"

#define WORKER_MAX_BAD_COMMANDS 20
#define WORKER_OUTPUT_MAX 262144

static struct event_loop *loop;
static struct worker_session *sessions;
static size_t session_count;
static int dispatcher_fd = -1;
static int leaving; /* the dispatcher forgot us: exit with the last session */
static int asked_to_leave;
static struct event_timer idle_timer;

static void session_run(struct worker_session *s);

void worker_reply(struct worker_session *s, const char *fmt, ...)
{
    va_list ap;
    struct buf line = BUF_INIT;
    va_start(ap, fmt);
    buf_vappendf(&line, fmt, ap);
    va_end(ap);
    buf_append_str(&line, "\r\n");
    stream_write(s->stream, line.data, line.len);
    buf_free(&line);
}

void worker_log_component(const struct worker_session *s, struct buf *out)
{
    buf_append_str(out, "imap(");
    imapd_log_safe(out, s->user);
    buf_appendf(out, ")<%ld><%s>", (long)getpid(), s->session);
}

uint64_t worker_now_ms(void)
{
    return event_now_ms(loop);
}

void worker_timer(struct worker_session *s, uint64_t ms)
{
    event_timer_start(loop, &s->timer, ms);
}

static void maybe_leave(void)
{
    if (session_count > 0)
        return;
    if (leaving)
        exit(0);
    event_timer_start(loop, &idle_timer, (uint64_t)imapd_var.max_idle * 1000);
}

static void session_destroy(struct worker_session *s)
{
    struct buf component = BUF_INIT;
    worker_log_component(s, &component);
    imapd_log(buf_cstr(&component),
              "Disconnected: %s in=%llu out=%llu deleted=0 expunged=0 "
              "trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0",
              s->close_reason ? s->close_reason : "Connection closed",
              session_io_in(s->io), session_io_out(s->io));
    buf_free(&component);
    if (s->prev)
        s->prev->next = s->next;
    else
        sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    event_timer_stop(loop, &s->timer);
    event_fd_remove(loop, s->fd);
    stream_close(s->stream);
    session_io_free(s->io);
    imap_reader_free(&s->reader);
    free(s->user);
    free(s->home);
    free(s->mail);
    free(s->idle_tag);
    free(s);
    session_count--;
    maybe_leave();
}

void worker_close(struct worker_session *s, const char *reason)
{
    s->close_reason = reason;
    s->state = WORKER_CLOSING;
}

int worker_bad_command(struct worker_session *s)
{
    if (++s->bad_commands < WORKER_MAX_BAD_COMMANDS)
        return 0;
    worker_reply(s, "* BYE Too many invalid IMAP commands.");
    worker_close(s, "Too many invalid IMAP commands.");
    return 1;
}

static void update_interest(struct worker_session *s, int zpending)
{
    unsigned interest = 0;
    size_t out = stream_output_pending(s->stream);
    if (out || zpending || s->state == WORKER_CLOSING)
        interest |= EVENT_WRITE;
    if (s->state != WORKER_CLOSING && out <= WORKER_OUTPUT_MAX)
        interest |= EVENT_READ;
    event_fd_set(loop, s->fd, interest);
}

static void feed(struct worker_session *s)
{
    while (s->state != WORKER_CLOSING &&
           stream_output_pending(s->stream) <= WORKER_OUTPUT_MAX) {
        size_t avail = 0, used = 0;
        const char *data = stream_peek(s->stream, &avail);
        if (avail == 0)
            return;
        enum imap_reader_event ev =
            imap_reader_feed(&s->reader, data, avail, &used);
        stream_consume(s->stream, used);
        switch (ev) {
        case IMAP_READER_MORE:
            break;
        case IMAP_READER_CONTINUE:
            worker_reply(s, "+ OK");
            break;
        case IMAP_READER_COMMAND:
            worker_command(s, &s->reader.command);
            break;
        case IMAP_READER_LINE:
            worker_idle_line(s, s->reader.line.data, s->reader.line.len);
            break;
        case IMAP_READER_ERROR:
            if (s->state == WORKER_IDLE) {
                worker_idle_line(s, NULL, 0);
                break;
            }
            worker_reply(s, "%s", buf_cstr(&s->reader.error.response));
            if (s->reader.error.close) {
                worker_reply(s, "* BYE Too long argument.");
                worker_close(s, "Too long argument");
            } else {
                (void)worker_bad_command(s);
            }
            break;
        }
    }
}

static void session_run(struct worker_session *s)
{
    for (;;) {
        feed(s);
        if (s->state == WORKER_CLOSING ||
            stream_output_pending(s->stream) > WORKER_OUTPUT_MAX)
            break;
        enum stream_status st = stream_fill(s->stream);
        if (st == STREAM_OK)
            continue;
        if (st == STREAM_AGAIN)
            break;
        if (st == STREAM_ERROR && stream_errno(s->stream) == EPROTO)
            s->close_reason = "Invalid compressed data";
        session_destroy(s);
        return;
    }
    enum stream_status fs = stream_flush(s->stream);
    int zpending = fs == STREAM_OK ? session_io_pending(s->io) : 0;
    if (fs == STREAM_ERROR || fs == STREAM_TIMEOUT || zpending < 0) {
        session_destroy(s);
        return;
    }
    if (s->state == WORKER_CLOSING && fs == STREAM_OK && zpending == 0) {
        session_destroy(s);
        return;
    }
    if (fs == STREAM_OK && zpending == 0 && imap_reader_idle(&s->reader)) {
        imap_reader_trim(&s->reader);
        stream_trim(s->stream);
        session_io_trim(s->io);
    }
    update_interest(s, zpending > 0);
}

static void on_io(struct event_loop *l, int fd, unsigned events, void *ctx)
{
    (void)l;
    (void)fd;
    (void)events;
    session_run(ctx);
}

static void on_timeout(struct event_loop *l, void *ctx)
{
    (void)l;
    struct worker_session *s = ctx;
    static char reason[64];
    uint64_t ms = imapd_var.idle_timeout_ms;
    if (s->state == WORKER_IDLE) {
        if (ms < IDLE_MINIMUM_MS)
            ms = IDLE_MINIMUM_MS;
        uint64_t idled = event_now_ms(loop) - s->idle_since_ms;
        if (idled + 1000 < ms) {
            worker_reply(s, "* OK Still here");
            uint64_t left = ms - idled;
            worker_timer(s, left < imapd_var.idle_notify_ms
                                ? left
                                : imapd_var.idle_notify_ms);
            session_run(s);
            return;
        }
    }
    snprintf(reason, sizeof(reason), "Inactivity - no input for %llu secs",
             (unsigned long long)(ms / 1000));
    worker_reply(s, "* BYE Disconnected for inactivity.");
    (void)stream_flush(s->stream);
    (void)session_io_pending(s->io);
    s->close_reason = reason;
    session_destroy(s);
}

static void session_start(int fd, const struct handoff *h)
{
    struct worker_session *s = xcalloc(1, sizeof(*s));
    s->fd = fd;
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        (void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    s->stream = stream_open(fd);
    stream_set_nonblocking(s->stream, 1);
    s->io = session_io_new(fd, h->input, h->input_len);
    session_io_attach(s->io, s->stream);
    imap_reader_init(&s->reader, &imapd_var.limits);
    s->user = xstrdup(h->user);
    s->home = xstrdup(h->home);
    s->mail = xstrdup(h->mail);
    snprintf(s->session, sizeof(s->session), "%s", h->session);
    s->state = WORKER_AUTHENTICATED;
    event_timer_init(&s->timer, on_timeout, s);
    s->next = sessions;
    if (sessions)
        sessions->prev = s;
    sessions = s;
    session_count++;
    event_timer_stop(loop, &idle_timer);
    if (event_fd_add(loop, fd, 0, on_io, s) < 0) {
        log_warn("event_fd_add: %m");
        session_destroy(s);
        return;
    }
    struct buf caps = BUF_INIT;
    imapd_caps_postlogin(&caps, 0);
    worker_reply(s, "%s OK [CAPABILITY %s] Logged in", h->tag, buf_cstr(&caps));
    buf_free(&caps);
    worker_timer(s, imapd_var.idle_timeout_ms);
    session_run(s);
}

static void on_dispatcher(struct event_loop *l, int fd, unsigned events,
                          void *ctx)
{
    (void)l;
    (void)events;
    (void)ctx;
    static char data[HANDOFF_MAX];
    int client = -1;
    ssize_t n = fd_pass_recv(fd, data, sizeof(data), &client, 1);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0) {
        /* The dispatcher is gone or forgot us: no new sessions. */
        event_fd_remove(loop, fd);
        close(fd);
        dispatcher_fd = -1;
        leaving = 1;
        maybe_leave();
        return;
    }
    struct attr_msg *msg = NULL;
    struct buf err = BUF_INIT;
    size_t used = 0;
    if (attr_decode(data, (size_t)n, handoff_limits(), &msg, &used, &err) !=
        ATTR_OK) {
        log_warn("record from the dispatcher: %s", buf_cstr(&err));
    } else if (strcmp(attr_msg_proto(msg), WORKER_PROTO) == 0) {
        leaving = 1; /* "exit": sent after any session meant for us */
        maybe_leave();
    } else {
        struct handoff h;
        if (client < 0 || handoff_parse(msg, &h, &err) < 0) {
            log_warn("handoff from the dispatcher: %s",
                     client < 0 ? "no descriptor" : buf_cstr(&err));
        } else {
            session_start(client, &h);
            client = -1;
        }
    }
    if (client >= 0)
        close(client);
    attr_msg_free(msg);
    buf_free(&err);
}

static void on_idle(struct event_loop *l, void *ctx)
{
    (void)l;
    (void)ctx;
    if (session_count > 0 || asked_to_leave || dispatcher_fd < 0)
        return;
    asked_to_leave = 1;
    struct attr_msg *msg = attr_msg_new(WORKER_PROTO, 1);
    attr_add_str(msg, "request", "idle");
    struct buf wire = BUF_INIT;
    attr_encode(msg, &wire);
    attr_msg_free(msg);
    if (fd_pass_send(dispatcher_fd, wire.data, wire.len, -1) < 0)
        exit(0);
    buf_free(&wire);
}

void worker_main(int sock, uid_t uid)
{
    (void)uid;
    loop = event_loop_new();
    dispatcher_fd = sock;
    /* Many sessions per process: as many descriptors as we may have. */
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 &&
        files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &files);
    }
    int flags = fcntl(sock, F_GETFL);
    if (flags >= 0)
        (void)fcntl(sock, F_SETFL, flags | O_NONBLOCK);
    event_timer_init(&idle_timer, on_idle, NULL);
    if (event_fd_add(loop, sock, EVENT_READ, on_dispatcher, NULL) < 0)
        log_fatal("event_fd_add: %m");
    maybe_leave();
    if (event_loop_run(loop) < 0)
        log_fatal("event loop: %m");
    exit(0);
}
