/* sql_driver.h: the contract between the SQL table logic
 * (lib/tables/dict_sql.c: hosts, failover, templates, results) and one
 * client library (sql_pgsql.c: libpq; sql_mysql.c: libmariadb). Not for
 * other callers: they use dict.h.
 *
 * Every call blocks the calling process, bounded by the query file's
 * connect_timeout (open) and query_timeout (query), as Postfix's SQL
 * lookups block theirs. */
#ifndef POSTERN_SQL_DRIVER_H
#define POSTERN_SQL_DRIVER_H

#include <stddef.h>

#include "base/buf.h"
#include "tables/sql_cf.h"

struct sql_conn;

/* Called for each field of each result row, in order; value is NULL for
 * an SQL NULL. */
typedef void (*sql_value_fn)(void *ctx, const char *value);

/* Results of sql_driver.query. */
#define SQL_QUERY_OK 0          /* rows (maybe none) were passed on */
#define SQL_QUERY_NO_ROWS_SET 1 /* the statement returned no result set
                                   and that is allowed: not found */
#define SQL_QUERY_CONN_ERROR -1 /* the connection failed: close it, try
                                   another host */
#define SQL_QUERY_STMT_ERROR -2 /* the server refused the statement on a
                                   healthy connection: a temporary error,
                                   the connection is kept */

struct sql_driver {
    const char *name; /* "pgsql", "mysql" */
    /* Connects to host. Returns a connection, or NULL with the reason in
     * err (never holding the password). */
    struct sql_conn *(*open)(const struct sql_cf *cf,
                             const struct sql_host *host, struct buf *err);
    /* Appends text escaped for a single-quoted string, with the
     * connection's character set; 0, or -1 (invalid for that set). */
    int (*escape)(void *conn, const char *text, size_t len,
                  struct buf *out);
    /* Runs query and passes each value to fn. Returns an SQL_QUERY_*
     * value; on an error the reason is in err. */
    int (*query)(struct sql_conn *conn, const struct sql_cf *cf,
                 const char *query, sql_value_fn fn, void *ctx,
                 struct buf *err);
    void (*close)(struct sql_conn *conn);
};

/* NULL when the client library was not found at configure time. */
extern const struct sql_driver *const sql_driver_pgsql;
extern const struct sql_driver *const sql_driver_mysql;

#endif
