/* server_impl.h: what the parts of the daemon skeleton share (server.c,
 * server_trigger.c). Not for daemons: they use server.h. */
#ifndef POSTERN_SERVER_IMPL_H
#define POSTERN_SERVER_IMPL_H

#include "ipc/server.h"

/* What a listening descriptor is. */
enum listen_kind { LISTEN_STREAM, LISTEN_FIFO, LISTEN_DGRAM };

/* Sends a status record (MASTER_STAT_TAKEN/AVAIL) to master when it
 * differs from the last one. */
void server_report(int status);
/* Accepts one client (non-blocking, close-on-exec; for `pass` services
 * the passed descriptor); -1 when there is none. */
int server_accept_client(int listen_fd);
/* Runs one unit of work (a trigger callback) under the daemon_timeout
 * watchdog, reporting TAKEN while it runs, and counts it against
 * max_use (a process that reaches it stops accepting and exits when its
 * sessions are over). */
void server_run_counted(void (*work)(void *ctx), void *ctx);
const struct server_ops *server_ops_in_use(void);

/* server_trigger.c: a trigger listener is ready (SERVER_TRIGGER mode). */
void server_trigger_ready(int listen_fd, enum listen_kind kind);

#endif
