/* sql_mysql.c: the libmariadb side of mysql: tables (see sql_driver.h).
 *
 * Bounds: MYSQL_OPT_CONNECT_TIMEOUT is connect_timeout; the read and
 * write timeouts are query_timeout and apply to each read or write of
 * the client library, so a server that stops answering ends a lookup
 * after about query_timeout. Statements run with CLIENT_MULTI_RESULTS so
 * that stored procedures work; every extra result is read and dropped
 * so the connection stays in step. */
#include "tables/sql_driver.h"

#ifdef POSTERN_HAVE_MYSQL

#include <errmsg.h>
#include <mysql.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "tables/sql_lib.h"

#ifndef POSTERN_MARIADB_SONAME
#define POSTERN_MARIADB_SONAME "libmariadb.so.3"
#endif

/* libmariadb's functions, loaded when the first mysql: table connects
 * (sql_lib.h). */
#define MARIADB_FUNCTIONS(X) \
    X(mysql_close) \
    X(mysql_errno) \
    X(mysql_error) \
    X(mysql_fetch_row) \
    X(mysql_field_count) \
    X(mysql_free_result) \
    X(mysql_init) \
    X(mysql_next_result) \
    X(mysql_num_fields) \
    X(mysql_options) \
    X(mysql_real_connect) \
    X(mysql_real_escape_string) \
    X(mysql_real_query) \
    X(mysql_store_result)
#define MARIADB_SLOT(f) __typeof__(f) *f;
static struct {
    MARIADB_FUNCTIONS(MARIADB_SLOT)
} maria;

static int maria_load(struct buf *err)
{
#define MARIADB_SYMBOL(f) {#f, (void **)&maria.f},
    static const struct sql_lib_symbol symbols[] = {
        MARIADB_FUNCTIONS(MARIADB_SYMBOL)};
    static int loaded;
    return sql_lib_load(POSTERN_MARIADB_SONAME, symbols,
                        sizeof(symbols) / sizeof(symbols[0]), &loaded, err);
}

struct sql_conn {
    MYSQL *db;
};

static struct sql_conn *mysql_driver_open(const struct sql_cf *cf,
                                          const struct sql_host *host,
                                          struct buf *err)
{
    if (maria_load(err) < 0)
        return NULL;
    MYSQL *db = maria.mysql_init(NULL);
    if (db == NULL) {
        buf_appendf(err, "connect: out of memory");
        return NULL;
    }
    unsigned int connect_timeout = (unsigned int)cf->connect_timeout;
    unsigned int io_timeout = (unsigned int)cf->query_timeout;
    my_bool no = 0;
    maria.mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
    maria.mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
    maria.mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
    maria.mysql_options(db, MYSQL_OPT_RECONNECT, &no);
    maria.mysql_options(db, MYSQL_SET_CHARSET_NAME, cf->charset);
    if (cf->option_file && *cf->option_file)
        maria.mysql_options(db, MYSQL_READ_DEFAULT_FILE, cf->option_file);
    if (cf->option_group && *cf->option_group)
        maria.mysql_options(db, MYSQL_READ_DEFAULT_GROUP, cf->option_group);
    const char *host_name = host->is_unix ? "localhost" : host->name;
    const char *socket_path = host->is_unix ? host->name : NULL;
    if (maria.mysql_real_connect(db, host_name, cf->user, cf->password, cf->dbname,
                           host->port, socket_path,
                           CLIENT_MULTI_RESULTS) == NULL) {
        buf_appendf(err, "connect: %s", maria.mysql_error(db));
        maria.mysql_close(db);
        return NULL;
    }
    struct sql_conn *conn = xcalloc(1, sizeof(*conn));
    conn->db = db;
    return conn;
}

static int mysql_driver_escape(void *ctx, const char *text, size_t len,
                               struct buf *out)
{
    struct sql_conn *conn = ctx;
    buf_reserve(out, 2 * len + 1);
    unsigned long written = maria.mysql_real_escape_string(
        conn->db, out->data + out->len, text, (unsigned long)len);
    if (written == (unsigned long)-1) {
        out->data[out->len] = 0;
        return -1;
    }
    out->len += written;
    out->data[out->len] = 0;
    return 0;
}

/* Client-side error numbers (CR_*) mean the connection is in trouble;
 * server-side ones (ER_*) that the statement was refused. */
static int mysql_driver_failure(MYSQL *db, const char *what, struct buf *err)
{
    unsigned int code = maria.mysql_errno(db);
    buf_appendf(err, "%s: %s", what, maria.mysql_error(db));
    return code >= CR_MIN_ERROR && code <= CR_MAX_ERROR
               ? SQL_QUERY_CONN_ERROR
               : SQL_QUERY_STMT_ERROR;
}

static int mysql_driver_query(struct sql_conn *conn, const struct sql_cf *cf,
                              const char *query, sql_value_fn fn, void *ctx,
                              struct buf *err)
{
    MYSQL *db = conn->db;
    if (maria.mysql_real_query(db, query, (unsigned long)strlen(query)) != 0)
        return mysql_driver_failure(db, "query", err);
    int status = SQL_QUERY_OK;
    MYSQL_RES *res = maria.mysql_store_result(db);
    if (res != NULL) {
        unsigned int fields = maria.mysql_num_fields(res);
        MYSQL_ROW row;
        while ((row = maria.mysql_fetch_row(res)) != NULL)
            for (unsigned int f = 0; f < fields; f++)
                fn(ctx, row[f]);
        maria.mysql_free_result(res);
    } else if (maria.mysql_field_count(db) != 0) {
        return mysql_driver_failure(db, "query", err);
    } else if (cf->require_result_set) {
        buf_appendf(err, "query: the statement returned no result set "
                    "(see require_result_set)");
        status = SQL_QUERY_STMT_ERROR;
    } else {
        status = SQL_QUERY_NO_ROWS_SET;
    }
    /* Read and drop further results (a CALL's status result). */
    int more;
    while ((more = maria.mysql_next_result(db)) == 0) {
        MYSQL_RES *extra = maria.mysql_store_result(db);
        if (extra)
            maria.mysql_free_result(extra);
    }
    if (more > 0) {
        buf_reset(err);
        return mysql_driver_failure(db, "query", err);
    }
    return status;
}

static void mysql_driver_close(struct sql_conn *conn)
{
    if (conn == NULL)
        return;
    maria.mysql_close(conn->db);
    free(conn);
}

static const struct sql_driver mysql_driver = {
    .name = "mysql",
    .open = mysql_driver_open,
    .escape = mysql_driver_escape,
    .query = mysql_driver_query,
    .close = mysql_driver_close,
};
const struct sql_driver *const sql_driver_mysql = &mysql_driver;

#else

const struct sql_driver *const sql_driver_mysql = NULL;

#endif
