/* echo_event_service.c: the event-mode twin of echo_service: many
 * clients in one process, each with its own stream and idle timer.
 *
 * Lines are echoed; `pid` answers the process id, `crash` aborts, `quit`
 * ends the session with "bye", `sessions` answers how many sessions this
 * process holds. A session idle for 30 seconds is closed. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/event.h"
#include "base/mem.h"
#include "ipc/server.h"
#include "base/stream.h"

#define SESSION_IDLE_MS 30000

struct session {
    struct stream *stream;
    struct buf line;
    struct event_timer idle;
    int closing; /* close once output is flushed */
};

static void session_free(struct session *s)
{
    struct event_loop *loop = server_loop();
    event_fd_remove(loop, stream_fd(s->stream));
    event_timer_stop(loop, &s->idle);
    stream_close(s->stream);
    buf_free(&s->line);
    free(s);
    server_session_end();
}

static void session_idle(struct event_loop *loop, void *ctx)
{
    session_free(ctx);
}

/* Handles every complete line, then waits for whatever is needed. */
static void session_io(struct event_loop *loop, int fd, unsigned events,
                       void *ctx)
{
    struct session *s = ctx;
    enum stream_status st = STREAM_OK;
    while (!s->closing &&
           (st = stream_read_line(s->stream, &s->line, 1000)) == STREAM_OK) {
        const char *text = buf_cstr(&s->line);
        if (strcmp(text, "crash") == 0)
            abort();
        if (strcmp(text, "pid") == 0) {
            stream_printf(s->stream, "%ld\r\n", (long)getpid());
        } else if (strcmp(text, "sessions") == 0) {
            stream_printf(s->stream, "%zu\r\n", server_session_count());
        } else if (strcmp(text, "quit") == 0) {
            stream_puts(s->stream, "bye\r\n");
            s->closing = 1;
        } else {
            stream_write(s->stream, s->line.data, s->line.len);
            stream_puts(s->stream, "\r\n");
        }
    }
    if (st != STREAM_OK && st != STREAM_AGAIN && st != STREAM_TOO_LONG) {
        session_free(s); /* EOF, error */
        return;
    }
    enum stream_status out = stream_flush(s->stream);
    if (out == STREAM_ERROR || (out == STREAM_OK && s->closing)) {
        session_free(s);
        return;
    }
    event_fd_set(loop, fd, out == STREAM_AGAIN ? EVENT_WRITE : EVENT_READ);
    event_timer_start(loop, &s->idle, SESSION_IDLE_MS);
}

static void accept_client(int fd)
{
    struct session *s = xcalloc(1, sizeof(*s));
    s->stream = stream_open(fd);
    stream_set_nonblocking(s->stream, 1);
    buf_init(&s->line);
    event_timer_init(&s->idle, session_idle, s);
    server_session_begin();
    event_fd_add(server_loop(), fd, EVENT_READ, session_io, s);
    event_timer_start(server_loop(), &s->idle, SESSION_IDLE_MS);
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .mode = SERVER_EVENT,
        .accept = accept_client,
    };
    return server_main(argc, argv, &ops);
}
