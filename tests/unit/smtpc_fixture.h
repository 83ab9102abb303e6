/* smtpc_fixture.h: a scripted SMTP/LMTP server for the lib/smtpc tests.
 *
 * The engine runs on an event loop in the test's thread; the server is a
 * thread on the other end of a socketpair, playing a script line by
 * line with blocking reads (each bounded by a 5 s timeout, so a client
 * that never sends what the script waits for fails the test instead of
 * hanging it). Script steps:
 *   "< TEXT"    read a line; it must be TEXT
 *   "<~TEXT"    read a line; it must start with TEXT
 *   "> TEXT"    write TEXT and CRLF
 *   ">>TEXT"    write TEXT as is (no CRLF added)
 *   "<DATA"     read content lines up to the "." line (kept in data)
 *   "<BDAT"     read "BDAT n [LAST]" and its n bytes (kept in data)
 *   "<EOF"      the client must close the connection
 *   "QUIET ms"  nothing more may arrive within ms
 *   "CLOSE"     close the connection
 *   "SLEEP ms"  wait
 * Everything read is kept in transcript (one line per line, LF ended);
 * the first mismatch is kept in error and ends the script. */
#ifndef POSTERN_SMTPC_FIXTURE_H
#define POSTERN_SMTPC_FIXTURE_H

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/event.h"
#include "base/stream.h"
#include "smtpc/smtpc_session.h"

struct peer {
    const char *const *script;
    int fd;
    pthread_t thread;
    struct buf transcript;
    struct buf data; /* content received by <DATA / <BDAT */
    struct buf error;
    int finished;
};

__attribute__((unused)) static void peer_fail(struct peer *p, const char *step,
                                              const char *got)
{
    if (p->error.len == 0)
        buf_appendf(&p->error, "step \"%s\": got \"%s\"", step, got);
}

__attribute__((unused)) static void *peer_main(void *arg)
{
    struct peer *p = arg;
    struct stream *s = stream_open(p->fd);
    struct buf line = BUF_INIT;
    buf_init(&line);
    stream_set_timeout(s, 5000);
    for (const char *const *step = p->script; *step && p->error.len == 0;
         step++) {
        const char *op = *step;
        if (strncmp(op, "< ", 2) == 0 || strncmp(op, "<~", 2) == 0) {
            enum stream_status st = stream_read_line(s, &line, 4096);
            if (st != STREAM_OK) {
                peer_fail(p, op, stream_status_name(st));
                break;
            }
            buf_append(&p->transcript, line.data, line.len);
            buf_append_char(&p->transcript, '\n');
            int ok = op[1] == ' '
                         ? strcmp(line.data, op + 2) == 0
                         : strncmp(line.data, op + 2, strlen(op + 2)) == 0;
            if (!ok)
                peer_fail(p, op, line.data);
        } else if (strncmp(op, "> ", 2) == 0) {
            stream_puts(s, op + 2);
            stream_puts(s, "\r\n");
            stream_flush(s);
        } else if (strncmp(op, ">>", 2) == 0) {
            stream_puts(s, op + 2);
            stream_flush(s);
        } else if (strcmp(op, "<DATA") == 0) {
            for (;;) {
                enum stream_status st = stream_read_line(s, &line, 65536);
                if (st != STREAM_OK) {
                    peer_fail(p, op, stream_status_name(st));
                    break;
                }
                if (!(stream_line_flags(s) & STREAM_LINE_CRLF))
                    peer_fail(p, op, "a line without CRLF");
                if (strcmp(line.data, ".") == 0)
                    break;
                buf_append(&p->data, line.data, line.len);
                buf_append(&p->data, "\r\n", 2);
            }
        } else if (strcmp(op, "<BDAT") == 0) {
            enum stream_status st = stream_read_line(s, &line, 4096);
            if (st != STREAM_OK) {
                peer_fail(p, op, stream_status_name(st));
                break;
            }
            buf_append(&p->transcript, line.data, line.len);
            buf_append_char(&p->transcript, '\n');
            unsigned long size = 0;
            if (sscanf(line.data, "BDAT %lu", &size) != 1) {
                peer_fail(p, op, line.data);
                break;
            }
            if (size > 0 && stream_read_exact(s, &p->data, size) != STREAM_OK)
                peer_fail(p, op, "short chunk");
        } else if (strcmp(op, "<EOF") == 0) {
            enum stream_status st = stream_read_line(s, &line, 4096);
            if (st != STREAM_EOF)
                peer_fail(p, op,
                          st == STREAM_OK ? line.data : stream_status_name(st));
        } else if (strncmp(op, "QUIET ", 6) == 0) {
            struct pollfd pfd = {stream_fd(s), POLLIN, 0};
            if (stream_input_pending(s) > 0 || poll(&pfd, 1, atoi(op + 6)) > 0)
                peer_fail(p, op, "more input");
        } else if (strcmp(op, "CLOSE") == 0) {
            break;
        } else if (strncmp(op, "SLEEP ", 6) == 0) {
            struct timespec ts = {0, atol(op + 6) * 1000000L};
            while (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            nanosleep(&ts, NULL);
        } else {
            peer_fail(p, op, "(unknown step)");
        }
    }
    buf_free(&line);
    stream_close(s);
    p->finished = 1;
    return NULL;
}

/* Starts the peer; *client_fd gets the engine's end. */
__attribute__((unused)) static void
peer_start(struct peer *p, const char *const *script, int *client_fd)
{
    int fds[2];
    memset(p, 0, sizeof(*p));
    buf_init(&p->transcript);
    buf_init(&p->data);
    buf_init(&p->error);
    p->script = script;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
        perror("socketpair");
        exit(2);
    }
    p->fd = fds[1];
    *client_fd = fds[0];
    pthread_create(&p->thread, NULL, peer_main, p);
}

__attribute__((unused)) static void peer_finish(struct peer *p)
{
    pthread_join(p->thread, NULL);
}

__attribute__((unused)) static void peer_free(struct peer *p)
{
    buf_free(&p->transcript);
    buf_free(&p->data);
    buf_free(&p->error);
}

/* ---- the client side ---- */

/* One step's outcome as the done function saw it. */
struct step_seen {
    int called;
    struct smtpc_result result;
};

__attribute__((unused)) static void step_done(struct smtpc_session *session,
                                              const struct smtpc_result *result,
                                              void *ctx)
{
    struct step_seen *seen = ctx;
    (void)session;
    seen->called++;
    smtpc_result_free(&seen->result);
    smtpc_result_copy(&seen->result, result);
}

/* Runs the loop until seen->called or 10 s; 0 when the step ended. */
__attribute__((unused)) static int run_until(struct event_loop *loop,
                                             struct step_seen *seen)
{
    for (int i = 0; i < 1000 && !seen->called; i++)
        event_loop_once(loop, 10);
    return seen->called ? 0 : -1;
}

/* Content from memory, handed out piece bytes at a time (small pieces
 * test the line-end and dot-stuffing state across reads). */
struct mem_content {
    const char *data;
    size_t len, pos, piece;
    int fail_at; /* > 0: fail when pos reaches it */
};

__attribute__((unused)) static ssize_t mem_read(void *ctx, char *data,
                                                size_t len, struct buf *why)
{
    struct mem_content *m = ctx;
    if (m->fail_at > 0 && m->pos >= (size_t)m->fail_at) {
        buf_set_str(why, "queue file read error");
        return -1;
    }
    size_t n = m->len - m->pos;
    if (n > len)
        n = len;
    if (m->piece && n > m->piece)
        n = m->piece;
    memcpy(data, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

/* A client session on a fresh peer: the fixture a test case holds. */
struct client {
    struct event_loop *loop;
    struct stream *stream;
    struct smtpc_settings settings;
    struct smtpc_session *session;
    struct peer peer;
};

__attribute__((unused)) static void
client_start(struct client *c, const char *const *script, int lmtp)
{
    int fd;
    memset(c, 0, sizeof(*c));
    peer_start(&c->peer, script, &fd);
    c->loop = event_loop_new();
    c->stream = stream_open(fd);
    smtpc_settings_defaults(&c->settings, lmtp);
    c->settings.helo_name = "client.example";
    c->session = smtpc_session_new(c->loop, c->stream, &c->settings,
                                   "mx.example.com", "192.0.2.1");
}

/* Greeting and EHLO; 0 when they went well. */
__attribute__((unused)) static int client_hello(struct client *c)
{
    struct step_seen seen = {0};
    smtpc_hello(c->session, step_done, &seen);
    int rc = run_until(c->loop, &seen) == 0 && seen.result.outcome == SMTPC_SENT
                 ? 0
                 : -1;
    smtpc_result_free(&seen.result);
    return rc;
}

__attribute__((unused)) static void client_end(struct client *c)
{
    smtpc_session_free(c->session);
    stream_close(c->stream);
    peer_finish(&c->peer);
    event_loop_free(c->loop);
}

__attribute__((unused)) static void rcpts_free(struct smtpc_rcpt *rcpts,
                                               size_t count)
{
    for (size_t i = 0; i < count; i++)
        smtpc_result_free(&rcpts[i].result);
}

#endif
