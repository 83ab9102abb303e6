/* dict_sql.c: the pgsql: and mysql: table types, with Postfix's query
 * files (pgsql_table(5), mysql_table(5)); the client libraries sit
 * behind sql_driver.h.
 *
 * The table name is the query file; dict.c reloads it (and so closes
 * every connection) when the file changes. Connections are opened at the
 * first lookup that needs one and kept for the next, as in Postfix:
 *   - hosts are tried in random order, unix: sockets before TCP, a host
 *     with an open connection before any other;
 *   - a host that fails to connect, or whose connection fails, is
 *     skipped for retry_interval seconds; when every host is being
 *     skipped the lookup is a temporary error at once;
 *   - a connection idle for more than idle_interval seconds is closed
 *     and opened again (the server may have dropped it meanwhile);
 *   - a kept connection that fails is retried once on a fresh one before
 *     its host is skipped, so a server restart costs no lookup.
 * A lookup blocks the calling process for at most about (connect_timeout
 * + query_timeout) per host tried (docs/tables.md). Every row's every
 * non-NULL, non-empty field goes through result_format and the results
 * are joined with commas; expansion_limit bounds their number (more is a
 * temporary error). A key the rules exclude (sql_expand.h) or whose
 * query is suppressed is "not found" without a connection. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/file_read.h"
#include "base/log.h"
#include "base/mem.h"
#include "tables/dict_impl.h"
#include "tables/domain_list.h"
#include "tables/sql_cf.h"
#include "tables/sql_driver.h"
#include "tables/sql_expand.h"

/* A query file is a few lines; this bounds a wrong name (a mailbox). */
#define SQL_CF_MAX_SIZE (1024 * 1024)

enum sql_host_state { SQL_HOST_UNTRIED, SQL_HOST_ACTIVE, SQL_HOST_FAILED };

struct sql_host_slot {
    const struct sql_host *host; /* in cf */
    struct sql_conn *conn;       /* open when ACTIVE */
    enum sql_host_state state;
    time_t retry_at;  /* FAILED: skipped until then */
    time_t last_used; /* ACTIVE: end of the last query */
};

struct dict_sql {
    const struct sql_driver *driver;
    struct sql_cf cf;
    struct domain_list *domains; /* `domain`, NULL when none */
    struct sql_host_slot *slots;
    unsigned long long rng; /* host order: seeded per process and load,
                               so processes spread over the hosts */
    struct buf query;
    /* per lookup */
    const char *key;
    struct buf *result;
    long items;
};

static time_t sql_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static int dict_sql_load(struct dict *d, const struct sql_driver *driver,
                         const char *type, const char *library,
                         const char *package, struct buf *err)
{
    if (driver == NULL) {
        buf_appendf(err, "%s: support is not compiled in (%s was not found "
                    "at build time: install %s and run configure again)",
                    type, library, package);
        return -1;
    }
    struct buf text = BUF_INIT;
    if (file_read(d->name, SQL_CF_MAX_SIZE, &text, err) < 0) {
        buf_free(&text);
        return -1;
    }
    struct dict_sql *sql = xcalloc(1, sizeof(*sql));
    sql->driver = driver;
    int status = sql_cf_parse(type, d->name, text.data, text.len, &sql->cf,
                              err);
    explicit_bzero(text.data, text.len); /* it holds the password */
    buf_free(&text);
    if (status < 0) {
        free(sql);
        return -1;
    }
    if (sql->cf.domain != NULL) {
        struct buf why = BUF_INIT;
        sql->domains = domain_list_open("domain", sql->cf.domain,
                                        DOMAIN_LIST_STRING, &why);
        if (sql->domains == NULL) {
            buf_appendf(err, "%s: domain: %s", d->name, why.data);
            buf_free(&why);
            sql_cf_free(&sql->cf);
            free(sql);
            return -1;
        }
        buf_free(&why);
    }
    struct timespec seed;
    clock_gettime(CLOCK_MONOTONIC, &seed);
    sql->rng = ((unsigned long long)getpid() << 32) ^
               (unsigned long long)seed.tv_nsec ^ (uintptr_t)sql;
    sql->rng |= 1;
    sql->slots = xcalloc(sql->cf.host_count, sizeof(*sql->slots));
    for (size_t i = 0; i < sql->cf.host_count; i++)
        sql->slots[i].host = &sql->cf.hosts[i];
    d->impl = sql;
    return 0;
}

static int dict_pgsql_load(struct dict *d, struct buf *err)
{
    return dict_sql_load(d, sql_driver_pgsql, "pgsql", "libpq", "libpq-dev",
                         err);
}

static int dict_mysql_load(struct dict *d, struct buf *err)
{
    return dict_sql_load(d, sql_driver_mysql, "mysql", "libmariadb",
                         "libmariadb-dev", err);
}

static void sql_slot_close(struct dict_sql *sql, struct sql_host_slot *slot)
{
    if (slot->conn)
        sql->driver->close(slot->conn);
    slot->conn = NULL;
    if (slot->state == SQL_HOST_ACTIVE)
        slot->state = SQL_HOST_UNTRIED;
}

static void sql_slot_fail(struct dict *d, struct dict_sql *sql,
                          struct sql_host_slot *slot, const char *why)
{
    sql_slot_close(sql, slot);
    slot->state = SQL_HOST_FAILED;
    slot->retry_at = sql_now() + sql->cf.retry_interval;
    log_warn("%s: host %s is skipped for %lds: %s", d->spec,
             slot->host->spec, sql->cf.retry_interval, why);
}

static void dict_sql_release(struct dict *d)
{
    struct dict_sql *sql = d->impl;
    if (sql == NULL)
        return;
    for (size_t i = 0; i < sql->cf.host_count; i++)
        sql_slot_close(sql, &sql->slots[i]);
    free(sql->slots);
    domain_list_free(sql->domains);
    sql_cf_free(&sql->cf);
    buf_free(&sql->query);
    free(sql);
    d->impl = NULL;
}

/* Lower is tried first: open connections, then the others, unix: before
 * TCP within each; -1 when the host may not be tried now. */
static int sql_slot_rank(const struct sql_host_slot *slot, time_t now)
{
    int tcp = !slot->host->is_unix;
    switch (slot->state) {
    case SQL_HOST_ACTIVE:
        return tcp;
    case SQL_HOST_FAILED:
        if (now < slot->retry_at)
            return -1;
        /* fall through */
    default:
        return 2 + tcp;
    }
}

/* xorshift64: enough to shuffle a handful of hosts. */
static unsigned long long sql_random(struct dict_sql *sql)
{
    sql->rng ^= sql->rng << 13;
    sql->rng ^= sql->rng >> 7;
    sql->rng ^= sql->rng << 17;
    return sql->rng;
}

/* The next host to use for this lookup (tried[] marks those used), at
 * random among the best-ranked; NULL when none is left. */
static struct sql_host_slot *sql_pick(struct dict_sql *sql,
                                      const unsigned char *tried)
{
    time_t now = sql_now();
    struct sql_host_slot *best = NULL;
    int best_rank = 4, ties = 0;
    for (size_t i = 0; i < sql->cf.host_count; i++) {
        if (tried[i])
            continue;
        int rank = sql_slot_rank(&sql->slots[i], now);
        if (rank < 0 || rank > best_rank)
            continue;
        if (rank < best_rank) {
            best_rank = rank;
            ties = 0;
        }
        if (sql_random(sql) % (unsigned)++ties == 0)
            best = &sql->slots[i];
    }
    return best;
}

/* A stand-in escaper for deciding whether a query is suppressed before
 * any connection is made. */
static int sql_escape_none(void *ctx, const char *text, size_t len,
                           struct buf *out)
{
    buf_append(out, text, len);
    return 0;
}

static void sql_collect(void *ctx, const char *value)
{
    struct dict_sql *sql = ctx;
    if (sql_expand_result(sql->cf.result_format, value, sql->key,
                          sql->result))
        sql->items++;
}

/* One attempt on one host: 1 answered (found or not, in *result), 0 the
 * host failed (try another), -1 a temporary error for this lookup. */
static int sql_try_host(struct dict *d, struct dict_sql *sql,
                        struct sql_host_slot *slot, const char *key,
                        struct buf *value, enum dict_result *result)
{
    struct buf why = BUF_INIT;
    for (int attempt = 0; attempt < 2; attempt++) {
        int reused = slot->conn != NULL;
        if (reused && sql_now() - slot->last_used > sql->cf.idle_interval) {
            sql_slot_close(sql, slot);
            reused = 0;
        }
        if (slot->conn == NULL) {
            buf_reset(&why);
            slot->conn = sql->driver->open(&sql->cf, slot->host, &why);
            if (slot->conn == NULL) {
                sql_slot_fail(d, sql, slot, why.data);
                buf_free(&why);
                return 0;
            }
            slot->state = SQL_HOST_ACTIVE;
        }
        if (sql_expand_query(sql->cf.query, key, sql->driver->escape,
                             slot->conn, &sql->query) < 0) {
            buf_free(&why);
            buf_reset(&d->error);
            buf_appendf(&d->error, "the key cannot be escaped in the "
                        "connection's character set");
            return -1;
        }
        buf_reset(value);
        sql->key = key;
        sql->result = value;
        sql->items = 0;
        buf_reset(&why);
        int status = sql->driver->query(slot->conn, &sql->cf,
                                        sql->query.data, sql_collect, sql,
                                        &why);
        slot->last_used = sql_now();
        if (status == SQL_QUERY_CONN_ERROR) {
            if (reused) {
                log_info("%s: host %s: %s; connecting again", d->spec,
                         slot->host->spec, why.data);
                sql_slot_close(sql, slot);
                continue;
            }
            sql_slot_fail(d, sql, slot, why.data);
            buf_free(&why);
            return 0;
        }
        if (status == SQL_QUERY_STMT_ERROR) {
            buf_reset(&d->error);
            buf_appendf(&d->error, "host %s: %s", slot->host->spec,
                        why.data);
            buf_free(&why);
            return -1;
        }
        buf_free(&why);
        if (sql->cf.expansion_limit > 0 &&
            sql->items > sql->cf.expansion_limit) {
            buf_reset(&d->error);
            buf_appendf(&d->error, "%ld results, more than expansion_limit "
                        "(%ld)", sql->items, sql->cf.expansion_limit);
            return -1;
        }
        *result = value->len > 0 ? DICT_FOUND : DICT_NOTFOUND;
        return 1;
    }
    buf_free(&why);
    return 0;
}

static enum dict_result dict_sql_lookup(struct dict *d, const char *key,
                                        size_t key_len, struct buf *value)
{
    struct dict_sql *sql = d->impl;
    if (strlen(key) != key_len)
        return DICT_NOTFOUND;
    int wanted = sql_key_wanted(key, sql->domains);
    if (wanted < 0) {
        buf_reset(&d->error);
        buf_appendf(&d->error, "the domain list failed");
        return DICT_ERROR;
    }
    if (wanted == 0 ||
        sql_expand_query(sql->cf.query, key, sql_escape_none, NULL,
                         &sql->query) == 0)
        return DICT_NOTFOUND;

    unsigned char *tried = xcalloc(sql->cf.host_count, 1);
    enum dict_result result = DICT_ERROR;
    struct sql_host_slot *slot;
    int answered = 0;
    while (!answered && (slot = sql_pick(sql, tried)) != NULL) {
        tried[slot - sql->slots] = 1;
        answered = sql_try_host(d, sql, slot, key, value, &result);
    }
    free(tried);
    if (answered < 0)
        return DICT_ERROR;
    if (!answered) {
        buf_reset(&d->error);
        buf_appendf(&d->error, "no database host answered (%zu configured; "
                    "a failed host is retried after %lds)",
                    sql->cf.host_count, sql->cf.retry_interval);
        return DICT_ERROR;
    }
    return result;
}

static int dict_pgsql_compiled_in(void)
{
    return sql_driver_pgsql != NULL;
}

static int dict_mysql_compiled_in(void)
{
    return sql_driver_mysql != NULL;
}

const struct dict_type dict_type_pgsql = {
    .name = "pgsql", .suffix = "", .fold = 1,
    .compiled_in = dict_pgsql_compiled_in,
    .load = dict_pgsql_load, .release = dict_sql_release,
    .lookup = dict_sql_lookup,
};

const struct dict_type dict_type_mysql = {
    .name = "mysql", .suffix = "", .fold = 1,
    .compiled_in = dict_mysql_compiled_in,
    .load = dict_mysql_load, .release = dict_sql_release,
    .lookup = dict_sql_lookup,
};
