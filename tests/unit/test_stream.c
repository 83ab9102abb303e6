/* test_stream.c: unit tests for lib/base/stream over socketpairs. */
#include "unit.h"

#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/stream.h"

static long elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000 +
           (now.tv_nsec - start->tv_nsec) / 1000000;
}

static struct stream *pair(int *peer)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    *peer = sv[1];
    return stream_open(sv[0]);
}

static void put(int fd, const char *text)
{
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len)
        abort();
}

static void test_line_endings(void)
{
    int peer;
    struct stream *s = pair(&peer);
    struct buf line = BUF_INIT;
    put(peer, "crlf\r\nbare lf\nin\rside\r\n\r\nlast");
    close(peer);
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "crlf");
    CHECK_INT(stream_line_flags(s), STREAM_LINE_CRLF);
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "bare lf");
    CHECK_INT(stream_line_flags(s), STREAM_LINE_LF);
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "in\rside");
    CHECK_INT(stream_line_flags(s), STREAM_LINE_CRLF | STREAM_LINE_BARE_CR);
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_OK);
    CHECK_INT(line.len, 0);
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "last");
    CHECK_INT(stream_line_flags(s), STREAM_LINE_NO_EOL);
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_EOF);
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_EOF);
    buf_free(&line);
    stream_close(s);
}

static void test_line_limit(void)
{
    int peer;
    struct stream *s = pair(&peer);
    struct buf line = BUF_INIT;
    char big[5000];
    memset(big, 'a', sizeof(big));
    CHECK(write(peer, big, sizeof(big)) == (ssize_t)sizeof(big));
    put(peer, "tail\r\n0123456789\r\n01234567890\r\nnext\n");
    CHECK_INT(stream_read_line(s, &line, 10), STREAM_TOO_LONG);
    CHECK_STR(buf_cstr(&line), "aaaaaaaaaa");
    /* Exactly max bytes plus CR LF fits. */
    CHECK_INT(stream_read_line(s, &line, 10), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "0123456789");
    /* One more byte does not, and only that line is lost. */
    CHECK_INT(stream_read_line(s, &line, 10), STREAM_TOO_LONG);
    CHECK_INT(stream_read_line(s, &line, 10), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "next");
    /* A last line without newline obeys the limit too (found by
     * fuzz_stream_line). */
    put(peer, "0123456789A");
    close(peer);
    CHECK_INT(stream_read_line(s, &line, 10), STREAM_TOO_LONG);
    CHECK_STR(buf_cstr(&line), "0123456789");
    CHECK_INT(stream_read_line(s, &line, 10), STREAM_EOF);
    buf_free(&line);
    stream_close(s);
}

static void test_read_timeout(void)
{
    int peer;
    struct stream *s = pair(&peer);
    struct buf line = BUF_INIT;
    stream_set_timeout(s, 150);
    put(peer, "partial");
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_TIMEOUT);
    long took = elapsed_ms(&start);
    CHECK(took >= 140 && took < 2000);
    /* The partial line is still there for a later read. */
    put(peer, " line\n");
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "partial line");
    close(peer);
    buf_free(&line);
    stream_close(s);
}

static void test_nonblocking_lines(void)
{
    int peer;
    struct stream *s = pair(&peer);
    struct buf line = BUF_INIT;
    CHECK(stream_set_nonblocking(s, 1) == 0);
    CHECK_INT(stream_read_line(s, &line, 10), STREAM_AGAIN);
    CHECK_INT(stream_wants(s), STREAM_WANT_READ);
    put(peer, "hel");
    CHECK_INT(stream_read_line(s, &line, 10), STREAM_AGAIN);
    put(peer, "lo\r\n");
    CHECK_INT(stream_read_line(s, &line, 10), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "hello");
    /* Overlong line split over many reads: reported once, then skipped. */
    put(peer, "0123456789abcdef");
    CHECK_INT(stream_read_line(s, &line, 10), STREAM_TOO_LONG);
    CHECK_STR(buf_cstr(&line), "0123456789");
    put(peer, "more junk");
    CHECK_INT(stream_read_line(s, &line, 10), STREAM_AGAIN);
    put(peer, "end\nok\n");
    CHECK_INT(stream_read_line(s, &line, 10), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "ok");
    close(peer);
    CHECK_INT(stream_read_line(s, &line, 10), STREAM_EOF);
    buf_free(&line);
    stream_close(s);
}

static void test_read_exact_and_some(void)
{
    int peer;
    struct stream *s = pair(&peer);
    struct buf out = BUF_INIT;
    stream_set_nonblocking(s, 1);
    CHECK(write(peer, "ab\0cd", 5) == 5);
    CHECK_INT(stream_read_exact(s, &out, 3), STREAM_OK);
    CHECK_INT(out.len, 3);
    CHECK(memcmp(out.data, "ab\0", 3) == 0);
    /* Atomic: 4 asked, 2 there -> nothing appended. */
    CHECK_INT(stream_read_exact(s, &out, 4), STREAM_AGAIN);
    CHECK_INT(out.len, 3);
    CHECK_INT(stream_input_pending(s), 2);
    put(peer, "ZY");
    CHECK_INT(stream_read_exact(s, &out, 4), STREAM_OK);
    CHECK_INT(out.len, 7);
    CHECK(memcmp(out.data, "ab\0cdZY", 7) == 0);
    buf_reset(&out);
    put(peer, "xyz");
    CHECK_INT(stream_read_some(s, &out, 2), STREAM_OK);
    CHECK_STR(buf_cstr(&out), "xy");
    buf_reset(&out);
    CHECK_INT(stream_read_some(s, &out, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&out), "z");
    put(peer, "q");
    close(peer);
    /* EOF in the middle of an exact read keeps the partial data. */
    buf_reset(&out);
    stream_set_nonblocking(s, 0);
    CHECK_INT(stream_read_exact(s, &out, 2), STREAM_EOF);
    CHECK_INT(out.len, 0);
    CHECK_INT(stream_read_some(s, &out, 10), STREAM_OK);
    CHECK_STR(buf_cstr(&out), "q");
    buf_free(&out);
    stream_close(s);
}

static void test_write_and_flush(void)
{
    int peer;
    struct stream *s = pair(&peer);
    stream_printf(s, "250 %s %d\r\n", "ok", 42);
    stream_puts(s, "x");
    CHECK_INT(stream_output_pending(s), 12);
    CHECK_INT(stream_flush(s), STREAM_OK);
    CHECK_INT(stream_output_pending(s), 0);
    char got[32] = {0};
    CHECK_INT(read(peer, got, sizeof(got) - 1), 12);
    CHECK_STR(got, "250 ok 42\r\nx");
    close(peer);
    stream_close(s);
}

/* Non-blocking flush of a big buffer: AGAIN until the peer reads. */
static void test_nonblocking_flush(void)
{
    int peer;
    struct stream *s = pair(&peer);
    stream_set_nonblocking(s, 1);
    size_t total = 4 * 1024 * 1024;
    char *chunk = malloc(65536);
    memset(chunk, 'q', 65536);
    for (size_t i = 0; i < total / 65536; i++)
        stream_write(s, chunk, 65536);
    CHECK_INT(stream_output_pending(s), total); /* nothing written yet */
    CHECK_INT(stream_flush(s), STREAM_AGAIN);
    CHECK_INT(stream_wants(s), STREAM_WANT_WRITE);
    size_t received = 0;
    int rounds = 0;
    enum stream_status st = STREAM_AGAIN;
    while (received < total && rounds++ < 100000) {
        ssize_t n = read(peer, chunk, 65536);
        if (n > 0)
            received += (size_t)n;
        if (st == STREAM_AGAIN)
            st = stream_flush(s);
    }
    CHECK_INT(st, STREAM_OK);
    CHECK_INT(received, total);
    free(chunk);
    close(peer);
    stream_close(s);
}

static void test_write_timeout_and_error(void)
{
    int peer;
    struct stream *s = pair(&peer);
    stream_set_timeout(s, 100);
    char *chunk = calloc(1, 1 << 20);
    stream_write(s, chunk, 1 << 20); /* auto-flush tries, times out */
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    CHECK_INT(stream_flush(s), STREAM_TIMEOUT);
    CHECK(elapsed_ms(&start) >= 90);
    close(peer);
    CHECK_INT(stream_flush(s), STREAM_ERROR);
    CHECK_INT(stream_errno(s), EPIPE);
    CHECK_INT(stream_flush(s), STREAM_ERROR); /* sticky */
    free(chunk);
    stream_close(s);
}

/* A toy I/O layer (XOR 0x20) standing in for TLS. */
struct xor_layer {
    int fd;
    int reads, writes;
};

static ssize_t xor_read(void *ctx, void *data, size_t len)
{
    struct xor_layer *x = ctx;
    ssize_t n = read(x->fd, data, len);
    for (ssize_t i = 0; i < n; i++)
        ((char *)data)[i] ^= 0x20;
    x->reads++;
    return n;
}

static ssize_t xor_write(void *ctx, const void *data, size_t len)
{
    struct xor_layer *x = ctx;
    char tmp[256];
    if (len > sizeof(tmp))
        len = sizeof(tmp);
    for (size_t i = 0; i < len; i++)
        tmp[i] = ((const char *)data)[i] ^ 0x20;
    x->writes++;
    return write(x->fd, tmp, len);
}

static const struct stream_io xor_io = {xor_read, xor_write, NULL, NULL};

static void test_io_layer(void)
{
    int peer;
    struct stream *s = pair(&peer);
    struct xor_layer x = {stream_fd(s), 0, 0};
    stream_set_io(s, &xor_io, &x);
    stream_set_timeout(s, 2000);
    put(peer, "HELLO-*"); /* XOR 0x20: "hello\r\n" */
    struct buf line = BUF_INIT;
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "hello");
    CHECK_INT(stream_line_flags(s), STREAM_LINE_CRLF);
    CHECK(x.reads > 0);
    stream_puts(s, "abc");
    CHECK_INT(stream_flush(s), STREAM_OK);
    char got[8] = {0};
    CHECK_INT(read(peer, got, sizeof(got) - 1), 3);
    CHECK_STR(got, "ABC");
    CHECK(x.writes > 0);
    buf_free(&line);
    close(peer);
    stream_close(s);
}

/* A short read is taken to have emptied the socket: no more reads until
 * the owner's poll says there is input (stream_readable). */
static void test_short_read_drains(void)
{
    int peer;
    struct stream *s = pair(&peer);
    struct buf line = BUF_INIT;
    CHECK(stream_set_nonblocking(s, 1) == 0);
    stream_set_short_read_drains(s, 1);
    put(peer, "one\r\n");
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "one");
    put(peer, "two\r\n");
    /* the guess: no read, although input is there */
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_AGAIN);
    CHECK_INT(stream_wants(s), STREAM_WANT_READ);
    stream_readable(s);
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "two");
    /* lines already buffered are served without asking */
    put(peer, "a\r\nb\r\n");
    stream_readable(s);
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "a");
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "b");
    /* with an I/O layer (TLS) every read asks again */
    struct xor_layer x = {stream_fd(s), 0, 0};
    stream_set_io(s, &xor_io, &x);
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_AGAIN);
    CHECK(x.reads == 1);
    close(peer);
    stream_readable(s);
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_EOF);
    buf_free(&line);
    stream_close(s);
}

/* Pipes take the read/write path (no send/recv); timeouts still hold. */
static void test_pipe_fallback(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    struct stream *in = stream_open(p[0]);
    struct stream *out = stream_open(p[1]);
    struct buf line = BUF_INIT;
    stream_set_timeout(in, 100);
    stream_set_timeout(out, 100);
    CHECK_INT(stream_read_line(in, &line, 100), STREAM_TIMEOUT);
    stream_puts(out, "through a pipe\n");
    CHECK_INT(stream_flush(out), STREAM_OK);
    CHECK_INT(stream_read_line(in, &line, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "through a pipe");
    /* Fill the pipe: the blocking writer times out instead of hanging. */
    char *chunk = calloc(1, 1 << 20);
    stream_write(out, chunk, 1 << 20);
    CHECK_INT(stream_flush(out), STREAM_TIMEOUT);
    free(chunk);
    buf_free(&line);
    stream_close(in);
    stream_close(out);
}

int main(void)
{
    UNIT_RUN(test_line_endings);
    UNIT_RUN(test_line_limit);
    UNIT_RUN(test_read_timeout);
    UNIT_RUN(test_nonblocking_lines);
    UNIT_RUN(test_short_read_drains);
    UNIT_RUN(test_read_exact_and_some);
    UNIT_RUN(test_write_and_flush);
    UNIT_RUN(test_nonblocking_flush);
    UNIT_RUN(test_write_timeout_and_error);
    UNIT_RUN(test_io_layer);
    UNIT_RUN(test_pipe_fallback);
    return unit_summary();
}
