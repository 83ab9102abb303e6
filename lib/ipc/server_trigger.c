/* server_trigger.c: how the skeleton reads triggers (server.h,
 * SERVER_TRIGGER mode; docs/ipc.md, "Triggers").
 *
 * A fifo read or a datagram is one trigger, read without blocking. A
 * stream client (qmgr's public/qmgr, which any local user may connect
 * to) is read by the event loop as its bytes arrive, never by a blocking
 * read: a client that sends one byte every few seconds costs a
 * descriptor and a buffer, not the process's attention. Each client has
 * one deadline for its whole request (SERVER_TRIGGER_DEADLINE_MS from
 * accept, not per read); the request ends at EOF (close or
 * shutdown(SHUT_WR)), when SERVER_TRIGGER_MAX bytes have come, or at the
 * deadline, and its bytes then go to the trigger callback while the
 * client is still connected (server_trigger_peer, server_trigger_reply).
 * A client still sending at its deadline is logged and disconnected; what
 * it sent by then is handled like any trigger (the daemon's parser drops
 * an incomplete request), so a Postfix-style client that waits for the
 * server to close still works. At most SERVER_TRIGGER_PENDING clients are
 * read at once; a new client past that finishes the oldest one early. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/peercred.h"
#include "ipc/master_proto.h"
#include "ipc/server_impl.h"

struct trigger_conn {
    int fd;
    int have_cred;
    struct peercred cred;
    size_t len;
    char data[SERVER_TRIGGER_MAX];
    struct event_timer deadline;
    struct trigger_conn *prev, *next; /* oldest first */
};

static struct {
    struct trigger_conn *oldest, *newest;
    size_t count;
} pending;

/* The client of the trigger being handled (server_trigger_peer and
 * server_trigger_reply); fd -1 otherwise. */
static struct {
    int fd;
    int have_cred;
    struct peercred cred;
} current = {.fd = -1};

int server_trigger_peer(struct peercred *cred)
{
    if (current.fd < 0 || !current.have_cred)
        return -1;
    *cred = current.cred;
    return 0;
}

void server_trigger_reply(const void *data, size_t len)
{
    if (current.fd < 0)
        return;
    /* Never blocks: a client that closed without waiting, or one that
     * does not read, simply misses the reply. */
    ssize_t n = send(current.fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 || (size_t)n != len)
        log_debug("trigger reply: %s", n < 0 ? strerror(errno) : "short write");
}

struct dispatch {
    const char *data;
    size_t len;
};

static void run_trigger(void *ctx)
{
    struct dispatch *work = ctx;
    server_ops_in_use()->trigger(work->data, work->len);
}

/* Hands one trigger's bytes to the daemon, with its client (fd -1 for a
 * fifo or a datagram) reachable through server_trigger_peer/reply. */
static void dispatch(const char *data, size_t len, int fd, int have_cred,
                     const struct peercred *cred)
{
    if (len == 0)
        return;
    current.fd = fd;
    current.have_cred = have_cred;
    if (have_cred)
        current.cred = *cred;
    struct dispatch work = {data, len};
    server_run_counted(run_trigger, &work);
    current.fd = -1;
}

/* Ends a stream client's request: its bytes go to the daemon, then the
 * connection is closed. May not return when it ends the last session of
 * a retiring process (server_session_end). */
static void finish(struct trigger_conn *conn)
{
    struct event_loop *loop = server_loop();
    event_fd_remove(loop, conn->fd);
    event_timer_stop(loop, &conn->deadline);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        pending.oldest = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    else
        pending.newest = conn->prev;
    pending.count--;
    dispatch(conn->data, conn->len, conn->fd, conn->have_cred, &conn->cred);
    close(conn->fd);
    free(conn);
    server_session_end();
}

/* Reads what the client has sent so far; 1 when its request is over
 * (EOF, error, or a full buffer), 0 when more may come. */
static int read_available(struct trigger_conn *conn)
{
    while (conn->len < sizeof(conn->data)) {
        ssize_t n = read(conn->fd, conn->data + conn->len,
                         sizeof(conn->data) - conn->len);
        if (n > 0) {
            conn->len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        return 1; /* EOF or error */
    }
    return 1;
}

static void conn_readable(struct event_loop *loop, int fd, unsigned events,
                          void *ctx)
{
    struct trigger_conn *conn = ctx;
    if (read_available(conn))
        finish(conn);
}

static void conn_deadline(struct event_loop *loop, void *ctx)
{
    struct trigger_conn *conn = ctx;
    if (conn->have_cred)
        log_warn("trigger client uid=%ld pid=%ld: request not complete "
                 "after %d ms (%zu bytes): disconnected",
                 (long)conn->cred.uid, (long)conn->cred.pid,
                 SERVER_TRIGGER_DEADLINE_MS, conn->len);
    else
        log_warn("trigger client: request not complete after %d ms "
                 "(%zu bytes): disconnected",
                 SERVER_TRIGGER_DEADLINE_MS, conn->len);
    finish(conn);
}

/* Starts reading a new stream client. */
static void start_client(int fd)
{
    if (pending.count >= SERVER_TRIGGER_PENDING)
        finish(pending.oldest);
    struct trigger_conn *conn = xcalloc(1, sizeof(*conn));
    conn->fd = fd;
    conn->have_cred = peercred_get(fd, &conn->cred) == 0;
    event_timer_init(&conn->deadline, conn_deadline, conn);
    conn->prev = pending.newest;
    if (pending.newest)
        pending.newest->next = conn;
    else
        pending.oldest = conn;
    pending.newest = conn;
    pending.count++;
    server_session_begin();
    struct event_loop *loop = server_loop();
    /* A well-behaved client has usually written and closed by now. */
    if (read_available(conn)) {
        finish(conn);
        return;
    }
    if (event_fd_add(loop, fd, EVENT_READ, conn_readable, conn) < 0) {
        log_warn("trigger client: watching fd %d: %s", fd, strerror(errno));
        finish(conn);
        return;
    }
    event_timer_start(loop, &conn->deadline, SERVER_TRIGGER_DEADLINE_MS);
}

void server_trigger_ready(int listen_fd, enum listen_kind kind)
{
    if (kind == LISTEN_FIFO || kind == LISTEN_DGRAM) {
        char data[SERVER_TRIGGER_MAX];
        ssize_t n = kind == LISTEN_FIFO
                        ? read(listen_fd, data, sizeof(data))
                        : recv(listen_fd, data, sizeof(data), MSG_DONTWAIT);
        if (n > 0)
            dispatch(data, (size_t)n, -1, 0, NULL);
        return;
    }
    int fd = server_accept_client(listen_fd);
    if (fd >= 0)
        start_client(fd);
}
