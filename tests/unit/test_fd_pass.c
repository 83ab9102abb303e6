/* test_fd_pass.c: lib/ipc/fd_pass (a message and a descriptor over a
 * unix socket) and base/stream's stream_trim. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/stream.h"
#include "ipc/fd_pass.h"
#include "unit.h"

/* A pipe's read end travels; what is written into the pipe's write end
 * here comes out of the received descriptor. */
static void passes_message_and_descriptor_on_seqpacket(void)
{
    int pair[2], pipefd[2];
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair) == 0);
    CHECK(pipe(pipefd) == 0);
    CHECK_INT(fd_pass_send(pair[0], "first", 5, pipefd[0]), 0);
    CHECK_INT(fd_pass_send(pair[0], "second", 6, -1), 0);
    close(pipefd[0]);
    char data[64];
    int got = -1;
    CHECK_INT(fd_pass_recv(pair[1], data, sizeof(data), &got, 0), 5);
    CHECK(memcmp(data, "first", 5) == 0);
    CHECK(got >= 0);
    CHECK(fcntl(got, F_GETFD) & FD_CLOEXEC);
    CHECK_INT(write(pipefd[1], "x", 1), 1);
    char byte = 0;
    CHECK_INT(read(got, &byte, 1), 1);
    CHECK_INT(byte, 'x');
    /* One record per message; no descriptor with the second. */
    int none = -1;
    CHECK_INT(fd_pass_recv(pair[1], data, sizeof(data), &none, 0), 6);
    CHECK_INT(none, -1);
    CHECK_INT(fd_pass_recv(pair[1], data, sizeof(data), &none, 1), -1);
    CHECK_INT(errno, EAGAIN);
    close(pair[0]);
    CHECK_INT(fd_pass_recv(pair[1], data, sizeof(data), &none, 0), 0);
    close(got);
    close(pipefd[1]);
    close(pair[1]);
}

/* A second descriptor where one was already taken is refused. */
static void refuses_a_second_descriptor(void)
{
    int pair[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    int a = dup(0), b = dup(0);
    CHECK_INT(fd_pass_send(pair[0], "1", 1, a), 0);
    char data[8];
    int got = -1;
    CHECK_INT(fd_pass_recv(pair[1], data, sizeof(data), &got, 0), 1);
    CHECK_INT(fd_pass_send(pair[0], "2", 1, b), 0);
    CHECK_INT(fd_pass_recv(pair[1], data, sizeof(data), &got, 0), -1);
    CHECK_INT(errno, EPROTO);
    CHECK_INT(got, -1); /* the first one is closed too */
    close(a);
    close(b);
    close(pair[0]);
    close(pair[1]);
}

static void stream_trim_frees_only_empty_buffers(void)
{
    int pair[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    struct stream *s = stream_open(pair[1]);
    stream_set_nonblocking(s, 1);
    CHECK_INT(write(pair[0], "one\ntwo\n", 8), 8);
    struct buf line = BUF_INIT;
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "one");
    stream_trim(s); /* "two\n" is unread: kept */
    CHECK_INT(stream_input_pending(s), 4);
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "two");
    stream_trim(s);
    CHECK_INT(stream_input_pending(s), 0);
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_AGAIN);
    stream_write(s, "out\n", 4);
    stream_trim(s); /* unwritten output is kept */
    CHECK_INT(stream_output_pending(s), 4);
    CHECK_INT(stream_flush(s), STREAM_OK);
    stream_trim(s);
    CHECK_INT(write(pair[0], "three\n", 6), 6);
    CHECK_INT(stream_read_line(s, &line, 100), STREAM_OK);
    CHECK_STR(buf_cstr(&line), "three");
    char back[8];
    CHECK_INT(read(pair[0], back, sizeof(back)), 4);
    buf_free(&line);
    stream_close(s);
    close(pair[0]);
}

int main(void)
{
    UNIT_RUN(passes_message_and_descriptor_on_seqpacket);
    UNIT_RUN(refuses_a_second_descriptor);
    UNIT_RUN(stream_trim_frees_only_empty_buffers);
    return unit_summary();
}
