/* stream.c: buffered fd streams with bounded reads and timeouts (stream.h). */
#include "base/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/mem.h"

#define STREAM_READ_CHUNK 16384
/* Blocking mode writes out a buffer that grows past this. */
#define STREAM_WRITE_HIGH 65536

struct stream {
    int fd;
    int timeout_ms;
    int nonblocking;       /* stream mode: return STREAM_AGAIN */
    int short_read_drains; /* see stream_set_short_read_drains */
    int drained;           /* a short read emptied the socket */
    int fd_blocking;       /* the fd itself lacks O_NONBLOCK */
    int not_socket;        /* not a socket: use read/write, not recv/send */
    struct buf in;         /* input; unread bytes start at in_pos */
    size_t in_pos;
    size_t scan_pos; /* bytes after in_pos already searched for LF */
    int discarding;  /* dropping the rest of an overlong line */
    int eof;
    unsigned line_flags;
    struct buf out; /* output; unwritten bytes start at out_pos */
    size_t out_pos;
    int write_failed; /* sticky output error */
    int last_errno;
    unsigned wants;
    const struct stream_io *io;
    void *io_ctx;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A deadline of 0 means none. */
static uint64_t op_deadline(const struct stream *s)
{
    return s->timeout_ms < 0 ? 0 : now_ms() + (uint64_t)s->timeout_ms;
}

struct stream *stream_open(int fd)
{
    struct stream *s = xcalloc(1, sizeof(*s));
    s->fd = fd;
    s->timeout_ms = -1;
    int flags = fcntl(fd, F_GETFL);
    s->fd_blocking = flags < 0 || !(flags & O_NONBLOCK);
    struct stat st;
    s->not_socket = fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode);
    buf_init(&s->in);
    buf_init(&s->out);
    return s;
}

int stream_release(struct stream *s)
{
    int fd = s->fd;
    buf_free(&s->in);
    buf_free(&s->out);
    free(s);
    return fd;
}

void stream_trim(struct stream *s)
{
    if (s->in_pos >= s->in.len && !s->discarding) {
        buf_free(&s->in);
        s->in_pos = s->scan_pos = 0;
    }
    if (s->out_pos >= s->out.len) {
        buf_free(&s->out);
        s->out_pos = 0;
    }
}

void stream_close(struct stream *s)
{
    if (s)
        close(stream_release(s));
}

int stream_fd(const struct stream *s)
{
    return s->fd;
}

void stream_set_timeout(struct stream *s, int timeout_ms)
{
    s->timeout_ms = timeout_ms < 0 ? -1 : timeout_ms;
}

int stream_timeout(const struct stream *s)
{
    return s->timeout_ms;
}

int stream_set_nonblocking(struct stream *s, int enabled)
{
    int flags = fcntl(s->fd, F_GETFL);
    if (flags < 0)
        return -1;
    if (enabled && !(flags & O_NONBLOCK) &&
        fcntl(s->fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    s->nonblocking = enabled != 0;
    s->fd_blocking = !(enabled || (flags & O_NONBLOCK));
    return 0;
}

void stream_set_io(struct stream *s, const struct stream_io *io, void *ctx)
{
    s->io = io;
    s->io_ctx = ctx;
}

const char *stream_status_name(enum stream_status status)
{
    switch (status) {
    case STREAM_OK:
        return "ok";
    case STREAM_AGAIN:
        return "again";
    case STREAM_TOO_LONG:
        return "line too long";
    case STREAM_EOF:
        return "lost connection";
    case STREAM_TIMEOUT:
        return "timeout";
    case STREAM_ERROR:
        return "I/O error";
    }
    return "unknown";
}

int stream_errno(const struct stream *s)
{
    return s->last_errno;
}

unsigned stream_wants(const struct stream *s)
{
    return s->wants;
}

/* ---- low-level I/O ---- */

static size_t io_pending(const struct stream *s)
{
    return s->io && s->io->pending ? s->io->pending(s->io_ctx) : 0;
}

/* On sockets, MSG_DONTWAIT makes every call non-blocking without touching
 * the fd's flags (which the peer process may share), so a timeout holds
 * even for a large write; MSG_NOSIGNAL turns SIGPIPE into EPIPE. Other
 * fds (pipes, files) fall back to read/write after poll, in chunks of at
 * most PIPE_BUF when the fd blocks, which poll's POLLOUT guarantees. */
static ssize_t io_read(struct stream *s, void *data, size_t len)
{
    if (s->io)
        return s->io->read(s->io_ctx, data, len);
    if (!s->not_socket)
        return recv(s->fd, data, len, MSG_DONTWAIT);
    return read(s->fd, data, len);
}

static ssize_t io_write(struct stream *s, const void *data, size_t len)
{
    if (s->io)
        return s->io->write(s->io_ctx, data, len);
    if (!s->not_socket)
        return send(s->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (s->fd_blocking && len > PIPE_BUF)
        len = PIPE_BUF;
    return write(s->fd, data, len);
}

/* Whether to poll before each read or write: only a blocking non-socket
 * fd needs it (sockets use MSG_DONTWAIT, then poll on EAGAIN). */
static int poll_first(const struct stream *s)
{
    return s->fd_blocking && !s->nonblocking && (s->not_socket || s->io);
}

static unsigned io_wants(struct stream *s, unsigned natural)
{
    if (s->io && s->io->wants) {
        unsigned w = s->io->wants(s->io_ctx);
        if (w)
            return w;
    }
    return natural;
}

/* Waits for what `want` says until the deadline: STREAM_OK when ready,
 * STREAM_TIMEOUT, or STREAM_ERROR. */
static enum stream_status wait_ready(struct stream *s, unsigned want,
                                     uint64_t deadline)
{
    struct pollfd pfd;
    pfd.fd = s->fd;
    pfd.events = (short)(((want & STREAM_WANT_READ) ? POLLIN : 0) |
                         ((want & STREAM_WANT_WRITE) ? POLLOUT : 0));
    for (;;) {
        int timeout = -1;
        if (deadline) {
            uint64_t now = now_ms();
            if (now >= deadline)
                return STREAM_TIMEOUT;
            uint64_t left = deadline - now;
            timeout = left > INT32_MAX ? INT32_MAX : (int)left;
        }
        int n = poll(&pfd, 1, timeout);
        if (n > 0)
            return STREAM_OK; /* readable, writable, or an error to read */
        if (n == 0)
            return STREAM_TIMEOUT;
        if (errno != EINTR) {
            s->last_errno = errno;
            return STREAM_ERROR;
        }
    }
}

/* One read into the input buffer. */
static enum stream_status fill(struct stream *s, uint64_t deadline)
{
    if (s->eof)
        return STREAM_EOF;
    /* Reclaim consumed space before growing. */
    if (s->in_pos > 0 && (s->in_pos == s->in.len || s->in_pos >= 4096)) {
        buf_consume(&s->in, s->in_pos);
        s->in_pos = 0;
    }
    buf_reserve(&s->in, STREAM_READ_CHUNK);
    if (s->drained && s->nonblocking && !s->io) {
        /* The last read emptied the socket: this one would only say
         * EAGAIN. The owner's poll says when there is more. */
        s->wants = STREAM_WANT_READ;
        return STREAM_AGAIN;
    }
    for (;;) {
        if (poll_first(s) && io_pending(s) == 0) {
            enum stream_status st =
                wait_ready(s, io_wants(s, STREAM_WANT_READ), deadline);
            if (st != STREAM_OK)
                return st;
        }
        size_t room = s->in.cap - s->in.len - 1;
        ssize_t n = io_read(s, s->in.data + s->in.len, room);
        if (n > 0) {
            /* Only a plain socket: TLS returns one record at a time. */
            if (s->short_read_drains && !s->io && (size_t)n < room)
                s->drained = 1;
            s->in.len += (size_t)n;
            s->in.data[s->in.len] = '\0';
            return STREAM_OK;
        }
        if (n == 0) {
            s->eof = 1;
            return STREAM_EOF;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            s->last_errno = errno;
            return STREAM_ERROR;
        }
        s->wants = io_wants(s, STREAM_WANT_READ);
        if (s->nonblocking)
            return STREAM_AGAIN;
        enum stream_status st = wait_ready(s, s->wants, deadline);
        if (st != STREAM_OK)
            return st;
    }
}

void stream_set_short_read_drains(struct stream *s, int enabled)
{
    s->short_read_drains = enabled != 0;
    s->drained = 0;
}

void stream_readable(struct stream *s)
{
    s->drained = 0;
}

enum stream_status stream_fill(struct stream *s)
{
    return fill(s, op_deadline(s));
}

size_t stream_input_pending(const struct stream *s)
{
    return s->in.len - s->in_pos + io_pending(s);
}

const char *stream_peek(const struct stream *s, size_t *len)
{
    *len = s->in.len - s->in_pos;
    return s->in.data ? s->in.data + s->in_pos : "";
}

void stream_consume(struct stream *s, size_t len)
{
    size_t avail = s->in.len - s->in_pos;
    s->in_pos += len < avail ? len : avail;
    s->scan_pos = 0;
}

/* ---- lines ---- */

/* Drops input through the next LF. STREAM_OK once the LF is gone. */
static enum stream_status discard_line(struct stream *s, uint64_t deadline)
{
    for (;;) {
        char *start = s->in.data + s->in_pos;
        size_t avail = s->in.len - s->in_pos;
        char *lf = avail ? memchr(start, '\n', avail) : NULL;
        if (lf) {
            s->in_pos += (size_t)(lf - start) + 1;
            s->discarding = 0;
            return STREAM_OK;
        }
        s->in_pos = s->in.len;
        enum stream_status st = fill(s, deadline);
        if (st == STREAM_EOF) {
            s->discarding = 0;
            return STREAM_OK;
        }
        if (st != STREAM_OK)
            return st;
    }
}

enum stream_status stream_read_line(struct stream *s, struct buf *line,
                                    size_t max)
{
    uint64_t deadline = op_deadline(s);
    enum stream_status st;

    if (s->discarding && (st = discard_line(s, deadline)) != STREAM_OK)
        return st;
    for (;;) {
        const char *start = s->in.data + s->in_pos;
        size_t avail = s->in.len - s->in_pos;
        const char *lf = avail > s->scan_pos ? memchr(start + s->scan_pos, '\n',
                                                      avail - s->scan_pos)
                                             : NULL;
        if (lf) {
            size_t content = (size_t)(lf - start);
            unsigned flags = STREAM_LINE_LF;
            if (content > 0 && start[content - 1] == '\r') {
                content--;
                flags = STREAM_LINE_CRLF;
            }
            s->in_pos += (size_t)(lf - start) + 1;
            s->scan_pos = 0;
            if (content > max) {
                buf_set(line, start, max);
                return STREAM_TOO_LONG;
            }
            buf_set(line, start, content);
            if (memchr(line->data, '\r', line->len))
                flags |= STREAM_LINE_BARE_CR;
            s->line_flags = flags;
            return STREAM_OK;
        }
        s->scan_pos = avail;
        /* max content bytes plus CR LF may still be one valid line. */
        if (avail > max + 1) {
            buf_set(line, start, max);
            s->in_pos = s->in.len;
            s->scan_pos = 0;
            s->discarding = 1;
            st = discard_line(s, deadline);
            if (st == STREAM_OK || st == STREAM_AGAIN)
                return STREAM_TOO_LONG;
            return st;
        }
        st = fill(s, deadline);
        if (st == STREAM_EOF) {
            start = s->in.data ? s->in.data + s->in_pos : "";
            avail = s->in.len - s->in_pos;
            if (avail == 0)
                return STREAM_EOF;
            s->in_pos = s->in.len;
            s->scan_pos = 0;
            if (avail > max) {
                buf_set(line, start, max);
                return STREAM_TOO_LONG;
            }
            buf_set(line, start, avail);
            s->line_flags = STREAM_LINE_NO_EOL;
            if (memchr(line->data, '\r', line->len))
                s->line_flags |= STREAM_LINE_BARE_CR;
            return STREAM_OK;
        }
        if (st != STREAM_OK)
            return st;
    }
}

unsigned stream_line_flags(const struct stream *s)
{
    return s->line_flags;
}

enum stream_status stream_read_exact(struct stream *s, struct buf *out,
                                     size_t len)
{
    uint64_t deadline = op_deadline(s);
    while (s->in.len - s->in_pos < len) {
        /* Make sure fill() has room for the whole remainder. */
        buf_reserve(&s->in, len - (s->in.len - s->in_pos));
        enum stream_status st = fill(s, deadline);
        if (st != STREAM_OK)
            return st;
    }
    buf_append(out, s->in.data + s->in_pos, len);
    s->in_pos += len;
    s->scan_pos = 0;
    return STREAM_OK;
}

enum stream_status stream_read_some(struct stream *s, struct buf *out,
                                    size_t max)
{
    if (max == 0)
        return STREAM_OK;
    if (s->in.len == s->in_pos) {
        enum stream_status st = fill(s, op_deadline(s));
        if (st != STREAM_OK)
            return st;
    }
    size_t avail = s->in.len - s->in_pos;
    size_t take = avail < max ? avail : max;
    buf_append(out, s->in.data + s->in_pos, take);
    s->in_pos += take;
    s->scan_pos = 0;
    return STREAM_OK;
}

/* ---- writing ---- */

static enum stream_status flush_until(struct stream *s, uint64_t deadline)
{
    if (s->write_failed)
        return STREAM_ERROR;
    while (s->out_pos < s->out.len) {
        if (poll_first(s)) {
            enum stream_status st =
                wait_ready(s, io_wants(s, STREAM_WANT_WRITE), deadline);
            if (st == STREAM_ERROR)
                s->write_failed = 1;
            if (st != STREAM_OK)
                return st;
        }
        ssize_t n =
            io_write(s, s->out.data + s->out_pos, s->out.len - s->out_pos);
        if (n > 0) {
            s->out_pos += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            s->wants = io_wants(s, STREAM_WANT_WRITE);
            if (s->nonblocking)
                return STREAM_AGAIN;
            enum stream_status st = wait_ready(s, s->wants, deadline);
            if (st == STREAM_ERROR)
                s->write_failed = 1;
            if (st != STREAM_OK)
                return st;
            continue;
        }
        s->last_errno = n < 0 ? errno : EIO;
        s->write_failed = 1;
        return STREAM_ERROR;
    }
    buf_reset(&s->out);
    s->out_pos = 0;
    return STREAM_OK;
}

enum stream_status stream_flush(struct stream *s)
{
    return flush_until(s, op_deadline(s));
}

size_t stream_output_pending(const struct stream *s)
{
    return s->out.len - s->out_pos;
}

static void maybe_flush(struct stream *s)
{
    if (s->out_pos > 0 && s->out_pos == s->out.len) {
        buf_reset(&s->out);
        s->out_pos = 0;
    }
    if (!s->nonblocking && s->out.len - s->out_pos >= STREAM_WRITE_HIGH)
        (void)flush_until(s, op_deadline(s)); /* failure is sticky */
}

void stream_write(struct stream *s, const void *data, size_t len)
{
    if (s->out_pos >= STREAM_WRITE_HIGH) {
        buf_consume(&s->out, s->out_pos);
        s->out_pos = 0;
    }
    buf_append(&s->out, data, len);
    maybe_flush(s);
}

void stream_puts(struct stream *s, const char *str)
{
    stream_write(s, str, strlen(str));
}

void stream_printf(struct stream *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&s->out, fmt, ap);
    va_end(ap);
    maybe_flush(s);
}
