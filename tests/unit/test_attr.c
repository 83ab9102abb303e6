/* test_attr.c: unit tests for lib/ipc/attr (wire format, bounds, client). */
#include "unit.h"

#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/attr.h"
#include "base/buf.h"
#include "base/stream.h"

static struct attr_msg *sample(void)
{
    struct attr_msg *m = attr_msg_new("anvil", 1);
    attr_add_str(m, "request", "connect");
    attr_add_bytes(m, "blob", "a\0b\n.\n", 6);
    attr_add_num(m, "count", -42);
    attr_add_num(m, "big", INT64_MAX);
    attr_add_str(m, "empty", "");
    return m;
}

static void test_encode_format(void)
{
    struct attr_msg *m = attr_msg_new("anvil", 1);
    attr_add_str(m, "ident", "smtp:1.2.3.4");
    attr_add_num(m, "count", 3);
    struct buf wire = BUF_INIT;
    attr_encode(m, &wire);
    CHECK_STR(buf_cstr(&wire),
              "@anvil/1\ns ident 12\nsmtp:1.2.3.4\nn count 3\n.\n");
    buf_free(&wire);
    attr_msg_free(m);
}

static void test_round_trip_and_prefixes(void)
{
    struct attr_msg *m = sample(), *got = NULL;
    struct buf wire = BUF_INIT, err = BUF_INIT;
    attr_encode(m, &wire);
    buf_append_str(&wire, "trailing");
    size_t used = 0;
    CHECK_INT(attr_decode(wire.data, wire.len, NULL, &got, &used, &err),
              ATTR_OK);
    CHECK_INT(used, wire.len - 8);
    CHECK(got != NULL);
    if (!got)
        return;
    CHECK_STR(attr_msg_proto(got), "anvil");
    CHECK_INT(attr_msg_version(got), 1);
    CHECK_INT(attr_msg_count(got), 5);
    const char *value;
    size_t len;
    long long num;
    CHECK_INT(attr_get_str(got, "blob", &value, &len, &err), 0);
    CHECK_INT(len, 6);
    CHECK(memcmp(value, "a\0b\n.\n", 6) == 0);
    /* As a C string the NUL is refused. */
    CHECK_INT(attr_get_str(got, "blob", &value, NULL, &err), -1);
    CHECK_STR(buf_cstr(&err), "attribute blob contains a NUL byte");
    CHECK_INT(attr_get_num(got, "count", &num, &err), 0);
    CHECK_INT(num, -42);
    CHECK_INT(attr_get_num(got, "big", &num, &err), 0);
    CHECK(num == INT64_MAX);
    CHECK_STR(attr_opt_str(got, "empty", "x"), "");
    CHECK_STR(attr_opt_str(got, "absent", "dflt"), "dflt");
    buf_reset(&err);
    CHECK_INT(attr_check_all_used(got, &err), -1);
    CHECK_STR(buf_cstr(&err), "unexpected attribute request");
    CHECK_INT(attr_get_str(got, "request", &value, NULL, &err), 0);
    CHECK_STR(value, "connect");
    buf_reset(&err);
    CHECK_INT(attr_check_all_used(got, &err), 0);
    CHECK_INT(attr_check_proto(got, "anvil", 1, &err), 0);
    CHECK_INT(attr_check_proto(got, "anvil", 2, &err), -1);
    attr_msg_free(got);
    /* Every strict prefix is incomplete, never malformed. */
    size_t full = wire.len - 8;
    int bad = 0;
    for (size_t i = 0; i < full; i++) {
        buf_reset(&err);
        if (attr_decode(wire.data, i, NULL, &got, &used, &err) != ATTR_AGAIN)
            bad++;
    }
    CHECK_INT(bad, 0);
    buf_free(&wire);
    buf_free(&err);
    attr_msg_free(m);
}

static void test_getter_errors(void)
{
    struct attr_msg *m = sample();
    struct buf err = BUF_INIT;
    const char *value;
    long long num;
    CHECK_INT(attr_get_str(m, "nope", &value, NULL, &err), -1);
    CHECK_STR(buf_cstr(&err), "missing attribute nope");
    buf_reset(&err);
    CHECK_INT(attr_get_str(m, "count", &value, NULL, &err), -1);
    CHECK_STR(buf_cstr(&err), "attribute count is not a string");
    buf_reset(&err);
    CHECK_INT(attr_get_num(m, "request", &num, &err), -1);
    CHECK_STR(buf_cstr(&err), "attribute request is not a number");
    buf_free(&err);
    attr_msg_free(m);
}

static enum attr_status
decode_text(const char *text, const struct attr_limits *lim, struct buf *err)
{
    struct attr_msg *m = NULL;
    size_t used;
    buf_reset(err);
    enum attr_status st = attr_decode(text, strlen(text), lim, &m, &used, err);
    attr_msg_free(m);
    return st;
}

static void test_malformed(void)
{
    struct buf err = BUF_INIT;
    static const char *bad[] = {
        "anvil/1\n.\n",                            /* no @ */
        "@Anvil/1\n.\n",                           /* upper case protocol */
        "@anvil/0\n.\n",                           /* version 0 */
        "@anvil/01\n.\n",                          /* leading zero */
        "@anvil\n.\n",                             /* no version */
        "@anvil/1\nx a 1\nb\n.\n",                 /* unknown type */
        "@anvil/1\ns a 2\nb\n.\n",                 /* length does not match */
        "@anvil/1\ns a -1\n\n.\n",                 /* negative length */
        "@anvil/1\nn a 1x\n.\n",                   /* bad number */
        "@anvil/1\nn a 99999999999999999999\n.\n", /* overflow */
        "@anvil/1\nn a 1\nn a 2\n.\n",             /* duplicate */
        "@anvil/1\nn a b 1\n.\n",                  /* space in name */
        "@anvil/1\nn  1\n.\n",                     /* empty name */
        "@anvil/1\nn a=b 1\n.\n",                  /* bad name char */
        "@anvil/1\n..\n",                          /* bad end marker */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        enum attr_status st = decode_text(bad[i], NULL, &err);
        if (st != ATTR_MALFORMED)
            printf("#   case %zu: status %d\n", i, (int)st);
        CHECK_INT(st, ATTR_MALFORMED);
        CHECK(err.len > 0);
    }
    CHECK_INT(decode_text("@anvil/1\nn a 1\n.\n", NULL, &err), ATTR_OK);
    CHECK_INT(decode_text("@a-b_c/4294967295\n.\n", NULL, &err), ATTR_OK);
    CHECK_INT(decode_text("@anvil/4294967296\n.\n", NULL, &err),
              ATTR_MALFORMED);
    buf_free(&err);
}

static void test_limits(void)
{
    struct buf err = BUF_INIT;
    struct attr_limits lim = {
        .max_attrs = 2, .max_name = 4, .max_value = 5, .max_message = 64};
    CHECK_INT(decode_text("@p/1\nn a 1\nn b 2\n.\n", &lim, &err), ATTR_OK);
    CHECK_INT(decode_text("@p/1\nn a 1\nn b 2\nn c 3\n.\n", &lim, &err),
              ATTR_MALFORMED);
    CHECK_STR(buf_cstr(&err), "more than 2 attributes");
    CHECK_INT(decode_text("@p/1\nn abcde 1\n.\n", &lim, &err), ATTR_MALFORMED);
    CHECK_INT(decode_text("@p/1\ns a 5\n12345\n.\n", &lim, &err), ATTR_OK);
    CHECK_INT(decode_text("@p/1\ns a 6\n123456\n.\n", &lim, &err),
              ATTR_MALFORMED);
    /* A huge declared length is refused before any data arrives. */
    CHECK_INT(decode_text("@p/1\ns a 1000000\n", &lim, &err), ATTR_MALFORMED);
    /* An endless message is refused at max_message, not buffered. */
    struct buf big = BUF_INIT;
    buf_append_str(&big, "@p/1\n");
    while (big.len < 100)
        buf_append_str(&big, "s a 1\nx\n");
    CHECK_INT(decode_text(buf_cstr(&big), &lim, &err), ATTR_MALFORMED);
    /* An endless header line is refused too. */
    buf_set_str(&big, "@");
    while (big.len < 100)
        buf_append_char(&big, 'p');
    CHECK_INT(decode_text(buf_cstr(&big), NULL, &err), ATTR_MALFORMED);
    buf_free(&big);
    buf_free(&err);
}

static void test_stream_read_write(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    struct stream *a = stream_open(sv[0]), *b = stream_open(sv[1]);
    struct attr_msg *m = sample(), *got = NULL;
    struct buf err = BUF_INIT;
    CHECK_INT(attr_write(a, m), ATTR_OK);
    CHECK_INT(attr_write(a, m), ATTR_OK);
    stream_close(a);
    CHECK_INT(attr_read(b, NULL, &got, &err), ATTR_OK);
    attr_msg_free(got);
    CHECK_INT(attr_read(b, NULL, &got, &err), ATTR_OK);
    CHECK(got && attr_msg_count(got) == 5);
    attr_msg_free(got);
    CHECK_INT(attr_read(b, NULL, &got, &err), ATTR_EOF);
    stream_close(b);

    /* Non-blocking: a message dribbling in byte by byte. */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    b = stream_open(sv[1]);
    stream_set_nonblocking(b, 1);
    struct buf wire = BUF_INIT;
    attr_encode(m, &wire);
    int agains = 0;
    enum attr_status st = ATTR_AGAIN;
    for (size_t i = 0; i < wire.len && st == ATTR_AGAIN; i++) {
        CHECK(write(sv[0], wire.data + i, 1) == 1);
        st = attr_read(b, NULL, &got, &err);
        if (st == ATTR_AGAIN)
            agains++;
    }
    CHECK_INT(st, ATTR_OK);
    CHECK_INT(agains, wire.len - 1);
    attr_msg_free(got);
    /* A message cut short by EOF is malformed, not a clean EOF. */
    CHECK(write(sv[0], wire.data, 10) == 10);
    close(sv[0]);
    stream_set_nonblocking(b, 0);
    buf_reset(&err);
    CHECK_INT(attr_read(b, NULL, &got, &err), ATTR_MALFORMED);
    stream_close(b);
    buf_free(&wire);
    buf_free(&err);
    attr_msg_free(m);
}

/* A peer sending one byte at a time cannot stretch a read past the
 * stream's timeout: it bounds the whole message. */
static void test_read_timeout_whole_message(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[1]);
        const char *wire =
            "@slow/1\ns a 40\n0123456789012345678901234567890123456789\n.\n";
        for (size_t i = 0; wire[i]; i++) {
            if (write(sv[0], wire + i, 1) != 1)
                _exit(0);
            usleep(30000);
        }
        _exit(0);
    }
    close(sv[0]);
    struct stream *s = stream_open(sv[1]);
    stream_set_timeout(s, 300);
    struct attr_msg *got = NULL;
    struct buf err = BUF_INIT;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    CHECK_INT(attr_read(s, NULL, &got, &err), ATTR_TIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &end);
    long ms = (end.tv_sec - start.tv_sec) * 1000 +
              (end.tv_nsec - start.tv_nsec) / 1000000;
    CHECK(ms >= 250 && ms < 1000);
    CHECK_INT(stream_timeout(s), 300); /* restored */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    stream_close(s);
    buf_free(&err);
}

/* A one-shot server in a child: answers one request with count+1, or
 * never answers when told to sleep. */
static pid_t start_server(const char *path, int mute)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 4) < 0)
        abort();
    pid_t pid = fork();
    if (pid == 0) {
        int conn = accept(fd, NULL, NULL);
        struct stream *s = stream_open(conn);
        struct attr_msg *req = NULL;
        struct buf err = BUF_INIT;
        if (mute) {
            sleep(5);
            _exit(0);
        }
        if (attr_read(s, NULL, &req, &err) != ATTR_OK)
            _exit(1);
        long long count = 0;
        attr_get_num(req, "count", &count, &err);
        struct attr_msg *reply = attr_msg_new("anvil", 1);
        attr_add_num(reply, "status", 0);
        attr_add_num(reply, "count", count + 1);
        attr_write(s, reply);
        _exit(0);
    }
    close(fd);
    return pid;
}

static void test_client_call(void)
{
    char dir[] = "/tmp/test_attr.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof(path), "%s/anvil", dir);
    pid_t pid = start_server(path, 0);
    struct attr_msg *req = sample(), *reply = NULL;
    struct buf err = BUF_INIT;
    CHECK_INT(attr_call(path, 5000, req, NULL, &reply, &err), 0);
    long long count = 0;
    CHECK(reply != NULL);
    if (reply)
        CHECK_INT(attr_get_num(reply, "count", &count, &err), 0);
    CHECK_INT(count, -41);
    attr_msg_free(reply);
    waitpid(pid, NULL, 0);

    /* A server that never answers: the call times out. */
    pid = start_server(path, 1);
    buf_reset(&err);
    CHECK_INT(attr_call(path, 200, req, NULL, &reply, &err), -1);
    CHECK(strstr(buf_cstr(&err), "timeout") != NULL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);

    /* Nobody listening. */
    unlink(path);
    buf_reset(&err);
    CHECK_INT(attr_call(path, 200, req, NULL, &reply, &err), -1);
    CHECK(strstr(buf_cstr(&err), "connect to") != NULL);
    rmdir(dir);
    buf_free(&err);
    attr_msg_free(req);
}

int main(void)
{
    UNIT_RUN(test_encode_format);
    UNIT_RUN(test_round_trip_and_prefixes);
    UNIT_RUN(test_getter_errors);
    UNIT_RUN(test_malformed);
    UNIT_RUN(test_limits);
    UNIT_RUN(test_stream_read_write);
    UNIT_RUN(test_read_timeout_whole_message);
    UNIT_RUN(test_client_call);
    return unit_summary();
}
