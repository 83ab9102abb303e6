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

struct sql_conn {
    MYSQL *db;
};

static struct sql_conn *mysql_driver_open(const struct sql_cf *cf,
                                          const struct sql_host *host,
                                          struct buf *err)
{
    MYSQL *db = mysql_init(NULL);
    if (db == NULL) {
        buf_appendf(err, "connect: out of memory");
        return NULL;
    }
    unsigned int connect_timeout = (unsigned int)cf->connect_timeout;
    unsigned int io_timeout = (unsigned int)cf->query_timeout;
    my_bool no = 0;
    mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
    mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
    mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
    mysql_options(db, MYSQL_OPT_RECONNECT, &no);
    mysql_options(db, MYSQL_SET_CHARSET_NAME, cf->charset);
    if (cf->option_file && *cf->option_file)
        mysql_options(db, MYSQL_READ_DEFAULT_FILE, cf->option_file);
    if (cf->option_group && *cf->option_group)
        mysql_options(db, MYSQL_READ_DEFAULT_GROUP, cf->option_group);
    const char *host_name = host->is_unix ? "localhost" : host->name;
    const char *socket_path = host->is_unix ? host->name : NULL;
    if (mysql_real_connect(db, host_name, cf->user, cf->password, cf->dbname,
                           host->port, socket_path,
                           CLIENT_MULTI_RESULTS) == NULL) {
        buf_appendf(err, "connect: %s", mysql_error(db));
        mysql_close(db);
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
    unsigned long written = mysql_real_escape_string(
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
    unsigned int code = mysql_errno(db);
    buf_appendf(err, "%s: %s", what, mysql_error(db));
    return code >= CR_MIN_ERROR && code <= CR_MAX_ERROR
               ? SQL_QUERY_CONN_ERROR
               : SQL_QUERY_STMT_ERROR;
}

static int mysql_driver_query(struct sql_conn *conn, const struct sql_cf *cf,
                              const char *query, sql_value_fn fn, void *ctx,
                              struct buf *err)
{
    MYSQL *db = conn->db;
    if (mysql_real_query(db, query, (unsigned long)strlen(query)) != 0)
        return mysql_driver_failure(db, "query", err);
    int status = SQL_QUERY_OK;
    MYSQL_RES *res = mysql_store_result(db);
    if (res != NULL) {
        unsigned int fields = mysql_num_fields(res);
        MYSQL_ROW row;
        while ((row = mysql_fetch_row(res)) != NULL)
            for (unsigned int f = 0; f < fields; f++)
                fn(ctx, row[f]);
        mysql_free_result(res);
    } else if (mysql_field_count(db) != 0) {
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
    while ((more = mysql_next_result(db)) == 0) {
        MYSQL_RES *extra = mysql_store_result(db);
        if (extra)
            mysql_free_result(extra);
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
    mysql_close(conn->db);
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
