/* peercred.h: who is on the other end of a local (unix-domain) socket.
 *
 * Local submission trusts the kernel's word about the client, never the
 * client's: SO_PEERCRED gives the uid, gid and pid the peer had when it
 * connected. */
#ifndef POSTERN_PEERCRED_H
#define POSTERN_PEERCRED_H

#include <sys/types.h>

struct peercred {
    pid_t pid;
    uid_t uid;
    gid_t gid;
};

/* Fills cred for the peer of the connected unix socket fd: 0, or -1 with
 * errno (ENOTSOCK, EINVAL for a socket that is not AF_UNIX, ...). */
int peercred_get(int fd, struct peercred *cred);

#endif
