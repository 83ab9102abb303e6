/* peercred.c: peer credentials of a unix-domain socket (see peercred.h). */
#include "base/peercred.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int peercred_get(int fd, struct peercred *cred)
{
    struct sockaddr_storage addr;
    socklen_t addr_len = sizeof(addr);
    if (getsockname(fd, (struct sockaddr *)&addr, &addr_len) < 0)
        return -1;
    if (addr.ss_family != AF_UNIX) {
        errno = EINVAL;
        return -1;
    }
    struct ucred uc;
    socklen_t len = sizeof(uc);
    memset(&uc, 0, sizeof(uc));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
        return -1;
    if (len != sizeof(uc)) {
        errno = EINVAL;
        return -1;
    }
    cred->pid = uc.pid;
    cred->uid = uc.uid;
    cred->gid = uc.gid;
    return 0;
}
