/* sql_cf.h: the query files of pgsql: and mysql: tables, in Postfix's
 * syntax (pgsql_table(5), mysql_table(5)).
 *
 * A query file is main.cf-like text: `name = value` lines, `#` comment
 * lines, and lines starting with whitespace continuing the one before;
 * the last definition of a name wins. Names: hosts, user, password,
 * dbname, query, result_format, domain, expansion_limit, retry_interval,
 * idle_interval; Postfix's pre-2.2 form (select_field, table,
 * where_field, additional_conditions; pgsql: select_function) when
 * there is no query; pgsql: encoding; mysql: charset, option_file,
 * option_group, require_result_set. Postern adds connect_timeout and
 * query_timeout (docs/tables.md). The tls_* names of mysql: tables are
 * refused (not supported yet: a site that asked for TLS must not get a
 * plaintext connection). Other names are ignored, as Postfix does.
 *
 * The file holds a password: it is read whole, bounded, and never
 * logged. */
#ifndef POSTERN_SQL_CF_H
#define POSTERN_SQL_CF_H

#include <stddef.h>

#include "base/buf.h"

/* One entry of `hosts`. */
struct sql_host {
    char *spec;     /* as written, for log lines */
    int is_unix;    /* unix:/path */
    char *name;     /* host name or address (inet), path (unix); for a
                       postgresql:// URI the whole URI */
    unsigned port;  /* 0: the client library's default */
    int is_uri;     /* pgsql: a postgresql:// (or postgres://) URI */
};

struct sql_cf {
    struct sql_host *hosts;
    size_t host_count;
    char *user, *password, *dbname; /* NULL when not given */
    char *query;          /* the query template (built from the legacy
                             names when `query` is absent) */
    char *result_format;  /* default "%s" */
    char *domain;         /* the domain list, NULL when none */
    long expansion_limit; /* 0: no limit */
    long retry_interval;  /* seconds a failed host is skipped (60) */
    long idle_interval;   /* seconds before an idle connection is
                             closed (60) */
    long connect_timeout; /* seconds (5) */
    long query_timeout;   /* seconds (10) */
    char *encoding;       /* pgsql: client encoding ("UTF8") */
    char *charset;        /* mysql: character set ("utf8mb4") */
    char *option_file, *option_group; /* mysql: my.cnf file and group */
    int require_result_set; /* mysql: a statement without a result set is
                               an error (yes) */
};

/* Parses the text of a query file for a table of `type` ("pgsql" or
 * "mysql"); `name` names the file in messages. Returns 0 with cf filled
 * (free it with sql_cf_free), or -1 with "name, line N: why" or
 * "name: why" in err (cf then holds nothing to free). */
int sql_cf_parse(const char *type, const char *name, const char *text,
                 size_t len, struct sql_cf *cf, struct buf *err);

/* Parses one `hosts` item: "host", "host:port", "inet:host:port",
 * "[addr]:port", "unix:/path", and for pgsql a postgresql:// URI.
 * Returns 0, or -1 with err. */
int sql_host_parse(const char *type, const char *text, struct sql_host *host,
                   struct buf *err);

void sql_cf_free(struct sql_cf *cf);

#endif
