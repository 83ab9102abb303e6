/* echo_service.c: a tiny single-mode service on the server skeleton, for
 * tests of the skeleton and of master.
 *
 * Each client gets its lines echoed back. Commands: `pid` answers the
 * process id, `crash` aborts the process (an abnormal exit, for respawn
 * tests), `exit` exits with status 3, `quit` ends the session with "bye".
 * The first daemon argument, when given, is a greeting sent on connect. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "ipc/server.h"
#include "base/stream.h"

static const char *greeting;

static void serve(struct stream *client)
{
    struct buf line = BUF_INIT;
    stream_set_timeout(client, 30000);
    if (greeting) {
        stream_printf(client, "%s\r\n", greeting);
        stream_flush(client);
    }
    while (stream_read_line(client, &line, 1000) == STREAM_OK) {
        const char *text = buf_cstr(&line);
        if (strcmp(text, "crash") == 0)
            abort();
        if (strcmp(text, "exit") == 0)
            exit(3);
        if (strcmp(text, "pid") == 0) {
            stream_printf(client, "%ld\r\n", (long)getpid());
        } else if (strcmp(text, "quit") == 0) {
            stream_puts(client, "bye\r\n");
            stream_flush(client);
            break;
        } else {
            stream_write(client, line.data, line.len);
            stream_puts(client, "\r\n");
        }
        if (stream_flush(client) != STREAM_OK)
            break;
    }
    buf_free(&line);
}

static void pre_init(int argc, char **argv)
{
    greeting = argc > 0 ? argv[0] : NULL;
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .mode = SERVER_SINGLE,
        .pre_init = pre_init,
        .serve = serve,
    };
    return server_main(argc, argv, &ops);
}
