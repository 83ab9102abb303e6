/* smtp_connect.c: one connection to one address of a next hop, ready for
 * a transaction: a non-blocking connect bounded by smtp_connect_timeout,
 * then the greeting and EHLO (LHLO) through the engine, all on the
 * process's private event loop (smtp.h), then STARTTLS as the next
 * hop's TLS policy says (smtp_tls.c). */
#include "smtp.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"

void smtp_loop_run_until(int *done)
{
    struct event_loop *loop = smtp_loop();
    while (!*done) {
        if (event_fd_count(loop) == 0 && event_timer_count(loop) == 0)
            log_panic("smtp: nothing left to wait for in the event loop");
        if (event_loop_once(loop, -1) < 0 && errno != EINTR)
            log_fatal("event loop: %s", strerror(errno));
    }
}

uint64_t smtp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the connect ---- */

struct connect_wait {
    int done;
    int timed_out;
    struct event_timer timer;
};

static void connect_writable(struct event_loop *loop, int fd, unsigned events,
                             void *ctx)
{
    struct connect_wait *w = ctx;
    w->done = 1;
}

static void connect_timer(struct event_loop *loop, void *ctx)
{
    struct connect_wait *w = ctx;
    w->timed_out = 1;
    w->done = 1;
}

static void connect_failed(const struct smtp_addr *a, int error,
                           struct smtpc_result *why)
{
    why->outcome = SMTPC_DEFERRED;
    snprintf(why->status, sizeof(why->status), "4.4.1");
    why->failure = error == ETIMEDOUT ? SMTPC_FAIL_TIMEOUT : SMTPC_FAIL_LOST;
    buf_reset(&why->reason);
    if (a->family == AF_UNIX)
        buf_appendf(&why->reason, "connect to %s: %s", a->addr,
                    strerror(error));
    else
        buf_appendf(&why->reason, "connect to %s[%s]:%u: %s", a->host,
                    a->addr, a->port, strerror(error));
}

/* A connected socket, or -1 with why filled. */
static int connect_addr(const struct smtp_addr *a, struct smtpc_result *why)
{
    int fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        connect_failed(a, errno, why);
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)&a->sa, a->salen) == 0)
        return fd;
    if (errno != EINPROGRESS) {
        connect_failed(a, errno, why);
        close(fd);
        return -1;
    }
    struct event_loop *loop = smtp_loop();
    struct connect_wait w;
    memset(&w, 0, sizeof(w));
    event_timer_init(&w.timer, connect_timer, &w);
    if (event_fd_add(loop, fd, EVENT_WRITE, connect_writable, &w) < 0)
        log_fatal("event_fd_add: %s", strerror(errno));
    if (smtp_cfg.connect_timeout_ms > 0)
        event_timer_start(loop, &w.timer, (uint64_t)smtp_cfg.connect_timeout_ms);
    smtp_loop_run_until(&w.done);
    event_fd_remove(loop, fd);
    event_timer_stop(loop, &w.timer);
    int error = ETIMEDOUT;
    if (!w.timed_out) {
        socklen_t len = sizeof(error);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
            error = errno;
    }
    if (error != 0) {
        connect_failed(a, error, why);
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- the session ---- */

struct step_wait {
    int done;
    struct smtpc_result result;
};

static void step_done(struct smtpc_session *session,
                      const struct smtpc_result *result, void *ctx)
{
    struct step_wait *w = ctx;
    smtpc_result_copy(&w->result, result);
    w->done = 1;
}

/* One connection, up to EHLO and STARTTLS. plain: without TLS (the
 * retry after a failed opportunistic handshake). */
static struct smtp_conn *conn_open_once(const struct smtp_addr *a,
                                        const char *key,
                                        const struct smtp_tls_hop *hop,
                                        int plain, struct smtpc_result *why,
                                        int *retry_plain)
{
    *retry_plain = 0;
    int fd = connect_addr(a, why);
    if (fd < 0)
        return NULL;
    if (a->family != AF_UNIX) {
        /* Pipelined commands go out at once, not behind Nagle. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    struct smtp_conn *c = xcalloc(1, sizeof(*c));
    c->stream = stream_open(fd);
    c->addr = *a;
    c->key = xstrdup(key);
    c->tls_signature = xstrdup(buf_cstr(&hop->signature));
    smtp_addr_format(a, &c->relay);
    c->opened_ms = smtp_now_ms();
    c->session = smtpc_session_new(smtp_loop(), c->stream, &smtp_cfg.engine,
                                   a->host, a->addr);
    struct step_wait w;
    memset(&w, 0, sizeof(w));
    smtpc_hello(c->session, step_done, &w);
    smtp_loop_run_until(&w.done);
    if (w.result.outcome != SMTPC_SENT) {
        *why = w.result; /* moved: w.result is not freed here */
        smtp_conn_drop(c);
        return NULL;
    }
    smtpc_result_free(&w.result);
    if (smtp_tls_start(c, hop, plain, why, retry_plain) < 0) {
        /* A session still usable (STARTTLS refused, TLS not offered)
         * ends politely. */
        smtp_conn_close(c, 1);
        return NULL;
    }
    return c;
}

struct smtp_conn *smtp_conn_open(const struct smtp_addr *a, const char *key,
                                 const struct smtp_tls_hop *hop,
                                 struct smtpc_result *why)
{
    smtpc_result_free(why);
    memset(why, 0, sizeof(*why));
    int retry_plain = 0;
    struct smtp_conn *c = conn_open_once(a, key, hop, 0, why, &retry_plain);
    if (c == NULL && retry_plain) {
        /* As Postfix: an opportunistic destination whose handshake failed
         * is tried once more in plain text, lest its mail wait forever. */
        struct buf relay = BUF_INIT;
        smtp_addr_format(a, &relay);
        log_info("%s: TLS handshake failed; trying again without TLS",
                 buf_cstr(&relay));
        buf_free(&relay);
        smtpc_result_free(why);
        memset(why, 0, sizeof(*why));
        c = conn_open_once(a, key, hop, 1, why, &retry_plain);
    }
    return c;
}

void smtp_conn_drop(struct smtp_conn *c)
{
    if (c == NULL)
        return;
    smtpc_session_free(c->session);
    tls_conn_free(c->tls); /* before the stream closes the fd */
    stream_close(c->stream);
    free(c->key);
    free(c->tls_signature);
    buf_free(&c->relay);
    free(c);
}

void smtp_conn_close(struct smtp_conn *c, int quit)
{
    if (c == NULL)
        return;
    if (quit && smtpc_session_usable(c->session)) {
        struct step_wait w;
        memset(&w, 0, sizeof(w));
        smtpc_quit(c->session, step_done, &w);
        smtp_loop_run_until(&w.done);
        smtpc_result_free(&w.result);
    }
    smtp_conn_drop(c);
}
