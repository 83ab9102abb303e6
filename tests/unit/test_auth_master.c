/* test_auth_master.c: unit tests for the userdb side of the auth-master
 * protocol (lib/auth/auth_master.c) over a passwd-file held in memory:
 * the handshake, USER found (name folded by auth_username_format),
 * NOTFOUND, FAIL for a user without identity, and the lines that close
 * the connection. */
#include "unit.h"

#include "auth/auth_master.h"
#include "base/buf.h"
#include "base/str.h"

static const char users[] =
    "alice@example.test:{PLAIN}x:1001:1002::/home/alice::"
    "mail=maildir:~/Maildir quota_storage=1G\n"
    "vuser:{PLAIN}pw\n";

static struct passdb *db;
static struct auth_server_settings settings;

static struct auth_master_conn *new_conn(void)
{
    settings.passdb = db;
    settings.pid = 4242;
    settings.username_format = "%Lu";
    return auth_master_conn_new(&settings);
}

static int feed(struct auth_master_conn *conn, const char *line,
                struct buf *out)
{
    buf_reset(out);
    return auth_master_input(conn, line, strlen(line), out);
}

static void test_lookups(void)
{
    struct auth_master_conn *conn = new_conn();
    struct buf out = BUF_INIT;
    auth_master_handshake(conn, &out);
    CHECK_STR(buf_cstr(&out), "VERSION\t1\t1\nSPID\t4242\n");
    CHECK_INT(feed(conn, "VERSION\t1\t0", &out), 0);
    CHECK_INT(out.len, 0);
    CHECK_INT(feed(conn, "USER\t7\tAlice@EXAMPLE.test\tservice=imap", &out), 0);
    CHECK_STR(buf_cstr(&out), "USER\t7\talice@example.test\tuid=1001\t"
                              "gid=1002\thome=/home/alice\t"
                              "mail=maildir:~/Maildir\tquota_storage=1G\n");
    CHECK_INT(feed(conn, "USER\t8\tghost", &out), 0);
    CHECK_STR(buf_cstr(&out), "NOTFOUND\t8\n");
    /* A virtual user without virtual maps: no identity, FAIL. */
    CHECK_INT(feed(conn, "USER\t9\tvuser", &out), 0);
    CHECK_STR(buf_cstr(&out), "FAIL\t9\treason=no mailbox identity\n");
    CHECK_INT(auth_master_lookups(conn), 3);
    auth_master_conn_free(conn);
    buf_free(&out);
}

static void test_protocol_errors(void)
{
    static const char *const cases[][2] = {
        {"USER\t1\talice@example.test", NULL}, /* no VERSION */
        {"VERSION\t2\t0", NULL},
        {"VERSION\t1\t1", "VERSION\t1\t1"},
        {"VERSION\t1\t1", "USER\tx\talice"},
        {"VERSION\t1\t1", "USER\t1"},
        {"VERSION\t1\t1", "USER\t1\t"},
        {"VERSION\t1\t1", "USER\t1\ta\001nb"}, /* a LF in the name */
        {"VERSION\t1\t1", "PASS\t1\talice"},
        {"VERSION\t1\t1", "LIST\t1"},
    };
    struct buf out = BUF_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct auth_master_conn *conn = new_conn();
        int rc = 0;
        for (int j = 0; j < 2 && cases[i][j] && rc == 0; j++)
            rc = feed(conn, cases[i][j], &out);
        CHECK_INT(rc, -1);
        CHECK(strlen(auth_master_error(conn)) > 0);
        CHECK_INT(out.len, 0);
        auth_master_conn_free(conn);
    }
    buf_free(&out);
}

int main(void)
{
    db = passdb_open_passwd_text("users", users, strlen(users));
    UNIT_RUN(test_lookups);
    UNIT_RUN(test_protocol_errors);
    passdb_close(db);
    return unit_summary();
}
