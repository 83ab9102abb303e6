/* sql_pgsql.c: the libpq side of pgsql: tables (see sql_driver.h).
 *
 * libpq's blocking calls have no bound of their own on a server that
 * stops answering, so connecting and querying use libpq's asynchronous
 * calls with poll(2) and one deadline each: connect_timeout for the
 * connection (every address libpq tries included), query_timeout for
 * sending the query and reading all of its results. A connection that
 * timed out is closed: it may hold half an answer. */
#include "tables/sql_driver.h"

#ifdef POSTERN_HAVE_PGSQL

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "base/str.h"
#include "tables/sql_lib.h"

#ifndef POSTERN_PQ_SONAME
#define POSTERN_PQ_SONAME "libpq.so.5"
#endif

/* libpq's functions, loaded when the first pgsql: table connects
 * (sql_lib.h). */
#define PQ_FUNCTIONS(X) \
    X(PQclear) \
    X(PQconnectPoll) \
    X(PQconnectStartParams) \
    X(PQconsumeInput) \
    X(PQerrorMessage) \
    X(PQescapeStringConn) \
    X(PQfinish) \
    X(PQflush) \
    X(PQgetResult) \
    X(PQgetisnull) \
    X(PQgetvalue) \
    X(PQisBusy) \
    X(PQnfields) \
    X(PQntuples) \
    X(PQresultErrorMessage) \
    X(PQresultStatus) \
    X(PQsendQuery) \
    X(PQsetnonblocking) \
    X(PQsocket) \
    X(PQstatus)
#define PQ_SLOT(f) __typeof__(f) *f;
static struct {
    PQ_FUNCTIONS(PQ_SLOT)
} pq;

static int pq_load(struct buf *err)
{
#define PQ_SYMBOL(f) {#f, (void **)&pq.f},
    static const struct sql_lib_symbol symbols[] = {PQ_FUNCTIONS(PQ_SYMBOL)};
    static int loaded;
    return sql_lib_load(POSTERN_PQ_SONAME, symbols,
                        sizeof(symbols) / sizeof(symbols[0]), &loaded, err);
}

struct sql_conn {
    PGconn *pg;
};

static long long pgsql_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until the connection's socket is ready for events or the
 * deadline passes. 1 ready, 0 timed out, -1 error. */
static int pgsql_wait(PGconn *pg, short events, long long deadline)
{
    int fd = pq.PQsocket(pg);
    if (fd < 0)
        return -1;
    for (;;) {
        long long left = deadline - pgsql_now_ms();
        if (left <= 0)
            return 0;
        struct pollfd pfd = {.fd = fd, .events = events};
        int n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/* libpq's messages span lines (newline, tab); a log line must not. */
static void pgsql_message(struct buf *err, const char *what,
                          const char *message)
{
    buf_appendf(err, "%s: ", what);
    int space = 0;
    for (const char *p = message; *p; p++) {
        if (*p == '\n' || *p == '\t' || *p == '\r' || *p == ' ') {
            space = 1;
            continue;
        }
        if (space && err->data[err->len - 1] != ' ')
            buf_append_char(err, ' ');
        space = 0;
        buf_append_char(err, *p);
    }
}

static struct sql_conn *pgsql_open(const struct sql_cf *cf,
                                   const struct sql_host *host,
                                   struct buf *err)
{
    if (pq_load(err) < 0)
        return NULL;
    const char *keys[10], *values[10];
    int n = 0;
    char *socket_dir = NULL;
    char port_text[16] = "";
    char timeout_text[16];
    snprintf(timeout_text, sizeof(timeout_text), "%ld", cf->connect_timeout);
    if (host->is_uri) {
        keys[n] = "dbname", values[n++] = host->name;
    } else {
        const char *host_name = host->name;
        if (host->is_unix) {
            /* libpq wants the socket's directory; a path to the socket
             * file itself (.../.s.PGSQL.5432) gives the port too. */
            const char *base = strrchr(host->name, '/');
            if (base && str_has_prefix(base + 1, ".s.PGSQL.")) {
                socket_dir = xstrndup(host->name, (size_t)(base - host->name));
                if (*socket_dir == 0) {
                    free(socket_dir);
                    socket_dir = xstrdup("/");
                }
                str_copy(port_text, base + 1 + 9, sizeof(port_text));
                host_name = socket_dir;
            }
        } else if (host->port) {
            snprintf(port_text, sizeof(port_text), "%u", host->port);
        }
        keys[n] = "host", values[n++] = host_name;
        if (*port_text)
            keys[n] = "port", values[n++] = port_text;
        keys[n] = "dbname", values[n++] = cf->dbname;
        if (cf->user)
            keys[n] = "user", values[n++] = cf->user;
        if (cf->password)
            keys[n] = "password", values[n++] = cf->password;
    }
    keys[n] = "connect_timeout", values[n++] = timeout_text;
    keys[n] = "client_encoding", values[n++] = cf->encoding;
    keys[n] = "application_name", values[n++] = "postern";
    keys[n] = NULL, values[n] = NULL;

    long long deadline = pgsql_now_ms() + cf->connect_timeout * 1000LL;
    PGconn *pg = pq.PQconnectStartParams(keys, values, host->is_uri);
    free(socket_dir);
    if (pg == NULL) {
        buf_appendf(err, "connect: out of memory");
        return NULL;
    }
    PostgresPollingStatusType state = PGRES_POLLING_WRITING;
    while (pq.PQstatus(pg) != CONNECTION_BAD && state != PGRES_POLLING_OK &&
           state != PGRES_POLLING_FAILED) {
        int ready = pgsql_wait(
            pg, state == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
        if (ready <= 0) {
            buf_appendf(err, ready == 0 ? "connect: timed out after %lds"
                                        : "connect: poll failed",
                        cf->connect_timeout);
            pq.PQfinish(pg);
            return NULL;
        }
        state = pq.PQconnectPoll(pg);
    }
    if (pq.PQstatus(pg) != CONNECTION_OK) {
        pgsql_message(err, "connect", pq.PQerrorMessage(pg));
        pq.PQfinish(pg);
        return NULL;
    }
    if (pq.PQsetnonblocking(pg, 1) != 0) {
        pgsql_message(err, "connect", pq.PQerrorMessage(pg));
        pq.PQfinish(pg);
        return NULL;
    }
    struct sql_conn *conn = xcalloc(1, sizeof(*conn));
    conn->pg = pg;
    return conn;
}

static int pgsql_escape(void *ctx, const char *text, size_t len,
                        struct buf *out)
{
    struct sql_conn *conn = ctx;
    buf_reserve(out, 2 * len + 1);
    int error = 0;
    size_t written =
        pq.PQescapeStringConn(conn->pg, out->data + out->len, text, len, &error);
    if (error) {
        out->data[out->len] = 0;
        return -1;
    }
    out->len += written;
    return 0;
}

/* Sends the query and waits until a whole result can be read. */
static int pgsql_send(PGconn *pg, const char *query, long long deadline,
                      long timeout, struct buf *err)
{
    if (!pq.PQsendQuery(pg, query)) {
        pgsql_message(err, "query", pq.PQerrorMessage(pg));
        return -1;
    }
    int flushing;
    while ((flushing = pq.PQflush(pg)) == 1) {
        int ready = pgsql_wait(pg, POLLIN | POLLOUT, deadline);
        if (ready <= 0 || !pq.PQconsumeInput(pg))
            goto failed;
    }
    if (flushing < 0)
        goto failed;
    return 0;
failed:
    if (pgsql_now_ms() >= deadline)
        buf_appendf(err, "query: timed out after %lds", timeout);
    else
        pgsql_message(err, "query", pq.PQerrorMessage(pg));
    return -1;
}

/* Waits for the next result; NULL at the end, *failed set on error. */
static PGresult *pgsql_next_result(PGconn *pg, long long deadline,
                                   long timeout, int *failed,
                                   struct buf *err)
{
    while (pq.PQisBusy(pg)) {
        int ready = pgsql_wait(pg, POLLIN, deadline);
        if (ready <= 0 || !pq.PQconsumeInput(pg)) {
            if (ready == 0)
                buf_appendf(err, "query: timed out after %lds", timeout);
            else
                pgsql_message(err, "query", pq.PQerrorMessage(pg));
            *failed = 1;
            return NULL;
        }
    }
    return pq.PQgetResult(pg);
}

static int pgsql_query(struct sql_conn *conn, const struct sql_cf *cf,
                       const char *query, sql_value_fn fn, void *ctx,
                       struct buf *err)
{
    PGconn *pg = conn->pg;
    long long deadline = pgsql_now_ms() + cf->query_timeout * 1000LL;
    if (pq.PQstatus(pg) != CONNECTION_OK) {
        buf_appendf(err, "query: connection lost");
        return SQL_QUERY_CONN_ERROR;
    }
    if (pgsql_send(pg, query, deadline, cf->query_timeout, err) < 0)
        return SQL_QUERY_CONN_ERROR;
    int status = SQL_QUERY_NO_ROWS_SET, seen_first = 0, failed = 0;
    PGresult *res;
    /* Every result must be read before the connection takes another
     * query; only the first one's rows count (Postfix's rule). */
    while ((res = pgsql_next_result(pg, deadline, cf->query_timeout, &failed,
                                    err)) != NULL) {
        ExecStatusType result_status = pq.PQresultStatus(res);
        if (!seen_first) {
            seen_first = 1;
            if (result_status == PGRES_TUPLES_OK) {
                int rows = pq.PQntuples(res), fields = pq.PQnfields(res);
                for (int r = 0; r < rows; r++)
                    for (int f = 0; f < fields; f++)
                        fn(ctx, pq.PQgetisnull(res, r, f) ? NULL
                                                       : pq.PQgetvalue(res, r, f));
                status = SQL_QUERY_OK;
            } else if (result_status != PGRES_COMMAND_OK) {
                pgsql_message(err, "query", pq.PQresultErrorMessage(res));
                status = SQL_QUERY_STMT_ERROR;
            }
        }
        pq.PQclear(res);
    }
    if (failed)
        return SQL_QUERY_CONN_ERROR;
    if (status == SQL_QUERY_STMT_ERROR && pq.PQstatus(pg) != CONNECTION_OK)
        return SQL_QUERY_CONN_ERROR;
    if (status == SQL_QUERY_NO_ROWS_SET && !seen_first) {
        buf_appendf(err, "query: no result");
        return SQL_QUERY_CONN_ERROR;
    }
    return status;
}

static void pgsql_close(struct sql_conn *conn)
{
    if (conn == NULL)
        return;
    pq.PQfinish(conn->pg);
    free(conn);
}

static const struct sql_driver pgsql_driver = {
    .name = "pgsql",
    .open = pgsql_open,
    .escape = pgsql_escape,
    .query = pgsql_query,
    .close = pgsql_close,
};
const struct sql_driver *const sql_driver_pgsql = &pgsql_driver;

#else

const struct sql_driver *const sql_driver_pgsql = NULL;

#endif
