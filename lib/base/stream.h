/* stream.h: the one buffered stream over a file descriptor.
 *
 * Every protocol reads and writes through a stream: bounded line reads
 * with an explicit outcome, exact-length reads, buffered writes and
 * flushes. A stream works in two modes:
 *
 *  - blocking (the default): each operation waits as long as needed, up
 *    to the stream's timeout for the whole operation (poll(2) under the
 *    hood, so the fd itself may be blocking or not);
 *  - non-blocking (stream_set_nonblocking): for the event loop. An
 *    operation that cannot finish with the data at hand returns
 *    STREAM_AGAIN, leaving its state in the stream; stream_wants() says
 *    whether to wait for readability or writability before calling it
 *    again. The fd is put in O_NONBLOCK mode.
 *
 * TLS slots in underneath through struct stream_io: the stream then reads
 * and writes through those functions instead of read(2)/write(2).
 *
 * SMTP needs to know how each line ended (bare LF and bare CR are the
 * stuff of SMTP smuggling), so stream_line_flags() reports it. */
#ifndef POSTERN_STREAM_H
#define POSTERN_STREAM_H

#include <stddef.h>
#include <sys/types.h>

#include "base/buf.h"

enum stream_status {
    STREAM_OK = 0,   /* done */
    STREAM_AGAIN,    /* non-blocking mode: would block; see stream_wants() */
    STREAM_TOO_LONG, /* line longer than max; the rest of it was discarded */
    STREAM_EOF,      /* peer closed; no (more) data */
    STREAM_TIMEOUT,  /* the operation's timeout expired */
    STREAM_ERROR,    /* I/O error; stream_errno() says which */
};

/* How the line from the last successful stream_read_line() ended. */
#define STREAM_LINE_CRLF 1u    /* with CR LF */
#define STREAM_LINE_LF 2u      /* with a bare LF (no CR before it) */
#define STREAM_LINE_NO_EOL 4u  /* with end of file, no newline at all */
#define STREAM_LINE_BARE_CR 8u /* the line holds a CR not followed by LF */

/* What a non-blocking operation waits for (same values as EVENT_READ and
 * EVENT_WRITE in event.h, so they can be passed to event_fd_set). */
#define STREAM_WANT_READ 1u
#define STREAM_WANT_WRITE 2u

/* An I/O layer under the stream (TLS). Functions behave like read(2) and
 * write(2): >0 bytes, 0 for EOF (read), -1 with errno; EAGAIN means
 * "call again when the fd is ready", and wants() then tells for what
 * (a TLS read may need the fd writable). pending() counts bytes the
 * layer already holds decoded, so the stream does not wait on the fd for
 * them. wants and pending may be NULL. */
struct stream_io {
    ssize_t (*read)(void *ctx, void *data, size_t len);
    ssize_t (*write)(void *ctx, const void *data, size_t len);
    unsigned (*wants)(void *ctx);
    size_t (*pending)(void *ctx);
};

struct stream;

/* Wraps fd (not duplicated; owned by the stream from now on). Blocking
 * mode, no timeout. */
struct stream *stream_open(int fd);
/* Frees the stream and closes its fd. Unflushed output is dropped. */
void stream_close(struct stream *s);
/* Frees the stream without closing the fd; returns the fd. */
int stream_release(struct stream *s);
int stream_fd(const struct stream *s);

/* Timeout for each blocking operation in milliseconds; -1 = none. */
void stream_set_timeout(struct stream *s, int timeout_ms);
int stream_timeout(const struct stream *s);
/* Switches to non-blocking mode (and sets O_NONBLOCK) or back. */
int stream_set_nonblocking(struct stream *s, int enabled);
/* Puts an I/O layer under the stream; NULL restores plain fd I/O. */
void stream_set_io(struct stream *s, const struct stream_io *io, void *ctx);
/* For a nonblocking stream on a plain socket whose owner polls it level-
 * triggered: a read that returns less than it asked for is taken to have
 * emptied the socket, so the next read returns STREAM_AGAIN without the
 * system call that would only say so; stream_readable() (call it when
 * the poll reports input) allows reading again. A wrong guess costs one
 * poll round, never a hang: the owner polls whenever it sees AGAIN. */
void stream_set_short_read_drains(struct stream *s, int enabled);
void stream_readable(struct stream *s);

/* ---- reading ---- */

/* Reads one line into `line` (replacing its contents) without its line
 * ending, at most max bytes of content. A CR directly before the LF is
 * part of the ending. Results:
 *   STREAM_OK       a line; see stream_line_flags(). A final line without
 *                   newline before EOF is returned with STREAM_LINE_NO_EOL.
 *   STREAM_TOO_LONG the line exceeded max; `line` holds its first max
 *                   bytes and everything up to and including the next LF
 *                   is discarded (in non-blocking mode the discarding
 *                   continues invisibly in later calls).
 *   STREAM_EOF      no more data. STREAM_TIMEOUT, STREAM_ERROR,
 *                   STREAM_AGAIN (non-blocking) as usual.
 * Never buffers much more than max bytes of one line. */
enum stream_status stream_read_line(struct stream *s, struct buf *line,
                                    size_t max);
unsigned stream_line_flags(const struct stream *s);

/* Appends exactly len bytes to out, or nothing: on STREAM_AGAIN the
 * bytes so far stay in the stream, so len must be bounded by the caller.
 * EOF before len bytes gives STREAM_EOF (the partial data stays in the
 * stream and can be read with stream_read_some). */
enum stream_status stream_read_exact(struct stream *s, struct buf *out,
                                     size_t len);
/* Appends between 1 and max bytes to out (what is buffered, or one read). */
enum stream_status stream_read_some(struct stream *s, struct buf *out,
                                    size_t max);
/* One read into the input buffer (waiting up to the timeout in blocking
 * mode). STREAM_OK when bytes arrived. For event-loop callers. */
enum stream_status stream_fill(struct stream *s);
/* Unread input held by the stream (and its I/O layer). A server checks
 * this is 0 before starting TLS: bytes sent before the handshake must
 * never be read as if they came after it. */
size_t stream_input_pending(const struct stream *s);
/* Direct access to buffered input, for parsers that decode in place
 * (lib/ipc/attr): the unread bytes, then consume what was used. */
const char *stream_peek(const struct stream *s, size_t *len);
void stream_consume(struct stream *s, size_t len);

/* ---- writing ---- */

/* Buffers output. In blocking mode a large buffer is flushed on the way;
 * a failure then shows in the next stream_flush(). */
void stream_write(struct stream *s, const void *data, size_t len);
void stream_puts(struct stream *s, const char *str);
void stream_printf(struct stream *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes out the buffer: STREAM_OK when all is written; STREAM_AGAIN in
 * non-blocking mode when some is left (wait for stream_wants());
 * STREAM_TIMEOUT or STREAM_ERROR (sticky: later flushes fail too). */
enum stream_status stream_flush(struct stream *s);
size_t stream_output_pending(const struct stream *s);
/* Frees the input and output buffers when they hold nothing unread or
 * unwritten (a session gone idle: a many-session daemon keeps kilobytes,
 * not a read chunk, per idle connection). They are allocated again on
 * the next read or write. */
void stream_trim(struct stream *s);

/* After STREAM_AGAIN: STREAM_WANT_READ and/or STREAM_WANT_WRITE. */
unsigned stream_wants(const struct stream *s);
/* errno of the last STREAM_ERROR. */
int stream_errno(const struct stream *s);
/* A short name for a status ("ok", "timeout", ...) for log lines. */
const char *stream_status_name(enum stream_status status);

#endif
