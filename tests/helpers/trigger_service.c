/* trigger_service.c: a trigger-mode service for tests of the skeleton.
 * Each trigger's bytes are appended, followed by a newline, to the file
 * named by the first daemon argument. With a second argument `long` the
 * service is long-running (ignores max_use and max_idle), as qmgr is. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "ipc/server.h"

static int out_fd = -1;

static void pre_init(int argc, char **argv)
{
    if (argc < 1)
        log_fatal("usage: trigger_service [options] FILE [long]");
    out_fd = open(argv[0], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (out_fd < 0)
        log_fatal("open %s: %m", argv[0]);
}

static void trigger(const char *data, size_t len)
{
    char copy[SERVER_TRIGGER_MAX + 1];
    memcpy(copy, data, len);
    copy[len] = '\n';
    if (write(out_fd, copy, len + 1) < 0)
        log_fatal("write: %m");
}

int main(int argc, char **argv)
{
    static struct server_ops ops = {
        .mode = SERVER_TRIGGER,
        .pre_init = pre_init,
        .trigger = trigger,
    };
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "long") == 0)
            ops.long_running = 1;
    return server_main(argc, argv, &ops);
}
