/* sql_cf.c: reads the query file of a pgsql: or mysql: table (see
 * sql_cf.h) into a struct sql_cf, checking every value once at load so
 * that lookups never meet a malformed setting. */
#include "tables/sql_cf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "tables/dict_impl.h"
#include "tables/sql_expand.h"

/* The raw `name = value` pairs in file order; sql_cf_get finds the
 * last definition of a name. */
struct sql_cf_pairs {
    struct strlist names, values;
};

static const char *sql_cf_get(const struct sql_cf_pairs *pairs,
                              const char *name)
{
    for (size_t i = pairs->names.count; i > 0; i--)
        if (strcmp(pairs->names.items[i - 1], name) == 0)
            return pairs->values.items[i - 1];
    return NULL;
}

static char *sql_cf_dup(const struct sql_cf_pairs *pairs, const char *name,
                        const char *fallback)
{
    const char *value = sql_cf_get(pairs, name);
    if (value == NULL)
        value = fallback;
    return value ? xstrdup(value) : NULL;
}

/* A whole number of seconds (or a count) in [min, max]; a trailing `s`
 * is accepted for the intervals, as Postfix's time values allow. */
static int sql_cf_number(const struct sql_cf_pairs *pairs, const char *cf_name,
                         const char *name, long fallback, long min, long max,
                         long *out, struct buf *err)
{
    const char *text = sql_cf_get(pairs, name);
    *out = fallback;
    if (text == NULL)
        return 0;
    char *copy = xstrdup(text);
    size_t len = strlen(copy);
    if (len > 1 && copy[len - 1] == 's' && isdigit((unsigned char)copy[len - 2]))
        copy[len - 1] = 0;
    long value;
    int status = str_to_long(copy, &value);
    free(copy);
    if (status < 0 || value < min || value > max) {
        buf_appendf(err, "%s: %s = %s: expected a number from %ld to %ld",
                    cf_name, name, text, min, max);
        return -1;
    }
    *out = value;
    return 0;
}

static int sql_cf_bool(const struct sql_cf_pairs *pairs, const char *cf_name,
                       const char *name, int fallback, int *out,
                       struct buf *err)
{
    const char *text = sql_cf_get(pairs, name);
    *out = fallback;
    if (text == NULL)
        return 0;
    if (str_equal_nocase(text, "yes") || str_equal_nocase(text, "true") ||
        strcmp(text, "1") == 0)
        *out = 1;
    else if (str_equal_nocase(text, "no") || str_equal_nocase(text, "false") ||
             strcmp(text, "0") == 0)
        *out = 0;
    else {
        buf_appendf(err, "%s: %s = %s: expected yes or no", cf_name, name,
                    text);
        return -1;
    }
    return 0;
}

/* Reads the pairs; -1 with err on a line without '='. */
static int sql_cf_read_pairs(const char *name, const char *text, size_t len,
                             struct sql_cf_pairs *pairs, struct buf *err)
{
    struct dict_text_reader reader;
    struct buf line = BUF_INIT;
    int lineno, status;
    dict_text_init(&reader, text, len);
    while ((status = dict_text_next(&reader, &line, &lineno)) > 0) {
        char *eq = strchr(line.data, '=');
        if (eq == NULL) {
            buf_appendf(err, "%s, line %d: expected name = value", name,
                        lineno);
            status = -1;
            break;
        }
        *eq = 0;
        char *key = str_trim(line.data), *value = str_trim(eq + 1);
        if (*key == 0) {
            buf_appendf(err, "%s, line %d: missing name before '='", name,
                        lineno);
            status = -1;
            break;
        }
        strlist_add(&pairs->names, key);
        strlist_add(&pairs->values, value);
    }
    if (status < 0 && err->len == 0)
        buf_appendf(err, "%s, line %d: NUL byte in the file", name, lineno);
    buf_free(&line);
    return status < 0 ? -1 : 0;
}

int sql_host_parse(const char *type, const char *text, struct sql_host *host,
                   struct buf *err)
{
    memset(host, 0, sizeof(*host));
    const char *rest = text;
    int is_pgsql = strcmp(type, "pgsql") == 0;
    if (is_pgsql && (str_has_prefix(text, "postgresql://") ||
                     str_has_prefix(text, "postgres://"))) {
        host->spec = xstrdup(text);
        host->name = xstrdup(text);
        host->is_uri = 1;
        return 0;
    }
    if (str_has_prefix(rest, "unix:")) {
        rest += 5;
        if (*rest != '/') {
            buf_appendf(err, "hosts: \"%s\": expected unix:/path", text);
            return -1;
        }
        host->spec = xstrdup(text);
        host->is_unix = 1;
        host->name = xstrdup(rest);
        return 0;
    }
    if (str_has_prefix(rest, "inet:"))
        rest += 5;
    const char *port_text = NULL;
    size_t name_len;
    const char *name_start = rest;
    if (*rest == '[') {
        const char *close = strchr(rest, ']');
        if (close == NULL || (close[1] != 0 && close[1] != ':')) {
            buf_appendf(err, "hosts: \"%s\": malformed [address]", text);
            return -1;
        }
        name_start = rest + 1;
        name_len = (size_t)(close - name_start);
        if (close[1] == ':')
            port_text = close + 2;
    } else {
        const char *colon = strchr(rest, ':');
        if (colon != NULL && strchr(colon + 1, ':') != NULL) {
            buf_appendf(err, "hosts: \"%s\": write an IPv6 address as "
                        "[address]:port", text);
            return -1;
        }
        name_len = colon ? (size_t)(colon - rest) : strlen(rest);
        if (colon)
            port_text = colon + 1;
    }
    if (name_len == 0) {
        buf_appendf(err, "hosts: \"%s\": empty host name", text);
        return -1;
    }
    long port = 0;
    if (port_text != NULL &&
        (str_to_long(port_text, &port) < 0 || port < 1 || port > 65535 ||
         !isdigit((unsigned char)*port_text))) {
        buf_appendf(err, "hosts: \"%s\": bad port", text);
        return -1;
    }
    host->spec = xstrdup(text);
    host->name = xstrndup(name_start, name_len);
    host->port = (unsigned)port;
    return 0;
}

/* Builds the query from Postfix's pre-2.2 names when `query` is absent. */
static char *sql_cf_legacy_query(const char *type,
                                 const struct sql_cf_pairs *pairs)
{
    const char *function = sql_cf_get(pairs, "select_function");
    if (strcmp(type, "pgsql") == 0 && function != NULL)
        return xasprintf("SELECT %s('%%s')", function);
    const char *field = sql_cf_get(pairs, "select_field");
    const char *table = sql_cf_get(pairs, "table");
    const char *where = sql_cf_get(pairs, "where_field");
    const char *more = sql_cf_get(pairs, "additional_conditions");
    if (field == NULL || table == NULL || where == NULL)
        return NULL;
    return xasprintf("SELECT %s FROM %s WHERE %s = '%%s'%s%s", field, table,
                     where, more && *more ? " " : "", more ? more : "");
}

static int sql_cf_fill(const char *type, const char *name,
                       const struct sql_cf_pairs *pairs, struct sql_cf *cf,
                       struct buf *err)
{
    int is_mysql = strcmp(type, "mysql") == 0;
    static const char *const tls_names[] = {
        "tls_cert_file", "tls_key_file", "tls_CAfile", "tls_CApath",
        "tls_ciphers", "tls_verify_cert"};
    for (size_t i = 0; i < sizeof(tls_names) / sizeof(tls_names[0]); i++)
        if (is_mysql && sql_cf_get(pairs, tls_names[i]) != NULL) {
            buf_appendf(err, "%s: %s: TLS to the database is not supported "
                        "yet (docs/tables.md); use a unix: socket or a "
                        "trusted network", name, tls_names[i]);
            return -1;
        }

    struct strlist host_items;
    strlist_init(&host_items);
    str_split_list(sql_cf_get(pairs, "hosts") ? sql_cf_get(pairs, "hosts")
                                              : "localhost",
                   &host_items);
    if (host_items.count == 0)
        strlist_add(&host_items, "localhost");
    cf->hosts = xcalloc(host_items.count, sizeof(*cf->hosts));
    for (size_t i = 0; i < host_items.count; i++) {
        struct buf why = BUF_INIT;
        if (sql_host_parse(type, host_items.items[i], &cf->hosts[i], &why) <
            0) {
            buf_appendf(err, "%s: %s", name, why.data);
            buf_free(&why);
            strlist_free(&host_items);
            return -1;
        }
        cf->host_count++;
    }
    strlist_free(&host_items);

    cf->user = sql_cf_dup(pairs, "user", NULL);
    cf->password = sql_cf_dup(pairs, "password", NULL);
    cf->dbname = sql_cf_dup(pairs, "dbname", NULL);
    cf->query = sql_cf_dup(pairs, "query", NULL);
    if (cf->query == NULL)
        cf->query = sql_cf_legacy_query(type, pairs);
    if (cf->query == NULL || *cf->query == 0) {
        buf_appendf(err, "%s: missing query (or the older select_field, "
                    "table and where_field)", name);
        return -1;
    }
    if (cf->dbname == NULL || *cf->dbname == 0) {
        buf_appendf(err, "%s: missing dbname", name);
        return -1;
    }
    cf->result_format = sql_cf_dup(pairs, "result_format", "%s");
    const char *domain = sql_cf_get(pairs, "domain");
    cf->domain = domain && *domain ? xstrdup(domain) : NULL;
    struct buf why = BUF_INIT;
    if (sql_template_check("query", cf->query, &why) < 0 ||
        sql_template_check("result_format", cf->result_format, &why) < 0) {
        buf_appendf(err, "%s: %s", name, why.data);
        buf_free(&why);
        return -1;
    }
    buf_free(&why);
    if (sql_cf_number(pairs, name, "expansion_limit", 0, 0, 1000000,
                      &cf->expansion_limit, err) < 0 ||
        sql_cf_number(pairs, name, "retry_interval", 60, 0, 86400,
                      &cf->retry_interval, err) < 0 ||
        sql_cf_number(pairs, name, "idle_interval", 60, 1, 86400,
                      &cf->idle_interval, err) < 0 ||
        sql_cf_number(pairs, name, "connect_timeout", 5, 1, 300,
                      &cf->connect_timeout, err) < 0 ||
        sql_cf_number(pairs, name, "query_timeout", 10, 1, 300,
                      &cf->query_timeout, err) < 0 ||
        sql_cf_bool(pairs, name, "require_result_set", 1,
                    &cf->require_result_set, err) < 0)
        return -1;
    cf->encoding = sql_cf_dup(pairs, "encoding", "UTF8");
    cf->charset = sql_cf_dup(pairs, "charset", "utf8mb4");
    cf->option_file = sql_cf_dup(pairs, "option_file", NULL);
    cf->option_group = sql_cf_dup(pairs, "option_group", "client");
    return 0;
}

int sql_cf_parse(const char *type, const char *name, const char *text,
                 size_t len, struct sql_cf *cf, struct buf *err)
{
    memset(cf, 0, sizeof(*cf));
    struct sql_cf_pairs pairs;
    strlist_init(&pairs.names);
    strlist_init(&pairs.values);
    int status = sql_cf_read_pairs(name, text, len, &pairs, err);
    if (status == 0)
        status = sql_cf_fill(type, name, &pairs, cf, err);
    /* The password is in these copies too: clear them before freeing. */
    for (size_t i = 0; i < pairs.values.count; i++)
        explicit_bzero(pairs.values.items[i], strlen(pairs.values.items[i]));
    strlist_free(&pairs.names);
    strlist_free(&pairs.values);
    if (status < 0)
        sql_cf_free(cf);
    return status;
}

void sql_cf_free(struct sql_cf *cf)
{
    for (size_t i = 0; i < cf->host_count; i++) {
        free(cf->hosts[i].spec);
        free(cf->hosts[i].name);
    }
    free(cf->hosts);
    if (cf->password)
        explicit_bzero(cf->password, strlen(cf->password));
    free(cf->user);
    free(cf->password);
    free(cf->dbname);
    free(cf->query);
    free(cf->result_format);
    free(cf->domain);
    free(cf->encoding);
    free(cf->charset);
    free(cf->option_file);
    free(cf->option_group);
    memset(cf, 0, sizeof(*cf));
}
