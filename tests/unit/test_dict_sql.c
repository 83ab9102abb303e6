/* test_dict_sql.c: unit tests for the pgsql: and mysql: table types
 * (lib/tables/dict_sql.c) that need no database server: loading and
 * reloading the query file, keys answered "not found" without any
 * connection, and a failed host skipped for retry_interval. Lookups
 * against real servers are in tests/e2e/test_sql_tables.py. */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "tables/dict.h"

static char tmpdir[64];

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
}

/* A loopback listener that never accepts nor answers: the kernel
 * completes TCP handshakes, the "server" says nothing. */
static int silent_listener(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
        listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
        return -1;
    *port = ntohs(sin.sin_port);
    return fd;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static enum dict_result lookup(struct dict *d, const char *key)
{
    struct buf value = BUF_INIT;
    enum dict_result r = dict_lookup(d, key, &value);
    buf_free(&value);
    return r;
}

static void run_type(const char *type)
{
    unsigned port = 0;
    int listener = silent_listener(&port);
    CHECK(listener >= 0);
    char *path = xasprintf("%s/%s.cf", tmpdir, type);
    char *spec = xasprintf("%s:%s", type, path);

    /* A malformed file: the table opens failed, lookups are errors. */
    write_file(path, "hosts = 127.0.0.1\nquery = SELECT '%s'\n");
    struct buf err = BUF_INIT;
    struct dict *d = dict_open(spec, 0, &err);
    CHECK(d != NULL);
    CHECK(strstr(err.data, "missing dbname") != NULL);
    CHECK_INT(lookup(d, "a@example.com"), DICT_ERROR);
    CHECK(strstr(dict_last_error(d), "missing dbname") != NULL);
    CHECK(dict_open(spec, DICT_FLAG_STRICT, &err) == NULL);

    /* Fixed (a different size, so the change is seen): keys that need no
     * query are not found without touching the silent server. */
    char *text = xasprintf("hosts = 127.0.0.1:%u\nuser = u\npassword = p\n"
                           "dbname = mail\nconnect_timeout = 1\n"
                           "query = SELECT x FROM t WHERE d='%%d' AND u='%%u'\n"
                           "domain = example.com\n",
                           port);
    write_file(path, text);
    double start = now_seconds();
    CHECK_INT(lookup(d, "bare"), DICT_NOTFOUND);          /* no domain */
    CHECK_INT(lookup(d, ""), DICT_NOTFOUND);              /* empty */
    CHECK_INT(lookup(d, "u@other.org"), DICT_NOTFOUND);   /* domain list */
    CHECK_INT(lookup(d, "@example.com"), DICT_NOTFOUND);  /* empty user */
    CHECK_INT(lookup(d, "u\xff@example.com"), DICT_NOTFOUND); /* UTF-8 */
    CHECK(now_seconds() - start < 0.5);

    /* A key that is looked up: the silent server costs connect_timeout,
     * then the host is skipped and the next lookup fails at once. */
    start = now_seconds();
    CHECK_INT(lookup(d, "u@example.com"), DICT_ERROR);
    double first = now_seconds() - start;
    CHECK(first >= 0.9 && first < 3.0);
    CHECK(strstr(dict_last_error(d), "no database host answered") != NULL);
    start = now_seconds();
    CHECK_INT(lookup(d, "u@Example.COM"), DICT_ERROR);
    CHECK(now_seconds() - start < 0.3);

    /* retry_interval = 0: every lookup tries the host again. */
    char *again = xasprintf("%sretry_interval = 0\n", text);
    write_file(path, again);
    start = now_seconds();
    CHECK_INT(lookup(d, "u@example.com"), DICT_ERROR);
    CHECK_INT(lookup(d, "u@example.com"), DICT_ERROR);
    CHECK(now_seconds() - start >= 1.8);

    dict_close(d);
    close(listener);
    unlink(path);
    free(again);
    free(text);
    free(spec);
    free(path);
    buf_free(&err);
}

static void test_pgsql_without_server(void)
{
    struct strlist types;
    strlist_init(&types);
    dict_type_names(&types);
    int listed = 0;
    for (size_t i = 0; i < types.count; i++)
        listed |= strcmp(types.items[i], "pgsql") == 0;
    strlist_free(&types);
    if (!listed)
        SKIP("pgsql: not compiled in (libpq-dev missing at configure)");
    run_type("pgsql");
}

static void test_mysql_without_server(void)
{
    struct strlist types;
    strlist_init(&types);
    dict_type_names(&types);
    int listed = 0;
    for (size_t i = 0; i < types.count; i++)
        listed |= strcmp(types.items[i], "mysql") == 0;
    strlist_free(&types);
    if (!listed)
        SKIP("mysql: not compiled in (libmariadb-dev missing at configure)");
    run_type("mysql");
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_dict_sql.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    UNIT_RUN(test_pgsql_without_server);
    UNIT_RUN(test_mysql_without_server);
    rmdir(tmpdir);
    return unit_summary();
}
