/* test_passdb.c: unit tests for lib/auth/passdb: a list of a lookup
 * table and a passwd-file tried in order, table results read with extra
 * fields, and the results that are table errors. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "auth/passdb.h"
#include "base/buf.h"

static char dir[] = "/tmp/test_passdb.XXXXXX";

static char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_list_order_and_fields(void)
{
    char spec[600];
    char *table = write_file("table",
                             "alice {PLAIN}fromtable uid=5000 gid=5001 "
                             "home=/v/alice mail=maildir:~/M quota_storage=1G\n"
                             "vuser {SHA512-CRYPT}$6$x$y\n"
                             "badline {PLAIN}a\\nb\n"
                             "colon {PLAIN}a:b\n"
                             "rootuid {PLAIN}x uid=0\n");
    int n = snprintf(spec, sizeof(spec), "texthash:%s, ", table);
    char *file = write_file("users", "alice:{PLAIN}fromfile\n"
                                     "bob:{PLAIN}b:1001:1002::/home/bob\n");
    snprintf(spec + n, sizeof(spec) - (size_t)n, "passwd-file:%s", file);
    struct buf err = BUF_INIT;
    struct passdb *db = passdb_open(spec, &err);
    CHECK(db != NULL);
    if (db == NULL)
        return;
    CHECK_INT(passdb_table_count(db), 2);
    struct passdb_user u;
    /* The first table that knows the user wins. */
    CHECK_INT(passdb_lookup(db, "alice", &u, &err), PASSDB_FOUND);
    CHECK_STR(u.password, "{PLAIN}fromtable");
    CHECK(u.has_uid && u.uid == 5000 && u.has_gid && u.gid == 5001);
    CHECK_STR(u.home, "/v/alice");
    CHECK_STR(u.mail, "maildir:~/M");
    CHECK_STR(u.quota_storage, "1G");
    CHECK_STR(u.table_type, "texthash");
    CHECK(!u.is_virtual);
    passdb_user_free(&u);
    CHECK_INT(passdb_lookup(db, "vuser", &u, &err), PASSDB_FOUND);
    CHECK(u.is_virtual);
    passdb_user_free(&u);
    CHECK_INT(passdb_lookup(db, "bob", &u, &err), PASSDB_FOUND);
    CHECK_STR(u.table_type, "passwd-file");
    CHECK(u.uid == 1001 && u.gid == 1002);
    passdb_user_free(&u);
    CHECK_INT(passdb_lookup(db, "nobody", &u, &err), PASSDB_NOTFOUND);
    /* Results that are table errors, never "unknown user". */
    buf_reset(&err);
    CHECK_INT(passdb_lookup(db, "colon", &u, &err), PASSDB_ERROR);
    CHECK(err.len > 0);
    buf_reset(&err);
    CHECK_INT(passdb_lookup(db, "rootuid", &u, &err), PASSDB_ERROR);
    CHECK(err.len > 0);
    passdb_close(db);
    buf_free(&err);
}

static void test_open_errors(void)
{
    struct buf err = BUF_INIT;
    CHECK(passdb_open("nosuchtype:/x", &err) == NULL);
    CHECK(strstr(buf_cstr(&err), "unknown table type") != NULL);
    buf_reset(&err);
    CHECK(passdb_open("justaname", &err) == NULL);
    /* A passwd-file that is missing: lookups fail (temporary), they never
     * say "unknown user". */
    buf_reset(&err);
    struct passdb *db = passdb_open("passwd-file:/nonexistent/users", &err);
    CHECK(db != NULL);
    struct passdb_user u;
    CHECK_INT(passdb_lookup(db, "alice", &u, &err), PASSDB_ERROR);
    CHECK(strstr(buf_cstr(&err), "/nonexistent/users") != NULL);
    passdb_close(db);
    buf_free(&err);
}

/* Case, per table type: lookup tables fold the name as they do in every
 * other parameter (hash, texthash, SQL: lower case); a passwd-file
 * matches exactly, as Dovecot's does. proxy: is dropped as in maps. */
static void test_case_and_proxy(void)
{
    char spec[600];
    int n = snprintf(spec, sizeof(spec), "proxy:texthash:%s ",
                     write_file("folded", "carol {PLAIN}c\n"));
    snprintf(spec + n, sizeof(spec) - (size_t)n, "passwd-file:%s",
             write_file("exact", "Dave:{PLAIN}d\n"));
    struct buf err = BUF_INIT;
    struct passdb *db = passdb_open(spec, &err);
    CHECK(db != NULL);
    if (db == NULL) {
        buf_free(&err);
        return;
    }
    struct passdb_user u;
    CHECK_INT(passdb_lookup(db, "CaRoL", &u, &err), PASSDB_FOUND);
    CHECK_STR(u.table_type, "texthash");
    passdb_user_free(&u);
    CHECK_INT(passdb_lookup(db, "Dave", &u, &err), PASSDB_FOUND);
    CHECK_STR(u.table_type, "passwd-file");
    passdb_user_free(&u);
    CHECK_INT(passdb_lookup(db, "dave", &u, &err), PASSDB_NOTFOUND);
    passdb_close(db);
    buf_free(&err);
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    UNIT_RUN(test_list_order_and_fields);
    UNIT_RUN(test_open_errors);
    UNIT_RUN(test_case_and_proxy);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return unit_summary();
}
