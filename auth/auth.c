/* auth.c: the auth service, the only process that reads password data.
 *
 * One long-running process (master.cf: `auth unix - - n - 1 auth`) on
 * the event loop, serving every client connection on its unix socket
 * ($queue_directory/private/auth): Postern's smtpd, and a Postfix with
 * smtpd_sasl_type = dovecot. Each connection speaks Dovecot's
 * authentication protocol, handled by lib/auth/auth_server.c; this file
 * does the I/O: lines in (at most AUTH_LINE_MAX bytes, else the
 * connection is closed), replies out, a timer per connection for
 * failure replies held back by auth_failure_delay and requests timed out
 * by auth_request_timeout, an idle timer (auth_client_idle_timeout), and
 * the auth_client_connection_limit.
 *
 * Run under a service name ending in "userdb" (master.cf: `auth-userdb
 * unix - - n - 1 auth`, socket private/auth-userdb) the same program
 * answers Dovecot's auth-master USER lookups instead
 * (lib/auth/auth_master.c), for mailbox servers.
 *
 * Password checks run in worker threads (base/bgjob): an ARGON2ID check
 * takes a third of a second and 64 MiB, and must not hold up the other
 * clients. The workers touch only the job (no files, no tables).
 *
 * The passdb tables are opened before privileges are dropped, so a
 * root-only file can be read at start; a passwd-file is re-read when it
 * changes (then it must be readable by mail_owner), and `postern reload`
 * starts a fresh process that opens everything again. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "auth/auth_line.h"
#include "auth/auth_master.h"
#include "auth/auth_server.h"
#include "auth/username_format.h"
#include "base/bgjob.h"
#include "base/buf.h"
#include "base/event.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/stream.h"
#include "config/config.h"
#include "ipc/server.h"

/* Password checks at once: each ARGON2ID check holds 64 MiB. */
#define AUTH_VERIFY_THREADS 2

static struct passdb *passdb;
static struct auth_server *auth_server;
static struct auth_server_settings server_settings;
/* This process serves the auth-master (userdb) protocol: its master.cf
 * service name ends in "userdb" (auth-userdb). */
static int userdb_role;
static struct bgjob_pool *verify_pool;

/* auth_client_connection_limit, and how many are open. */
static unsigned connection_limit;
static unsigned connection_count;
static int limit_logged; /* since the count last dropped below the limit */
static unsigned idle_timeout_ms; /* auth_client_idle_timeout */

struct session {
    struct stream *stream;
    struct auth_conn *conn;          /* the auth (login) protocol, or */
    struct auth_master_conn *master; /* the userdb protocol */
    struct buf line, out;
    struct event_timer delayed; /* the next held-back FAIL or timeout */
    struct event_timer idle;    /* auth_client_idle_timeout */
};

static void session_free(struct session *s, const char *why)
{
    struct event_loop *loop = server_loop();
    if (why)
        log_warn("auth client (pid %lu): %s; closing the connection",
                 s->conn ? auth_conn_client_pid(s->conn) : 0ul, why);
    event_fd_remove(loop, stream_fd(s->stream));
    event_timer_stop(loop, &s->delayed);
    event_timer_stop(loop, &s->idle);
    stream_close(s->stream);
    auth_conn_free(s->conn);
    auth_master_conn_free(s->master);
    buf_free(&s->line);
    buf_free(&s->out);
    free(s);
    if (--connection_count < connection_limit)
        limit_logged = 0;
    server_session_end();
}

/* Sends what is in s->out, re-arms the delay timer and the fd interest.
 * Returns -1 when the session was freed. */
static int session_send(struct session *s)
{
    struct event_loop *loop = server_loop();
    uint64_t next =
        s->conn ? auth_conn_flush_due(s->conn, event_now_ms(loop), &s->out)
                : 0;
    if (next)
        event_timer_start(loop, &s->delayed, next - event_now_ms(loop));
    else
        event_timer_stop(loop, &s->delayed);
    if (s->out.len) {
        stream_write(s->stream, s->out.data, s->out.len);
        buf_reset(&s->out);
    }
    enum stream_status st = stream_flush(s->stream);
    if (st == STREAM_ERROR) {
        session_free(s, NULL);
        return -1;
    }
    event_fd_set(loop, stream_fd(s->stream),
                 st == STREAM_AGAIN ? EVENT_READ | EVENT_WRITE : EVENT_READ);
    return 0;
}

static void session_delayed(struct event_loop *loop, void *ctx)
{
    session_send(ctx);
}

/* Nothing from the client for auth_client_idle_timeout: a connection
 * with requests in progress waits for them (each is bounded by
 * auth_request_timeout); one without is closed. Clients reconnect for
 * their next login (Postfix does). */
static void session_idle(struct event_loop *loop, void *ctx)
{
    struct session *s = ctx;
    if (s->conn && auth_conn_requests(s->conn) > 0) {
        event_timer_start(loop, &s->idle, idle_timeout_ms);
        return;
    }
    log_info("auth client (pid %lu): idle for %us; closing the connection",
             s->conn ? auth_conn_client_pid(s->conn) : 0ul,
             idle_timeout_ms / 1000);
    session_free(s, NULL);
}

static void verify_work(void *ctx)
{
    auth_verify_job_run(ctx);
}

static void verify_done(void *ctx)
{
    struct auth_conn *conn =
        auth_verify_job_done(ctx, event_now_ms(server_loop()));
    if (conn)
        session_send(auth_conn_context(conn));
}

static void verify_async(struct auth_verify_job *job, void *ctx)
{
    bgjob_submit(verify_pool, verify_work, verify_done, job);
}

static void session_io(struct event_loop *loop, int fd, unsigned events,
                       void *ctx)
{
    struct session *s = ctx;
    enum stream_status st;
    if (events & EVENT_READ)
        event_timer_start(loop, &s->idle, idle_timeout_ms);
    while ((st = stream_read_line(s->stream, &s->line, AUTH_LINE_MAX)) ==
           STREAM_OK) {
        if (s->master) {
            if (auth_master_input(s->master, s->line.data, s->line.len,
                                  &s->out) < 0) {
                session_free(s, auth_master_error(s->master));
                return;
            }
            continue;
        }
        if (auth_conn_input(s->conn, s->line.data, s->line.len,
                            event_now_ms(loop), &s->out) < 0) {
            session_free(s, auth_conn_error(s->conn));
            return;
        }
    }
    if (st == STREAM_TOO_LONG) {
        session_free(s, "line longer than the protocol's limit");
        return;
    }
    if (st != STREAM_AGAIN) {
        session_free(s, NULL); /* EOF or error: the client went away */
        return;
    }
    session_send(s);
}

static void accept_client(int fd)
{
    if (connection_count >= connection_limit) {
        /* Closed at once, so the client sees EOF instead of waiting in
         * the listen queue; logged once each time the limit is reached. */
        if (!limit_logged)
            log_warn("%u client connections, the auth_client_connection_"
                     "limit: refusing new connections until some close",
                     connection_count);
        limit_logged = 1;
        close(fd);
        return;
    }
    connection_count++;
    struct session *s = xcalloc(1, sizeof(*s));
    s->stream = stream_open(fd);
    stream_set_nonblocking(s->stream, 1);
    if (userdb_role) {
        s->master = auth_master_conn_new(&server_settings);
    } else {
        s->conn = auth_conn_new(auth_server);
        auth_conn_set_context(s->conn, s);
    }
    buf_init(&s->line);
    buf_init(&s->out);
    event_timer_init(&s->delayed, session_delayed, s);
    event_timer_init(&s->idle, session_idle, s);
    event_timer_start(server_loop(), &s->idle, idle_timeout_ms);
    server_session_begin();
    event_fd_add(server_loop(), fd, EVENT_READ, session_io, s);
    if (s->master)
        auth_master_handshake(s->master, &s->out);
    else
        auth_conn_handshake(s->conn, &s->out);
    session_send(s);
}

static void auth_pre_init(int argc, char **argv)
{
    struct buf err = BUF_INIT;
    if (username_format_check(cfg_str("auth_username_format"), &err) < 0)
        log_fatal("%s", buf_cstr(&err));
    passdb = passdb_open(cfg_str("passdb"), &err);
    if (passdb == NULL)
        log_fatal("%s", buf_cstr(&err));
    if (passdb_table_count(passdb) == 0)
        log_warn("passdb is empty: every login fails");
    auth_userdb_init();
    buf_free(&err);
}

static void auth_post_init(int argc, char **argv)
{
    const char *service = server_service() ? server_service() : "";
    size_t service_len = strlen(service);
    userdb_role = service_len >= 6 &&
                  strcmp(service + service_len - 6, "userdb") == 0;
    struct auth_server_settings settings = {
        .passdb = passdb,
        .failure_delay_ms = (unsigned)cfg_time("auth_failure_delay") * 1000u,
        .lockout_threshold = (unsigned)cfg_int("auth_lockout_threshold"),
        .lockout_window_ms = (uint64_t)cfg_time("auth_lockout_window") * 1000u,
        .pid = getpid(),
        .request_timeout_ms =
            (uint64_t)cfg_time("auth_request_timeout") * 1000u,
        .failure_log_ident = cfg_str("auth_failure_log_ident"),
        .username_format = cfg_str("auth_username_format"),
        .complete_user = auth_userdb_complete,
        .verify_async = verify_async,
    };
    connection_limit = (unsigned)cfg_int("auth_client_connection_limit");
    idle_timeout_ms = (unsigned)cfg_time("auth_client_idle_timeout") * 1000u;
    verify_pool = bgjob_pool_new(server_loop(), AUTH_VERIFY_THREADS);
    auth_server = auth_server_new(&settings);
    server_settings = settings;
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .mode = SERVER_EVENT,
        .pre_init = auth_pre_init,
        .post_init = auth_post_init,
        .accept = accept_client,
        .long_running = 1,
    };
    return server_main(argc, argv, &ops);
}
