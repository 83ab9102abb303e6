/* auth_server.h: the server side of Dovecot's authentication protocol
 * (v1.x) as a state machine without I/O, so the daemon (auth/auth.c),
 * the unit tests and the fuzz target drive the same code.
 *
 * One auth_server holds what every connection shares: the passdb, the
 * failure counters (auth_penalty.h) and the settings. Each client
 * connection is an auth_conn: feed it the client's lines, send what it
 * appends to `out`. Requests are multiplexed by their id; each runs a
 * SASL exchange (sasl.h) whose password checks go through the passdb.
 *
 * A failed attempt is answered failure_delay_ms after the line that
 * failed it arrived (not after the check ended): the FAIL line is
 * held by the connection until auth_conn_flush_due() is called at or
 * after its due time (the daemon runs a timer; nothing blocks), and the
 * id stays in use meanwhile. A protocol error (a malformed line, an
 * unknown command, a reused id, AUTH before the handshake) makes
 * auth_conn_input return -1: close the connection and log
 * auth_conn_error(). docs/auth.md describes the protocol subset and the
 * log lines. */
#ifndef POSTERN_AUTH_SERVER_H
#define POSTERN_AUTH_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth/passdb.h"
#include "base/buf.h"

/* The protocol version we speak (Dovecot 2.x speaks 1.2 or later). */
#define AUTH_PROTO_MAJOR 1
#define AUTH_PROTO_MINOR 2

/* Requests one connection may have in progress (waiting for CONT or for
 * their delayed FAIL); more get an immediate FAIL. */
#define AUTH_CONN_MAX_REQUESTS 64

struct auth_verify_job;

struct auth_server_settings {
    struct passdb *passdb;         /* not owned */
    unsigned failure_delay_ms;     /* auth_failure_delay */
    unsigned lockout_threshold;    /* auth_lockout_threshold; 0: off */
    uint64_t lockout_window_ms;    /* auth_lockout_window */
    pid_t pid;                     /* SPID */
    /* auth_request_timeout: a request waiting this long for the
     * client's CONT is answered FAIL (at auth_conn_flush_due); 0: never. */
    uint64_t request_timeout_ms;
    /* The whole program name failure lines are logged under
     * (auth_failure_log_ident); NULL or "" for the usual one. */
    const char *failure_log_ident;
    /* auth_username_format (username_format.h), applied to the login
     * name before anything else; NULL: names are used as given. Check
     * it with username_format_check first. Copied. */
    const char *username_format;
    /* Services whose OK carries uid, gid, home and mail. */
    int (*wants_userdb)(const char *service);
    /* Fills what a user's entry leaves unset (uid, gid, home, mail) from
     * the virtual maps; 0, or -1 with err (a temporary failure). NULL:
     * such users fail temporarily for those services. */
    int (*complete_user)(const char *user, struct passdb_user *u,
                         struct buf *err);
    /* Optional: runs a password check in the background (a worker
     * thread): call auth_verify_job_run(job) there and
     * auth_verify_job_done(job, ...) back in the caller's thread. NULL:
     * checks run inline (tests, fuzzing). A check of a costly hash
     * (argon2: a third of a second) then holds up no other request. */
    void (*verify_async)(struct auth_verify_job *job, void *ctx);
    void *verify_ctx;
};

struct auth_server;
struct auth_conn;

struct auth_server *auth_server_new(const struct auth_server_settings *s);
void auth_server_free(struct auth_server *srv);

/* Password checks started so far (not counting unknown users and
 * locked-out attempts, which cost none): for tests and the log. */
unsigned long auth_server_password_checks(const struct auth_server *srv);

/* The default wants_userdb: "imap" and "pop3". */
int auth_service_wants_userdb(const char *service);

struct auth_conn *auth_conn_new(struct auth_server *srv);
void auth_conn_free(struct auth_conn *conn);

/* Appends the server's handshake (VERSION, MECH..., SPID, CUID, COOKIE,
 * DONE); send it at once on connect. */
void auth_conn_handshake(struct auth_conn *conn, struct buf *out);

/* One line from the client, without its LF. Replies are appended to
 * out. Returns 0, or -1 to close the connection (see auth_conn_error). */
int auth_conn_input(struct auth_conn *conn, const char *line, size_t len,
                    uint64_t now_ms, struct buf *out);

/* Appends the replies finished in the background (auth_verify_job_done),
 * the delayed FAIL replies due at now_ms, and a FAIL for each request
 * that waited request_timeout_ms for a CONT. Returns when the next of
 * those is due, or 0 when none is. */
uint64_t auth_conn_flush_due(struct auth_conn *conn, uint64_t now_ms,
                             struct buf *out);

/* Requests in progress (waiting for CONT, being checked, or holding a
 * delayed FAIL): the daemon keeps a connection with none of them
 * subject to its idle timeout. */
size_t auth_conn_requests(const struct auth_conn *conn);

/* Worker side of verify_async: the password check itself. Touches only
 * the job. */
void auth_verify_job_run(struct auth_verify_job *job);

/* Loop side: finishes the request the job belongs to and frees the job.
 * Returns the connection that now has replies to send (call
 * auth_conn_flush_due to collect them), or NULL when the request or its
 * connection went away meanwhile. */
struct auth_conn *auth_verify_job_done(struct auth_verify_job *job,
                                       uint64_t now_ms);

/* A pointer the caller keeps with the connection (its session). */
void auth_conn_set_context(struct auth_conn *conn, void *context);
void *auth_conn_context(const struct auth_conn *conn);

/* Why auth_conn_input returned -1. */
const char *auth_conn_error(const struct auth_conn *conn);

/* The client's pid from CPID (0 before it), for log lines. */
unsigned long auth_conn_client_pid(const struct auth_conn *conn);

#endif
