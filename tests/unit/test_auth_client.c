/* test_auth_client.c: unit tests for lib/auth/auth_client, the Dovecot
 * auth protocol client: the server line parser, and the client against
 * a scripted server on a unix socket in a temporary directory (the
 * handshake, AUTH lines, multiplexed replies, CONT, the server going
 * away, a socket that is not there, and a server that never answers). */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "auth/auth_client.h"
#include "base/buf.h"

static void test_parse_lines(void)
{
    struct auth_server_line l = AUTH_SERVER_LINE_INIT;
    CHECK_INT(auth_server_line_parse(&l, "VERSION\t1\t2", 11), 0);
    CHECK_INT(l.cmd, AUTH_SERVER_VERSION);
    CHECK_INT(l.major, 1);
    CHECK_INT(l.minor, 2);
    const char *mech = "MECH\tPLAIN\tplaintext\tfuture-flag";
    CHECK_INT(auth_server_line_parse(&l, mech, strlen(mech)), 0);
    CHECK_INT(l.cmd, AUTH_SERVER_MECH);
    CHECK_STR(l.mech, "PLAIN");
    CHECK_INT(l.mech_flags, AUTH_MECH_PLAINTEXT);
    const char *anon = "MECH\tANONYMOUS\tanonymous";
    CHECK_INT(auth_server_line_parse(&l, anon, strlen(anon)), 0);
    CHECK_INT(l.mech_flags, AUTH_MECH_ANONYMOUS);
    const char *fail = "FAIL\t7\tuser=alice\ttemp\treason=try\001tlater";
    CHECK_INT(auth_server_line_parse(&l, fail, strlen(fail)), 0);
    CHECK_INT(l.cmd, AUTH_SERVER_FAIL);
    CHECK_INT(l.id, 7);
    CHECK_STR(l.user, "alice");
    CHECK_STR(l.reason, "try\tlater");
    CHECK_INT(l.temp, 1);
    CHECK_INT(auth_server_line_parse(&l, "FAIL\t8", 6), 0);
    CHECK(l.user == NULL && l.reason == NULL && !l.temp);
    CHECK_INT(auth_server_line_parse(&l, "CONT\t3\t", 7), 0);
    CHECK_STR(l.data, "");
    CHECK_INT(auth_server_line_parse(&l, "OK\t4\tuser=bob", 13), 0);
    CHECK_STR(l.user, "bob");
    CHECK_INT(auth_server_line_parse(&l, "SOMETHING\tnew", 13), 0);
    CHECK_INT(l.cmd, AUTH_SERVER_UNKNOWN);
    /* What a server must not send. */
    CHECK_INT(auth_server_line_parse(&l, "CONT\t3", 6), -1);
    CHECK_INT(auth_server_line_parse(&l, "OK\t0", 4), -1);
    CHECK_INT(auth_server_line_parse(&l, "OK\tx1", 5), -1);
    CHECK_INT(auth_server_line_parse(&l, "OK\t99999999999", 14), -1);
    CHECK_INT(auth_server_line_parse(&l, "VERSION\t1", 9), -1);
    CHECK_INT(auth_server_line_parse(&l, "MECH\t", 5), -1);
    CHECK_INT(auth_server_line_parse(&l, "", 0), -1);
    auth_server_line_free(&l);
}

static void test_base64_valid(void)
{
    CHECK(auth_base64_valid(""));
    CHECK(auth_base64_valid("AGFsaWNlAHNlY3JldA=="));
    CHECK(auth_base64_valid("YWJj"));
    CHECK(!auth_base64_valid("YWJ"));
    CHECK(!auth_base64_valid("YW=j"));
    CHECK(!auth_base64_valid("Y\tJj"));
    CHECK(!auth_base64_valid("Y==="));
    CHECK(!auth_base64_valid("*"));
}

/* ---- a scripted server ---- */

struct server {
    char dir[64];
    char path[128];
    int listen_fd;
    int conn_fd;
    struct buf got; /* what the client sent */
};

static void server_start(struct server *sv)
{
    memset(sv, 0, sizeof(*sv));
    strcpy(sv->dir, "/tmp/test_auth_client.XXXXXX");
    if (mkdtemp(sv->dir) == NULL)
        abort();
    snprintf(sv->path, sizeof(sv->path), "%s/auth", sv->dir);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strcpy(sun.sun_path, sv->path);
    sv->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(sv->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
        listen(sv->listen_fd, 8) < 0)
        abort();
    sv->conn_fd = -1;
    buf_init(&sv->got);
}

static void server_stop(struct server *sv)
{
    if (sv->conn_fd >= 0)
        close(sv->conn_fd);
    if (sv->listen_fd >= 0)
        close(sv->listen_fd);
    unlink(sv->path);
    rmdir(sv->dir);
    buf_free(&sv->got);
}

static void server_accept(struct server *sv)
{
    if (sv->conn_fd >= 0)
        close(sv->conn_fd);
    sv->conn_fd = accept(sv->listen_fd, NULL, NULL);
    fcntl(sv->conn_fd, F_SETFL, O_NONBLOCK);
    buf_reset(&sv->got);
}

static void server_send(struct server *sv, const char *text)
{
    if (write(sv->conn_fd, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
}

/* Runs the loop a little, then collects what the client wrote. */
static void pump(struct event_loop *loop, struct server *sv, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        event_loop_once(loop, 20);
        if (sv && sv->conn_fd >= 0) {
            char chunk[4096];
            ssize_t n;
            while ((n = read(sv->conn_fd, chunk, sizeof(chunk))) > 0)
                buf_append(&sv->got, chunk, (size_t)n);
        }
    }
}

static const char *HANDSHAKE = "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\n"
                               "MECH\tLOGIN\tplaintext\nMECH\tANONYMOUS\t"
                               "anonymous\nSPID\t1\nCUID\t1\nCOOKIE\tabc\n"
                               "DONE\n";

struct seen {
    int calls;
    enum auth_result_kind kind;
    char user[64];
    char reason[128];
    char challenge[64];
};

static void on_result(void *ctx, const struct auth_result *r)
{
    struct seen *s = ctx;
    s->calls++;
    s->kind = r->kind;
    snprintf(s->user, sizeof(s->user), "%s", r->user ? r->user : "");
    snprintf(s->reason, sizeof(s->reason), "%s", r->reason ? r->reason : "");
    snprintf(s->challenge, sizeof(s->challenge), "%s",
             r->challenge ? r->challenge : "");
}

static void on_ready(void *ctx, int ready)
{
    *(int *)ctx = ready ? 1 : -1;
}

static const struct auth_request_info PLAIN_INFO = {
    "PLAIN", "127.0.0.1", "25", "127.0.0.2", "40000", 1, "AGFsaWNlAHM=",
};

static void test_handshake_and_multiplexing(void)
{
    struct event_loop *loop = event_loop_new();
    struct server sv;
    server_start(&sv);
    struct auth_client *c = auth_client_new(loop, sv.path, "smtp", 5000);
    struct auth_wait wait = {0};
    int ready = 0;
    CHECK_INT(auth_client_wait_ready(c, &wait, on_ready, &ready), 0);
    CHECK_INT(ready, 0); /* never called from inside */
    server_accept(&sv);
    pump(loop, &sv, 2);
    char want[64];
    snprintf(want, sizeof(want), "VERSION\t1\t2\nCPID\t%ld\n", (long)getpid());
    CHECK_STR(buf_cstr(&sv.got), want);
    /* A request made during the handshake goes out after DONE. */
    struct seen a = {0}, b = {0};
    struct auth_request_info login = {"LOGIN", NULL, NULL, "::1", NULL, 0,
                                      NULL};
    auth_client_request(c, &PLAIN_INFO, on_result, &a);
    buf_reset(&sv.got);
    server_send(&sv, HANDSHAKE);
    pump(loop, &sv, 3);
    CHECK_INT(ready, 1);
    CHECK(auth_client_ready(c));
    CHECK_INT(auth_client_mech_count(c), 3);
    CHECK(auth_client_mech_find(c, "login") != NULL);
    CHECK_INT(auth_client_mech_find(c, "ANONYMOUS")->flags,
              AUTH_MECH_ANONYMOUS);
    CHECK(auth_client_mech_find(c, "CRAM-MD5") == NULL);
    auth_client_request(c, &login, on_result, &b);
    pump(loop, &sv, 2);
    CHECK_STR(buf_cstr(&sv.got),
              "AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\t"
              "rip=127.0.0.2\tlport=25\trport=40000\tsecured\t"
              "resp=AGFsaWNlAHM=\n"
              "AUTH\t2\tLOGIN\tservice=smtp\tnologin\trip=::1\n");
    /* Replies in the other order, and a late one for an unknown id. */
    server_send(&sv, "CONT\t2\tVXNlcm5hbWU6\nOK\t1\tuser=alice\nFAIL\t9\n");
    pump(loop, &sv, 2);
    CHECK_INT(a.calls, 1);
    CHECK_INT(a.kind, AUTH_RESULT_OK);
    CHECK_STR(a.user, "alice");
    CHECK_INT(b.calls, 1);
    CHECK_INT(b.kind, AUTH_RESULT_CONT);
    CHECK_STR(b.challenge, "VXNlcm5hbWU6");
    buf_reset(&sv.got);
    server_send(&sv, "CONT\t2\tUGFzc3dvcmQ6\n");
    pump(loop, &sv, 2);
    CHECK_INT(b.calls, 2);
    buf_reset(&sv.got);
    server_send(&sv, "FAIL\t2\tuser=bob\treason=nope\n");
    pump(loop, &sv, 2);
    CHECK_INT(b.calls, 3);
    CHECK_INT(b.kind, AUTH_RESULT_FAIL);
    CHECK_STR(b.user, "bob");
    CHECK_STR(b.reason, "nope");
    auth_client_free(c);
    server_stop(&sv);
    event_loop_free(loop);
}

struct cont_ctx {
    struct auth_request *req;
    struct seen seen;
};

static void on_cont_result(void *ctx, const struct auth_result *r)
{
    struct cont_ctx *cc = ctx;
    on_result(&cc->seen, r);
    if (r->kind == AUTH_RESULT_CONT) {
        CHECK_INT(auth_request_continue(cc->req, "not base64!"), -1);
        CHECK_INT(auth_request_continue(cc->req, "Ym9i"), 0);
    } else {
        cc->req = NULL;
    }
}

static void test_continue_and_abort(void)
{
    struct event_loop *loop = event_loop_new();
    struct server sv;
    server_start(&sv);
    struct auth_client *c = auth_client_new(loop, sv.path, "smtp", 5000);
    struct cont_ctx cc = {0};
    struct auth_request_info login = {"LOGIN", NULL, NULL, NULL, NULL, 0, NULL};
    cc.req = auth_client_request(c, &login, on_cont_result, &cc);
    server_accept(&sv);
    server_send(&sv, HANDSHAKE);
    pump(loop, &sv, 3);
    buf_reset(&sv.got);
    server_send(&sv, "CONT\t1\t\n");
    pump(loop, &sv, 2);
    CHECK_INT(cc.seen.calls, 1);
    CHECK_STR(cc.seen.challenge, "");
    CHECK_STR(buf_cstr(&sv.got), "CONT\t1\tYm9i\n");
    /* The client says "*": the request is forgotten and its answer,
     * when it comes, is ignored. */
    auth_request_abort(cc.req);
    server_send(&sv, "OK\t1\tuser=bob\n");
    pump(loop, &sv, 2);
    CHECK_INT(cc.seen.calls, 1);
    auth_client_free(c);
    server_stop(&sv);
    event_loop_free(loop);
}

static void test_server_goes_away(void)
{
    struct event_loop *loop = event_loop_new();
    struct server sv;
    server_start(&sv);
    struct auth_client *c = auth_client_new(loop, sv.path, "smtp", 5000);
    struct seen a = {0}, b = {0};
    auth_client_request(c, &PLAIN_INFO, on_result, &a);
    server_accept(&sv);
    server_send(&sv, HANDSHAKE);
    pump(loop, &sv, 3);
    auth_client_request(c, &PLAIN_INFO, on_result, &b);
    pump(loop, &sv, 1);
    close(sv.conn_fd);
    sv.conn_fd = -1;
    pump(loop, NULL, 2);
    CHECK_INT(a.calls, 1);
    CHECK_INT(a.kind, AUTH_RESULT_TEMP);
    CHECK_STR(a.reason, "Connection lost to authentication server");
    CHECK_INT(b.calls, 1);
    CHECK_INT(b.kind, AUTH_RESULT_TEMP);
    CHECK(!auth_client_ready(c));
    /* The next request connects again. */
    struct seen d = {0};
    auth_client_request(c, &PLAIN_INFO, on_result, &d);
    server_accept(&sv);
    server_send(&sv, HANDSHAKE);
    pump(loop, &sv, 3);
    CHECK(auth_client_ready(c));
    CHECK(strstr(buf_cstr(&sv.got), "AUTH\t3\tPLAIN\t") != NULL);
    server_send(&sv, "OK\t3\tuser=alice\n");
    pump(loop, &sv, 2);
    CHECK_INT(d.kind, AUTH_RESULT_OK);
    auth_client_free(c);
    server_stop(&sv);
    event_loop_free(loop);
}

static void test_no_server(void)
{
    struct event_loop *loop = event_loop_new();
    struct auth_client *c =
        auth_client_new(loop, "/nonexistent/auth-client", "smtp", 5000);
    struct seen a = {0};
    struct auth_wait wait = {0};
    int ready = 0;
    CHECK_INT(auth_client_wait_ready(c, &wait, on_ready, &ready), 0);
    auth_client_request(c, &PLAIN_INFO, on_result, &a);
    CHECK_INT(a.calls, 0); /* never from inside the call */
    pump(loop, NULL, 2);
    CHECK_INT(a.calls, 1);
    CHECK_INT(a.kind, AUTH_RESULT_TEMP);
    CHECK_STR(a.reason, "Can't connect to authentication server");
    CHECK_INT(ready, -1);
    auth_client_free(c);
    event_loop_free(loop);
}

static void test_timeouts(void)
{
    struct event_loop *loop = event_loop_new();
    struct server sv;
    server_start(&sv);
    /* No handshake at all. */
    struct auth_client *c = auth_client_new(loop, sv.path, "smtp", 50);
    struct auth_wait wait = {0};
    int ready = 0;
    auth_client_wait_ready(c, &wait, on_ready, &ready);
    server_accept(&sv);
    pump(loop, &sv, 8);
    CHECK_INT(ready, -1);
    /* A handshake, then no answer. */
    struct seen a = {0};
    auth_client_request(c, &PLAIN_INFO, on_result, &a);
    server_accept(&sv);
    server_send(&sv, HANDSHAKE);
    pump(loop, &sv, 8);
    CHECK_INT(a.calls, 1);
    CHECK_INT(a.kind, AUTH_RESULT_TEMP);
    CHECK_STR(a.reason, "Authentication server did not answer in time");
    auth_client_free(c);
    server_stop(&sv);
    event_loop_free(loop);
}

static void test_protocol_errors(void)
{
    struct event_loop *loop = event_loop_new();
    struct server sv;
    server_start(&sv);
    struct auth_client *c = auth_client_new(loop, sv.path, "smtp", 5000);
    struct seen a = {0};
    auth_client_request(c, &PLAIN_INFO, on_result, &a);
    server_accept(&sv);
    server_send(&sv, "VERSION\t2\t0\n"); /* a major version we do not speak */
    pump(loop, &sv, 3);
    CHECK_INT(a.kind, AUTH_RESULT_TEMP);
    struct seen b = {0};
    auth_client_request(c, &PLAIN_INFO, on_result, &b);
    server_accept(&sv);
    server_send(&sv, HANDSHAKE);
    server_send(&sv, "OK\tnot-a-number\n");
    pump(loop, &sv, 3);
    CHECK_INT(b.calls, 1);
    CHECK_INT(b.kind, AUTH_RESULT_TEMP);
    auth_client_free(c);
    server_stop(&sv);
    event_loop_free(loop);
}

int main(void)
{
    UNIT_RUN(test_parse_lines);
    UNIT_RUN(test_base64_valid);
    UNIT_RUN(test_handshake_and_multiplexing);
    UNIT_RUN(test_continue_and_abort);
    UNIT_RUN(test_server_goes_away);
    UNIT_RUN(test_no_server);
    UNIT_RUN(test_timeouts);
    UNIT_RUN(test_protocol_errors);
    return unit_summary();
}
