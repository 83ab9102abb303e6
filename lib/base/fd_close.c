/* fd_close.c: closing descriptors before exec (fd_close.h). */
#include "base/fd_close.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The highest descriptor number the process may hold, plus one. */
static int descriptor_limit(void)
{
    long limit = sysconf(_SC_OPEN_MAX);
    return limit > 0 && limit < 1 << 30 ? (int)limit : 1 << 20;
}

/* close_range through syscall(2): older C libraries lack the wrapper,
 * older kernels the call (ENOSYS), and both land in the loops below. */
static int kernel_close_range(int lowest, unsigned flags)
{
#ifdef SYS_close_range
    return (int)syscall(SYS_close_range, (unsigned)lowest, ~0U, flags);
#else
    (void)lowest;
    (void)flags;
    return -1;
#endif
}

void fd_close_from(int lowest)
{
    if (kernel_close_range(lowest, 0) == 0)
        return;
    for (int fd = lowest, limit = descriptor_limit(); fd < limit; fd++)
        close(fd);
}

void fd_cloexec_from(int lowest)
{
    if (kernel_close_range(lowest, CLOSE_RANGE_CLOEXEC) == 0)
        return;
    for (int fd = lowest, limit = descriptor_limit(); fd < limit; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0)
            fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
}
