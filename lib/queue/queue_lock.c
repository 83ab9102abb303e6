/* queue_lock.c: exclusive OFD locks on queue files (see queue_lock.h). */
#include "queue/queue_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void whole_file(struct flock *lock, short type)
{
    memset(lock, 0, sizeof(*lock));
    lock->l_type = type;
    lock->l_whence = SEEK_SET;
    lock->l_start = 0;
    lock->l_len = 0; /* to the end, however the file grows */
    lock->l_pid = 0; /* required for OFD locks */
}

enum queue_lock_result queue_lock_fd(int fd, struct buf *err)
{
    struct flock lock;
    whole_file(&lock, F_WRLCK);
    if (fcntl(fd, F_OFD_SETLK, &lock) == 0)
        return QUEUE_LOCK_OK;
    if (errno == EAGAIN || errno == EACCES)
        return QUEUE_LOCK_BUSY;
    buf_appendf(err, "lock: %s", strerror(errno));
    return QUEUE_LOCK_ERROR;
}

void queue_unlock_fd(int fd)
{
    struct flock lock;
    whole_file(&lock, F_UNLCK);
    (void)fcntl(fd, F_OFD_SETLK, &lock);
}

enum queue_lock_result queue_lock_open(const char *path, int *fd_out,
                                       struct buf *err)
{
    *fd_out = -1;
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return QUEUE_LOCK_GONE;
        buf_appendf(err, "open %s: %s", path, strerror(errno));
        return QUEUE_LOCK_ERROR;
    }
    struct stat locked, named;
    enum queue_lock_result result;
    if (fstat(fd, &locked) < 0) {
        buf_appendf(err, "fstat %s: %s", path, strerror(errno));
        result = QUEUE_LOCK_ERROR;
    } else if (!S_ISREG(locked.st_mode)) {
        buf_appendf(err, "%s: not a regular file", path);
        result = QUEUE_LOCK_ERROR;
    } else if ((result = queue_lock_fd(fd, err)) != QUEUE_LOCK_OK) {
        if (result == QUEUE_LOCK_ERROR)
            buf_appendf(err, " (%s)", path);
    } else if (stat(path, &named) < 0 || named.st_ino != locked.st_ino ||
               named.st_dev != locked.st_dev) {
        /* Moved or removed between our open and our lock. */
        result = QUEUE_LOCK_GONE;
    }
    if (result != QUEUE_LOCK_OK) {
        close(fd);
        return result;
    }
    *fd_out = fd;
    return QUEUE_LOCK_OK;
}

int queue_lock_held(const char *path, struct buf *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        buf_appendf(err, "open %s: %s", path, strerror(errno));
        return -1;
    }
    struct flock lock;
    whole_file(&lock, F_WRLCK);
    int result = 0;
    if (fcntl(fd, F_OFD_GETLK, &lock) < 0) {
        buf_appendf(err, "lock test %s: %s", path, strerror(errno));
        result = -1;
    } else {
        result = lock.l_type != F_UNLCK;
    }
    close(fd);
    return result;
}
