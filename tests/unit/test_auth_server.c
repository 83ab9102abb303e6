/* test_auth_server.c: unit tests for the server side of Dovecot's auth
 * protocol (lib/auth/auth_server.c) with a passwd-file held in memory:
 * the handshake, PLAIN and LOGIN, the delayed FAIL, multiplexed ids,
 * protocol errors that close the connection, the lock-out, and the
 * userdb fields of an imap login. */
#include "unit.h"

#include <stdio.h>

#include "auth/auth_server.h"
#include "base/base64.h"
#include "base/buf.h"
#include "base/str.h"

static const char users[] =
    "alice:{PLAIN}secret:1001:1001::/home/alice::mail=maildir:~/Maildir\n"
    "vuser:{PLAIN}pw\n"
    "broken:{MD4}abc:1002:1002::/home/broken\n";

struct fixture {
    struct passdb *db;
    struct auth_server *srv;
    struct auth_conn *conn;
    struct buf out;
};

static void setup(struct fixture *f, unsigned threshold)
{
    f->db = passdb_open_passwd_text("users", users, strlen(users));
    struct auth_server_settings s = {
        .passdb = f->db,
        .failure_delay_ms = 2000,
        .lockout_threshold = threshold,
        .lockout_window_ms = 60000,
        .pid = 4242,
    };
    f->srv = auth_server_new(&s);
    f->conn = auth_conn_new(f->srv);
    buf_init(&f->out);
}

static void teardown(struct fixture *f)
{
    auth_conn_free(f->conn);
    auth_server_free(f->srv);
    passdb_close(f->db);
    buf_free(&f->out);
}

/* Feeds one line at now_ms; returns auth_conn_input's result. The
 * replies are in f->out (reset first). */
static int feed(struct fixture *f, const char *line, uint64_t now_ms)
{
    buf_reset(&f->out);
    return auth_conn_input(f->conn, line, strlen(line), now_ms, &f->out);
}

static void handshake(struct fixture *f)
{
    CHECK_INT(feed(f, "VERSION\t1\t2", 0), 0);
    CHECK_INT(feed(f, "CPID\t77", 0), 0);
    CHECK_INT(f->out.len, 0);
}

static void plain_line(char *line, size_t size, unsigned id,
                       const char *service, const char *user,
                       const char *password, const char *rip)
{
    struct buf msg = BUF_INIT, b64 = BUF_INIT;
    buf_append_char(&msg, 0);
    buf_append_str(&msg, user);
    buf_append_char(&msg, 0);
    buf_append_str(&msg, password);
    base64_encode(msg.data, msg.len, &b64);
    snprintf(line, size, "AUTH\t%u\tPLAIN\tservice=%s\trip=%s\tsecured\t"
             "nologin\tresp=%s", id, service, rip, buf_cstr(&b64));
    buf_free(&msg);
    buf_free(&b64);
}

static void test_handshake(void)
{
    struct fixture f;
    setup(&f, 0);
    auth_conn_handshake(f.conn, &f.out);
    const char *text = buf_cstr(&f.out);
    /* MECH before SPID, or Postfix takes us for an auth-master socket. */
    CHECK(str_has_prefix(text, "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\n"));
    CHECK(strstr(text, "\nSPID\t4242\nCUID\t") != NULL);
    CHECK(strstr(text, "\nMECH\t") < strstr(text, "\nSPID\t"));
    CHECK(strstr(text, "\nCOOKIE\t") != NULL);
    CHECK(strstr(text, "\nMECH\tPLAIN\tplaintext\n") != NULL);
    CHECK(strstr(text, "\nMECH\tLOGIN\tplaintext\n") != NULL);
    CHECK(strstr(text, "\nMECH\tSCRAM-SHA-256\n") != NULL);
    CHECK(str_has_suffix(text, "\nDONE\n"));
    teardown(&f);
}

static void test_plain_ok_and_delayed_fail(void)
{
    struct fixture f;
    setup(&f, 0);
    handshake(&f);
    char line[512];
    plain_line(line, sizeof(line), 1, "smtp", "alice", "secret", "192.0.2.1");
    CHECK_INT(feed(&f, line, 1000), 0);
    CHECK_STR(buf_cstr(&f.out), "OK\t1\tuser=alice\n");

    plain_line(line, sizeof(line), 2, "smtp", "alice", "wrong", "192.0.2.1");
    CHECK_INT(feed(&f, line, 1000), 0);
    CHECK_INT(f.out.len, 0); /* held back */
    /* The id is in use until the FAIL goes out. */
    buf_reset(&f.out);
    CHECK_INT(auth_conn_flush_due(f.conn, 2999, &f.out), 3000);
    CHECK_INT(f.out.len, 0);
    CHECK_INT(auth_conn_flush_due(f.conn, 3000, &f.out), 0);
    CHECK_STR(buf_cstr(&f.out),
              "FAIL\t2\treason=Authentication failed\tuser=alice\n");
    /* Now id 2 may be used again; an unknown user fails the same way. */
    plain_line(line, sizeof(line), 2, "smtp", "nobody", "secret", "192.0.2.1");
    CHECK_INT(feed(&f, line, 4000), 0);
    buf_reset(&f.out);
    auth_conn_flush_due(f.conn, 6000, &f.out);
    CHECK_STR(buf_cstr(&f.out),
              "FAIL\t2\treason=Authentication failed\tuser=nobody\n");
    teardown(&f);
}

static void test_login_and_multiplexing(void)
{
    struct fixture f;
    setup(&f, 0);
    handshake(&f);
    CHECK_INT(feed(&f, "AUTH\t7\tLOGIN\tservice=smtp", 0), 0);
    CHECK_STR(buf_cstr(&f.out), "CONT\t7\tVXNlcm5hbWU6\n"); /* Username: */
    CHECK_INT(feed(&f, "AUTH\t8\tPLAIN\tservice=smtp", 0), 0);
    CHECK_STR(buf_cstr(&f.out), "CONT\t8\t\n");
    CHECK_INT(feed(&f, "CONT\t7\tYWxpY2U=", 0), 0); /* alice */
    CHECK_STR(buf_cstr(&f.out), "CONT\t7\tUGFzc3dvcmQ6\n"); /* Password: */
    CHECK_INT(feed(&f, "CONT\t8\tAGFsaWNlAHNlY3JldA==", 0), 0);
    CHECK_STR(buf_cstr(&f.out), "OK\t8\tuser=alice\n");
    CHECK_INT(feed(&f, "CONT\t7\tc2VjcmV0", 0), 0); /* secret */
    CHECK_STR(buf_cstr(&f.out), "OK\t7\tuser=alice\n");
    /* A CONT for a request that is not there. */
    CHECK_INT(feed(&f, "CONT\t9\tc2VjcmV0", 0), 0);
    CHECK(str_has_prefix(buf_cstr(&f.out), "FAIL\t9\t"));
    /* Unknown mechanisms fail at once; unknown parameters are ignored. */
    CHECK_INT(feed(&f, "AUTH\t10\tCRAM-MD5\tservice=smtp", 0), 0);
    CHECK_STR(buf_cstr(&f.out),
              "FAIL\t10\treason=Unsupported authentication mechanism\n");
    CHECK_INT(feed(&f, "AUTH\t11\tPLAIN\tservice=smtp\tfuture=1\tflag\t"
                       "resp=AGFsaWNlAHNlY3JldA==",
                   0),
              0);
    CHECK_STR(buf_cstr(&f.out), "OK\t11\tuser=alice\n");
    /* Bad base64 is a failed attempt. */
    CHECK_INT(feed(&f, "AUTH\t12\tPLAIN\tservice=smtp\tresp=!!", 0), 0);
    buf_reset(&f.out);
    auth_conn_flush_due(f.conn, 5000, &f.out);
    CHECK(str_has_prefix(buf_cstr(&f.out), "FAIL\t12\t"));
    teardown(&f);
}

/* Lines that close the connection, each on a fresh one. */
static void test_protocol_errors(void)
{
    static const char *const cases[][3] = {
        {"AUTH\t1\tPLAIN\tservice=smtp", NULL, NULL},     /* no VERSION */
        {"VERSION\t2\t0", NULL, NULL},                    /* major 2 */
        {"VERSION\t1\t1", "AUTH\t1\tPLAIN\tservice=smtp", NULL}, /* no CPID */
        {"VERSION\t1\t1", "CPID\t1", "AUTH\t1\tPLAIN"},   /* no service */
        {"VERSION\t1\t1", "CPID\t1", "AUTH\tx\tPLAIN\tservice=smtp"},
        {"VERSION\t1\t1", "CPID\t1", "BOGUS\t1"},
        {"VERSION\t1\t1", "CPID\t1", "CONT\t1"},
        {"VERSION\t1\t1", "CPID\t1", "AUTH\t1\tPLAIN\tservice=smtp\tresp=\001"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct fixture f;
        setup(&f, 0);
        int rc = 0;
        for (int j = 0; j < 3 && cases[i][j] && rc == 0; j++)
            rc = feed(&f, cases[i][j], 0);
        CHECK_INT(rc, -1);
        CHECK(strlen(auth_conn_error(f.conn)) > 0);
        teardown(&f);
    }
    /* An id reused while its request is in progress. */
    struct fixture f;
    setup(&f, 0);
    handshake(&f);
    CHECK_INT(feed(&f, "AUTH\t3\tLOGIN\tservice=smtp", 0), 0);
    CHECK_INT(feed(&f, "AUTH\t3\tLOGIN\tservice=smtp", 0), -1);
    CHECK(strstr(auth_conn_error(f.conn), "reused") != NULL);
    teardown(&f);
}

static void test_lockout(void)
{
    struct fixture f;
    setup(&f, 3);
    handshake(&f);
    char line[512];
    for (unsigned id = 1; id <= 3; id++) {
        plain_line(line, sizeof(line), id, "smtp", "alice", "bad",
                   "198.51.100.7");
        CHECK_INT(feed(&f, line, 1000 * id), 0);
    }
    buf_reset(&f.out);
    auth_conn_flush_due(f.conn, 10000, &f.out);
    /* Locked out: the right password fails too, from that address... */
    plain_line(line, sizeof(line), 4, "smtp", "alice", "secret",
               "198.51.100.7");
    CHECK_INT(feed(&f, line, 11000), 0);
    CHECK_INT(f.out.len, 0);
    buf_reset(&f.out);
    auth_conn_flush_due(f.conn, 13000, &f.out);
    CHECK_STR(buf_cstr(&f.out), "FAIL\t4\treason=Too many failed attempts "
                                "try later\tuser=alice\n");
    /* ...and for that user from anywhere, until the window ends. */
    plain_line(line, sizeof(line), 5, "smtp", "alice", "secret",
               "203.0.113.9");
    CHECK_INT(feed(&f, line, 14000), 0);
    CHECK_INT(f.out.len, 0);
    auth_conn_flush_due(f.conn, 20000, &f.out);
    plain_line(line, sizeof(line), 6, "smtp", "alice", "secret",
               "203.0.113.9");
    CHECK_INT(feed(&f, line, 62000), 0);
    CHECK_STR(buf_cstr(&f.out), "OK\t6\tuser=alice\n");
    teardown(&f);
}

/* SQL and file tables fold the login name, so the user's failure counter
 * must too: case variants from many addresses are one account. */
static void test_lockout_ignores_case(void)
{
    struct fixture f;
    setup(&f, 3);
    handshake(&f);
    char line[512];
    static const char *const variants[] = {"Alice", "ALICE", "aLiCe"};
    static const char *const rips[] = {"198.51.100.1", "198.51.100.2",
                                       "198.51.100.3"};
    for (unsigned i = 0; i < 3; i++) {
        plain_line(line, sizeof(line), i + 1, "smtp", variants[i], "bad",
                   rips[i]);
        CHECK_INT(feed(&f, line, 1000 * (i + 1)), 0);
    }
    auth_conn_flush_due(f.conn, 10000, &f.out);
    plain_line(line, sizeof(line), 4, "smtp", "alice", "secret",
               "203.0.113.9");
    CHECK_INT(feed(&f, line, 11000), 0);
    CHECK_INT(f.out.len, 0);
    buf_reset(&f.out);
    auth_conn_flush_due(f.conn, 13000, &f.out);
    CHECK_STR(buf_cstr(&f.out), "FAIL\t4\treason=Too many failed attempts "
                                "try later\tuser=alice\n");
    teardown(&f);
}

static void test_userdb_fields(void)
{
    struct fixture f;
    setup(&f, 0);
    handshake(&f);
    char line[512];
    plain_line(line, sizeof(line), 1, "imap", "alice", "secret", "192.0.2.1");
    CHECK_INT(feed(&f, line, 0), 0);
    CHECK_STR(buf_cstr(&f.out), "OK\t1\tuser=alice\tuid=1001\tgid=1001\t"
                                "home=/home/alice\tmail=maildir:~/Maildir\n");
    /* A virtual user without virtual maps: a temporary failure. */
    plain_line(line, sizeof(line), 2, "pop3", "vuser", "pw", "192.0.2.1");
    CHECK_INT(feed(&f, line, 0), 0);
    CHECK(str_has_prefix(buf_cstr(&f.out), "FAIL\t2\ttemp\t"));
    /* An entry whose scheme cannot be checked: temporary, not a mismatch. */
    plain_line(line, sizeof(line), 3, "smtp", "broken", "x", "192.0.2.1");
    CHECK_INT(feed(&f, line, 0), 0);
    CHECK(str_has_prefix(buf_cstr(&f.out), "FAIL\t3\ttemp\t"));
    teardown(&f);
}

/* A request waiting for CONT longer than request_timeout_ms fails; one
 * that keeps answering does not. */
static void test_request_timeout(void)
{
    struct fixture f;
    f.db = passdb_open_passwd_text("users", users, strlen(users));
    struct auth_server_settings s = {
        .passdb = f.db,
        .failure_delay_ms = 2000,
        .pid = 1,
        .request_timeout_ms = 60000,
    };
    f.srv = auth_server_new(&s);
    f.conn = auth_conn_new(f.srv);
    buf_init(&f.out);
    handshake(&f);
    CHECK_INT(feed(&f, "AUTH\t1\tLOGIN\tservice=smtp", 1000), 0);
    CHECK_INT(feed(&f, "AUTH\t2\tLOGIN\tservice=smtp", 1000), 0);
    CHECK_INT(feed(&f, "CONT\t2\tYWxpY2U=", 50000), 0); /* alice */
    CHECK_INT(auth_conn_requests(f.conn), 2);
    buf_reset(&f.out);
    CHECK_INT(auth_conn_flush_due(f.conn, 60999, &f.out), 61000);
    CHECK_INT(f.out.len, 0);
    CHECK_INT(auth_conn_flush_due(f.conn, 61000, &f.out), 110000);
    CHECK_STR(buf_cstr(&f.out),
              "FAIL\t1\treason=Authentication request timed out\n");
    CHECK_INT(auth_conn_requests(f.conn), 1);
    /* Request 2's clock started again with its CONT. */
    CHECK_INT(feed(&f, "CONT\t2\tc2VjcmV0", 100000), 0); /* secret */
    CHECK_STR(buf_cstr(&f.out), "OK\t2\tuser=alice\n");
    CHECK_INT(auth_conn_requests(f.conn), 0);
    buf_reset(&f.out);
    CHECK_INT(auth_conn_flush_due(f.conn, 200000, &f.out), 0);
    teardown(&f);
}

/* auth_username_format folds the login name before the lookup; the OK
 * and the failure counters use the folded name. */
static void test_username_format(void)
{
    static const char domain_users[] = "alice@example.test:{PLAIN}pw\n";
    struct fixture f;
    f.db = passdb_open_passwd_text("users", domain_users,
                                   strlen(domain_users));
    struct auth_server_settings s = {
        .passdb = f.db,
        .failure_delay_ms = 2000,
        .lockout_threshold = 2,
        .lockout_window_ms = 60000,
        .pid = 1,
        .username_format = "%Lu",
    };
    f.srv = auth_server_new(&s);
    f.conn = auth_conn_new(f.srv);
    buf_init(&f.out);
    handshake(&f);
    char line[512];
    plain_line(line, sizeof(line), 1, "smtp", "Alice@Example.Test", "pw",
               "192.0.2.1");
    CHECK_INT(feed(&f, line, 0), 0);
    CHECK_STR(buf_cstr(&f.out), "OK\t1\tuser=alice@example.test\n");
    /* Two failures under two spellings lock the one user out. */
    plain_line(line, sizeof(line), 2, "smtp", "ALICE@example.test", "x",
               "192.0.2.2");
    CHECK_INT(feed(&f, line, 0), 0);
    plain_line(line, sizeof(line), 3, "smtp", "alice@EXAMPLE.test", "x",
               "192.0.2.3");
    CHECK_INT(feed(&f, line, 0), 0);
    buf_reset(&f.out);
    auth_conn_flush_due(f.conn, 2000, &f.out);
    CHECK(strstr(buf_cstr(&f.out), "user=alice@example.test\n") != NULL);
    plain_line(line, sizeof(line), 4, "smtp", "alice@example.test", "pw",
               "192.0.2.4");
    CHECK_INT(feed(&f, line, 3000), 0);
    buf_reset(&f.out);
    auth_conn_flush_due(f.conn, 5000, &f.out);
    CHECK(strstr(buf_cstr(&f.out), "Too many failed attempts") != NULL);
    teardown(&f);

    /* Without a format, names are used as given. */
    f.db = passdb_open_passwd_text("users", domain_users,
                                   strlen(domain_users));
    s.passdb = f.db;
    s.username_format = NULL;
    f.srv = auth_server_new(&s);
    f.conn = auth_conn_new(f.srv);
    buf_init(&f.out);
    handshake(&f);
    plain_line(line, sizeof(line), 1, "smtp", "Alice@Example.Test", "pw",
               "192.0.2.1");
    CHECK_INT(feed(&f, line, 0), 0);
    buf_reset(&f.out);
    auth_conn_flush_due(f.conn, 2000, &f.out);
    CHECK_STR(buf_cstr(&f.out), "FAIL\t1\treason=Authentication failed\t"
                                "user=Alice@Example.Test\n");
    teardown(&f);
}

/* verify_async that only queues: the test runs the jobs when it likes. */
static struct auth_verify_job *queued[8];
static size_t queued_count;

static void queue_job(struct auth_verify_job *job, void *ctx)
{
    queued[queued_count++] = job;
}

static void test_background_checks(void)
{
    struct fixture f;
    f.db = passdb_open_passwd_text("users", users, strlen(users));
    struct auth_server_settings s = {
        .passdb = f.db,
        .failure_delay_ms = 2000,
        .pid = 1,
        .verify_async = queue_job,
    };
    f.srv = auth_server_new(&s);
    f.conn = auth_conn_new(f.srv);
    buf_init(&f.out);
    handshake(&f);
    char line[512];
    plain_line(line, sizeof(line), 1, "smtp", "alice", "secret", "192.0.2.1");
    CHECK_INT(feed(&f, line, 0), 0);
    plain_line(line, sizeof(line), 2, "smtp", "alice", "bad", "192.0.2.1");
    CHECK_INT(feed(&f, line, 0), 0);
    plain_line(line, sizeof(line), 3, "smtp", "ghost", "x", "192.0.2.1");
    CHECK_INT(feed(&f, line, 0), 0);
    CHECK_INT(f.out.len, 0); /* nothing answered while checks run */
    /* The unknown user costs no password check. */
    CHECK_INT(queued_count, 2);
    CHECK_INT(auth_server_password_checks(f.srv), 2);
    /* Finish them out of order: replies come as each is done. */
    for (size_t i = queued_count; i-- > 0;) {
        auth_verify_job_run(queued[i]);
        CHECK(auth_verify_job_done(queued[i], 100) == f.conn);
    }
    queued_count = 0;
    buf_reset(&f.out);
    /* Every FAIL is due at arrival + delay, not at check end + delay:
     * the wrong password (checked until 100) and the unknown user (no
     * check) both at 2000. */
    CHECK_INT(auth_conn_flush_due(f.conn, 100, &f.out), 2000);
    CHECK_STR(buf_cstr(&f.out), "OK\t1\tuser=alice\n");
    buf_reset(&f.out);
    auth_conn_flush_due(f.conn, 2000, &f.out);
    CHECK(strstr(buf_cstr(&f.out), "FAIL\t2\t") != NULL);
    CHECK(strstr(buf_cstr(&f.out), "FAIL\t3\t") != NULL);
    /* A check that takes longer than the delay fails as soon as done. */
    plain_line(line, sizeof(line), 5, "smtp", "alice", "bad", "192.0.2.1");
    CHECK_INT(feed(&f, line, 2000), 0);
    CHECK_INT(queued_count, 1);
    auth_verify_job_run(queued[0]);
    CHECK(auth_verify_job_done(queued[0], 4500) == f.conn);
    queued_count = 0;
    buf_reset(&f.out);
    CHECK_INT(auth_conn_flush_due(f.conn, 4500, &f.out), 0);
    CHECK(str_has_prefix(buf_cstr(&f.out), "FAIL\t5\t"));
    /* A connection that goes away while its check runs. */
    plain_line(line, sizeof(line), 4, "smtp", "alice", "secret", "192.0.2.1");
    CHECK_INT(feed(&f, line, 5000), 0);
    CHECK_INT(queued_count, 1);
    auth_conn_free(f.conn);
    f.conn = NULL;
    auth_verify_job_run(queued[0]);
    CHECK(auth_verify_job_done(queued[0], 5100) == NULL);
    queued_count = 0;
    teardown(&f);
}

int main(void)
{
    UNIT_RUN(test_handshake);
    UNIT_RUN(test_plain_ok_and_delayed_fail);
    UNIT_RUN(test_login_and_multiplexing);
    UNIT_RUN(test_protocol_errors);
    UNIT_RUN(test_lockout);
    UNIT_RUN(test_lockout_ignores_case);
    UNIT_RUN(test_userdb_fields);
    UNIT_RUN(test_background_checks);
    UNIT_RUN(test_username_format);
    UNIT_RUN(test_request_timeout);
    return unit_summary();
}
