/* test_sql_cf.c: unit tests for the query files of SQL tables
 * (lib/tables/sql_cf) and their %-templates and key rules
 * (lib/tables/sql_expand). The tables themselves are tested against
 * real servers in tests/e2e/test_sql_tables.py. */
#include "unit.h"

#include "base/buf.h"
#include "base/mem.h"
#include "tables/domain_list.h"
#include "tables/sql_cf.h"
#include "tables/sql_expand.h"

static int parse(const char *type, const char *text, struct sql_cf *cf,
                 struct buf *err)
{
    buf_reset(err);
    return sql_cf_parse(type, "t.cf", text, strlen(text), cf, err);
}

static void test_parse_full_file(void)
{
    struct sql_cf cf;
    struct buf err = BUF_INIT;
    const char *text =
        "# a seeds-style file\n"
        "hosts = unix:/run/mysqld/mysqld.sock, db1:3307 inet:db2\n"
        "   [::1]:3306\n"
        "user = mailuser\n"
        "password = sec ret=x\n"
        "dbname = mailserver\n"
        "query = SELECT 1 FROM virtual_users\n"
        "  WHERE email='%s'\n"
        "dbname = mail\n"
        "expansion_limit = 5\n"
        "retry_interval = 30s\n"
        "unknown_name = ignored\n";
    CHECK_INT(parse("mysql", text, &cf, &err), 0);
    CHECK_INT(err.len, 0);
    CHECK_INT(cf.host_count, 4);
    CHECK_INT(cf.hosts[0].is_unix, 1);
    CHECK_STR(cf.hosts[0].name, "/run/mysqld/mysqld.sock");
    CHECK_STR(cf.hosts[1].name, "db1");
    CHECK_INT(cf.hosts[1].port, 3307);
    CHECK_STR(cf.hosts[2].name, "db2");
    CHECK_INT(cf.hosts[2].port, 0);
    CHECK_STR(cf.hosts[3].name, "::1");
    CHECK_INT(cf.hosts[3].port, 3306);
    CHECK_STR(cf.user, "mailuser");
    CHECK_STR(cf.password, "sec ret=x");
    CHECK_STR(cf.dbname, "mail"); /* the last definition wins */
    CHECK(strstr(cf.query, "SELECT 1 FROM virtual_users") == cf.query && strstr(cf.query, " WHERE email='%s'") != NULL);
    CHECK_STR(cf.result_format, "%s");
    CHECK_INT(cf.expansion_limit, 5);
    CHECK_INT(cf.retry_interval, 30);
    CHECK_INT(cf.idle_interval, 60);
    CHECK_INT(cf.connect_timeout, 5);
    CHECK_INT(cf.query_timeout, 10);
    CHECK_STR(cf.charset, "utf8mb4");
    CHECK_INT(cf.require_result_set, 1);
    CHECK(cf.domain == NULL);
    sql_cf_free(&cf);
    buf_free(&err);
}

static void test_parse_defaults_and_legacy(void)
{
    struct sql_cf cf;
    struct buf err = BUF_INIT;
    CHECK_INT(parse("pgsql",
                    "dbname=m\nselect_field = goto\ntable = alias\n"
                    "where_field = address\nadditional_conditions = "
                    "AND active = '1'\n",
                    &cf, &err), 0);
    CHECK_INT(cf.host_count, 1);
    CHECK_STR(cf.hosts[0].name, "localhost");
    CHECK_STR(cf.query,
              "SELECT goto FROM alias WHERE address = '%s' AND active = '1'");
    CHECK_STR(cf.encoding, "UTF8");
    sql_cf_free(&cf);
    CHECK_INT(parse("pgsql", "dbname=m\nselect_function = lookup\n", &cf,
                    &err), 0);
    CHECK_STR(cf.query, "SELECT lookup('%s')");
    sql_cf_free(&cf);
    CHECK_INT(parse("pgsql",
                    "hosts = postgresql://u@db/m?sslmode=require\n"
                    "dbname = m\nquery = SELECT 1\n", &cf, &err), 0);
    CHECK_INT(cf.hosts[0].is_uri, 1);
    sql_cf_free(&cf);
    buf_free(&err);
}

static void test_parse_errors(void)
{
    struct sql_cf cf;
    struct buf err = BUF_INIT;
    CHECK_INT(parse("mysql", "dbname=m\nno equals sign\n", &cf, &err), -1);
    CHECK_STR(err.data, "t.cf, line 2: expected name = value");
    CHECK_INT(parse("mysql", "dbname=m\n", &cf, &err), -1);
    CHECK(strstr(err.data, "missing query") != NULL);
    CHECK_INT(parse("mysql", "query=SELECT '%s'\n", &cf, &err), -1);
    CHECK(strstr(err.data, "missing dbname") != NULL);
    CHECK_INT(parse("mysql", "dbname=m\nquery=SELECT '%x'\n", &cf, &err), -1);
    CHECK(strstr(err.data, "invalid %x") != NULL);
    CHECK_INT(parse("mysql", "dbname=m\nquery=q\nresult_format=a%\n", &cf,
                    &err), -1);
    CHECK(strstr(err.data, "at the end") != NULL);
    CHECK_INT(parse("mysql", "dbname=m\nquery=q\nhosts=db:99999\n", &cf,
                    &err), -1);
    CHECK(strstr(err.data, "bad port") != NULL);
    CHECK_INT(parse("mysql", "dbname=m\nquery=q\nhosts=unix:rel\n", &cf,
                    &err), -1);
    CHECK_INT(parse("mysql", "dbname=m\nquery=q\nhosts=::1\n", &cf, &err),
              -1);
    CHECK_INT(parse("mysql", "dbname=m\nquery=q\nexpansion_limit=-1\n", &cf,
                    &err), -1);
    CHECK_INT(parse("mysql", "dbname=m\nquery=q\nconnect_timeout=0\n", &cf,
                    &err), -1);
    /* TLS asked for and not supported: refused, never plaintext. */
    CHECK_INT(parse("mysql", "dbname=m\nquery=q\ntls_CAfile=/x\n", &cf,
                    &err), -1);
    CHECK(strstr(err.data, "not supported") != NULL);
    /* A postgresql:// URI is no mysql: host. */
    CHECK_INT(parse("mysql", "dbname=m\nquery=q\nhosts=postgresql://x/y\n",
                    &cf, &err), -1);
    /* The password never appears in an error. */
    CHECK_INT(parse("mysql", "password=hunter2\nquery=q\n", &cf, &err), -1);
    CHECK(strstr(err.data, "hunter2") == NULL);
    CHECK_INT(parse("mysql", "dbname=m\nquery=q\0x=y\n", &cf, &err), 0);
    sql_cf_free(&cf);
    buf_reset(&err);
    CHECK_INT(sql_cf_parse("mysql", "t.cf", "dbname=m\nquery=q\0x\n", 17, &cf,
                           &err), -1);
    CHECK(strstr(err.data, "NUL") != NULL);
    buf_free(&err);
}

/* The stand-in escaper: doubles quotes and backslashes. */
static int escape_quotes(void *ctx, const char *text, size_t len,
                         struct buf *out)
{
    ++*(int *)ctx;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\'' || text[i] == '\\')
            buf_append_char(out, text[i]);
        buf_append_char(out, text[i]);
    }
    return 0;
}

static const char *expand_query(const char *template_text, const char *key)
{
    static struct buf out;
    int calls = 0;
    int status = sql_expand_query(template_text, key, escape_quotes, &calls,
                                  &out);
    return status == 1 ? out.data : status == 0 ? "(suppressed)" : "(error)";
}

static void test_expand_query(void)
{
    CHECK_STR(expand_query("SELECT x WHERE e='%s'", "a@b.example.com"),
              "SELECT x WHERE e='a@b.example.com'");
    CHECK_STR(expand_query("%u|%d|%1|%2|%3|%%|%S|%U|%D",
                           "a@b.example.com"),
              "a|b.example.com|com|example|b|%|a@b.example.com|a|"
              "b.example.com");
    CHECK_STR(expand_query("'%s'", "o'brien\\@x"), "'o''brien\\\\@x'");
    CHECK_STR(expand_query("%u", "plain"), "plain");
    CHECK_STR(expand_query("%d", "plain"), "(suppressed)");
    CHECK_STR(expand_query("%u", "@example.com"), "(suppressed)");
    CHECK_STR(expand_query("%4", "a@b.example.com"), "(suppressed)");
    CHECK_STR(expand_query("%1", "plain"), "(suppressed)");
    CHECK_STR(expand_query("%2", "a@example..com"), "(suppressed)");
    CHECK_STR(expand_query("%s", ""), "(suppressed)");
    CHECK_STR(expand_query("%d", "a@"), "(suppressed)");
    /* The last '@' splits, as in Postfix. */
    CHECK_STR(expand_query("%u/%d", "\"a@b\"@c.org"), "\"a@b\"/c.org");
    CHECK_STR(expand_query("no percent", "k"), "no percent");
}

static void test_expand_result(void)
{
    struct buf out = BUF_INIT;
    const char *key = "Key@in.example";
    CHECK_INT(sql_expand_result("%s", "first", key, &out), 1);
    CHECK_INT(sql_expand_result("%s", "", key, &out), 0);
    CHECK_INT(sql_expand_result("%s", NULL, key, &out), 0);
    CHECK_INT(sql_expand_result("%s", "second", key, &out), 1);
    CHECK_STR(out.data, "first,second");
    buf_reset(&out);
    CHECK_INT(sql_expand_result("%d/%u/", "user@dom.org", key, &out), 1);
    CHECK_INT(sql_expand_result("%d/%u/", "unqualified", key, &out), 0);
    CHECK_INT(sql_expand_result("%d/%u/", "@dom.org", key, &out), 0);
    CHECK_INT(sql_expand_result("[%S|%U|%D|%1|%s]", "v", key, &out), 1);
    CHECK_STR(out.data, "dom.org/user/,[Key@in.example|Key|in.example|"
                        "example|v]");
    /* Results are not escaped. */
    buf_reset(&out);
    CHECK_INT(sql_expand_result("%s", "a'b", key, &out), 1);
    CHECK_STR(out.data, "a'b");
    buf_free(&out);
}

static void test_key_rules(void)
{
    CHECK_INT(sql_key_usable("", 0), 0);
    CHECK_INT(sql_key_usable("a\0b", 3), 0);
    CHECK_INT(sql_key_usable("ok@example.com", 14), 1);
    CHECK_INT(sql_key_usable("j\xc3\xbcrgen@example.de", 18), 1);
    CHECK_INT(sql_key_usable("bad\xff", 4), 0);
    CHECK_INT(sql_key_usable("\xc0\xaf", 2), 0);      /* overlong */
    CHECK_INT(sql_key_usable("\xed\xa0\x80", 3), 0);  /* surrogate */
    CHECK_INT(sql_key_usable("\xe2\x82", 2), 0);      /* truncated */

    struct buf err = BUF_INIT;
    struct domain_list *domains =
        domain_list_open("domain", "example.com, Example.NET", 0, &err);
    CHECK(domains != NULL);
    CHECK_INT(sql_key_wanted("user@example.com", NULL), 1);
    CHECK_INT(sql_key_wanted("plain", NULL), 1);
    CHECK_INT(sql_key_wanted("", NULL), 0);
    CHECK_INT(sql_key_wanted("user@example.com", domains), 1);
    CHECK_INT(sql_key_wanted("user@EXAMPLE.net", domains), 1);
    CHECK_INT(sql_key_wanted("user@other.org", domains), 0);
    CHECK_INT(sql_key_wanted("@example.com", domains), 0);
    CHECK_INT(sql_key_wanted("example.com", domains), 0);
    CHECK_INT(sql_key_wanted("user", domains), 0);
    CHECK_INT(sql_key_wanted("user@", domains), 0);
    CHECK_INT(sql_key_wanted("us\xffr@example.com", domains), 0);
    domain_list_free(domains);
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_parse_full_file);
    UNIT_RUN(test_parse_defaults_and_legacy);
    UNIT_RUN(test_parse_errors);
    UNIT_RUN(test_expand_query);
    UNIT_RUN(test_expand_result);
    UNIT_RUN(test_key_rules);
    return unit_summary();
}
