/* server.h: the skeleton every daemon is written against.
 *
 * A daemon's main() fills a struct server_ops and calls server_main().
 * The skeleton is the child side of lib/ipc/master_proto.h: it parses the
 * command line master passes,
 *     NAME -c DIR -n SERVICE -t TYPE [-v]... [-o name=value]... [-S ADDR]
 * [ARGS] loads main.cf with the -o overrides, opens the log (maillog_file,
 * syslog_name, program name = basename of argv[0]), runs pre_init (still
 * privileged: read keys, open files, bind), chroots and drops privileges
 * as master asked (MASTER_CHROOT_ENV, MASTER_UNPRIV_ENV), runs post_init,
 * then
 * accepts work from every listening fd and reports busy/idle to master.
 *
 * Three modes:
 *   SERVER_SINGLE  one connection at a time: serve() gets a blocking
 *                  stream; TAKEN is reported while serving, AVAIL after.
 *                  Exits after max_use connections or max_idle seconds
 *                  without one.
 *   SERVER_EVENT   many connections in one process: accept() gets each
 *                  new fd (non-blocking, close-on-exec; the daemon owns
 *                  it) and registers its own callbacks on server_loop().
 *                  The daemon calls server_session_begin() for each
 *                  connection it keeps and server_session_end() when one
 *                  is over, so max_idle counts from the last session and
 *                  a retiring process waits for its sessions. After
 *                  max_use connections the process stops accepting,
 *                  reports TAKEN and exits when its sessions are done.
 *   SERVER_TRIGGER wake-up services: each connection (stream socket),
 *                  datagram (unix-dgram) or read (fifo) delivers up to
 *                  SERVER_TRIGGER_MAX bytes
 *                  to trigger(). A stream client is read by the event
 *                  loop without blocking, with one deadline for its whole
 *                  request (SERVER_TRIGGER_DEADLINE_MS), so a client that
 *                  sends slowly never holds the process up
 *                  (server_trigger.c). With long_running set (qmgr)
 *                  max_use and max_idle do not apply.
 * `pass` services (-t pass) receive each client fd over the listening
 * unix socket (SCM_RIGHTS) and treat it as an accepted connection.
 *
 * A watchdog (alarm) kills a process whose serve() or trigger() call
 * outlives daemon_timeout, as Postfix's does.
 *
 * EOF on MASTER_LIFELINE_FD (master stopped, or the service was retired
 * by a reload): stop accepting, finish the work in hand, exit. SIGTERM:
 * exit at once. SIGPIPE is ignored (writes report EPIPE).
 *
 * -S ADDR runs without master (tests, debugging): listen on ADDR
 * ("host:port", "[v6]:port", or a unix socket path containing '/'),
 * print "listening on ADDR" (with the real port) on stdout, no status
 * reports, no lifeline. */
#ifndef POSTERN_SERVER_H
#define POSTERN_SERVER_H

#include <stddef.h>

#include "base/event.h"
#include "base/peercred.h"
#include "base/stream.h"

enum server_mode { SERVER_SINGLE, SERVER_EVENT, SERVER_TRIGGER };

/* Bytes one trigger connection may carry. */
#define SERVER_TRIGGER_MAX 1024
/* Time a stream trigger client has for its whole request, from accept. */
#define SERVER_TRIGGER_DEADLINE_MS 5000
/* Stream trigger clients read at once; one more finishes the oldest. */
#define SERVER_TRIGGER_PENDING 32

struct server_ops {
    enum server_mode mode;
    /* Optional. Runs with the privileges master started us with (root
     * for a root master, also for unpriv services), after config and log
     * are ready: read what only root may read here. A daemon without it
     * (and without chroot) drops to mail_owner before reading main.cf.
     * argc/argv are the daemon arguments left after the options. */
    void (*pre_init)(int argc, char **argv);
    /* Optional. Runs after chroot and privilege drop. */
    void (*post_init)(int argc, char **argv);
    /* SERVER_SINGLE: serve one client. The skeleton closes the stream
     * afterwards. The stream is blocking with no timeout: set one. */
    void (*serve)(struct stream *client);
    /* SERVER_EVENT: a new connection. */
    void (*accept)(int fd);
    /* SERVER_TRIGGER: the bytes of one trigger (len >= 1). */
    void (*trigger)(const char *data, size_t len);
    /* Optional. Runs before a normal exit (max_use, max_idle, lifeline). */
    void (*pre_exit)(void);
    /* SERVER_TRIGGER/SERVER_EVENT: ignore max_use and max_idle. */
    int long_running;
};

/* Runs the daemon; returns only to exit with the returned status. */
int server_main(int argc, char **argv, const struct server_ops *ops);

/* The event loop (all modes; daemons add their own fds and timers). */
struct event_loop *server_loop(void);
/* SERVER_EVENT session accounting; see above. server_session_end() does
 * not return when it ends the last session of a retiring process (it
 * runs pre_exit and exits), so call it after the session is cleaned up. */
void server_session_begin(void);
void server_session_end(void);
size_t server_session_count(void);
/* Stops accepting and exits once the sessions in hand are over (what
 * lifeline EOF does); a daemon may call it on a fatal condition it wants
 * to finish gracefully. */
void server_stop(void);

/* SERVER_TRIGGER, during the trigger() call only. A client that
 * delivered its trigger over a unix stream socket stays connected until
 * trigger() returns (it ends its trigger with shutdown(SHUT_WR) when it
 * wants an answer, or simply closes).
 * server_trigger_peer: the kernel's word on who sent this trigger
 * (SO_PEERCRED): 0, or -1 when there is none (a fifo, a datagram, an
 * inet socket). server_trigger_reply: sends bytes back to that client
 * without blocking; a client that did not wait misses them. */
int server_trigger_peer(struct peercred *cred);
void server_trigger_reply(const void *data, size_t len);

/* From the command line: service name (-n), type (-t), 1 when -S. */
const char *server_service(void);
const char *server_type(void);
int server_standalone(void);

#endif
