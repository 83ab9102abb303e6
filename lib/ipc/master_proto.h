/* master_proto.h: the contract between master and the children it spawns.
 *
 * master binds every listener, then execs a child as
 *   COMMAND -c CONFIG_DIR -n SERVICE -t TYPE [-v] [-o name=value]... [ARGS]
 * with these descriptors open:
 *   MASTER_STATUS_FD    write end of the service's status pipe; the child
 *                       writes one struct master_status when it becomes
 *                       available (idle) and when it is taken (busy).
 *   MASTER_LIFELINE_FD  read end of a pipe whose write end only master
 *                       holds. EOF on it means master has stopped or the
 *                       service was retired by a reload: the child stops
 *                       accepting, finishes the work in hand and exits.
 *                       A listener that no service keeps after a reload
 *                       is also shut down (shutdown(2)): accept() on it
 *                       then fails with EINVAL, which means "stop
 *                       watching this socket", not an error.
 *   MASTER_LISTEN_FD .. MASTER_LISTEN_FD + count - 1
 *                       the listening sockets (non-blocking); count is in
 *                       the environment variable MASTER_LISTEN_COUNT_ENV.
 *                       For a `pass` service the socket is a unix stream
 *                       socket on which each connection carries one
 *                       descriptor (SCM_RIGHTS) to serve.
 * Children accept connections themselves; master never reads a byte of
 * mail or of the network. A status record is smaller than PIPE_BUF, so
 * writes from many children never interleave. */
#ifndef POSTERN_MASTER_PROTO_H
#define POSTERN_MASTER_PROTO_H

#include <sys/types.h>

#define MASTER_STATUS_FD 3
#define MASTER_LIFELINE_FD 4
#define MASTER_LISTEN_FD 5
#define MASTER_LISTEN_COUNT_ENV "POSTERN_LISTEN_COUNT"

/* Status values a child reports. */
#define MASTER_STAT_TAKEN 0 /* busy: serving; do not count on me */
#define MASTER_STAT_AVAIL 1 /* idle: ready to accept */
/* An event-mode process took its first client and stays available:
 * its death is no longer a bad start-up (no throttle). */
#define MASTER_STAT_USED 2

struct master_status {
    pid_t pid;
    unsigned generation; /* copied from MASTER_GENERATION_ENV at start */
    int status;          /* MASTER_STAT_* */
};

/* master puts the service generation here so stale reports after a
 * reload can be told apart. */
#define MASTER_GENERATION_ENV "POSTERN_GENERATION"

/* Trigger services (`wakeup` column): master connects to the service's
 * unix socket or fifo and writes this byte. */
#define MASTER_TRIGGER_WAKEUP 'W'

/* Privileges (only when master runs as root; a master started by an
 * ordinary user runs everything as that user and sets neither):
 *   unpriv = y: master sets MASTER_UNPRIV_ENV to "UID:GID" (mail_owner,
 *     numeric so no passwd lookup is needed inside a chroot) and starts
 *     the child as root. The child reads its configuration and does what
 *     needs root (the server skeleton's pre_init: smtpd reads its TLS key
 *     there), then sets its groups to GID alone, then GID, then UID, and
 *     fails if it can regain root (checked with getresuid/getresgid). A
 *     skeleton daemon without pre_init and without chroot drops first
 *     thing, before it reads main.cf.
 *     Exception: a command given with a path (not in daemon_directory) is
 *     not known to drop by itself; without chroot, master switches it to
 *     mail_owner before exec and sets nothing.
 *   chroot = y: master sets MASTER_CHROOT_ENV to the directory
 *     ($queue_directory). The child reads its configuration and opens what
 *     it needs, then chroots there and changes directory to "/" before it
 *     serves anyone, then drops as above when MASTER_UNPRIV_ENV is set.
 *   unpriv = n, chroot = n: the child runs as root. */
#define MASTER_CHROOT_ENV "POSTERN_CHROOT"
#define MASTER_UNPRIV_ENV "POSTERN_UNPRIV"

#endif
