/* pidlock.c: master's pid file lock (see pidlock.h). */
#include "base/pidlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void whole_file(struct flock *lock, short type)
{
    memset(lock, 0, sizeof(*lock));
    lock->l_type = type;
    lock->l_whence = SEEK_SET;
    lock->l_start = 0;
    lock->l_len = 0; /* to end of file, however it grows */
}

int pidlock_acquire(const char *path, pid_t *holder, struct buf *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        buf_set_str(err, "");
        buf_appendf(err, "open lock file %s: %s", path, strerror(errno));
        return PIDLOCK_FAILED;
    }
    struct flock lock;
    whole_file(&lock, F_WRLCK);
    if (fcntl(fd, F_SETLK, &lock) < 0) {
        int saved = errno;
        if (saved == EAGAIN || saved == EACCES) {
            struct flock probe;
            whole_file(&probe, F_WRLCK);
            *holder = 0;
            if (fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK)
                *holder = probe.l_pid;
            close(fd);
            buf_set_str(err, "");
            buf_appendf(err, "lock file %s is held by process %ld", path,
                        (long)*holder);
            return PIDLOCK_HELD;
        }
        close(fd);
        buf_set_str(err, "");
        buf_appendf(err, "lock %s: %s", path, strerror(saved));
        return PIDLOCK_FAILED;
    }
    /* Postfix writes the pid right-aligned in 10 columns. */
    char text[32];
    int len = snprintf(text, sizeof(text), "%*lu\n", 10, (unsigned long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)len, 0) != len) {
        int saved = errno;
        close(fd);
        buf_set_str(err, "");
        buf_appendf(err, "write %s: %s", path, strerror(saved));
        return PIDLOCK_FAILED;
    }
    return fd;
}

pid_t pidlock_holder(const char *path, struct buf *err)
{
    /* O_RDONLY is enough for F_GETLK and works for a user who may read
     * but not write the file (postern status as a non-owner). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        buf_set_str(err, "");
        buf_appendf(err, "open %s: %s", path, strerror(errno));
        return -1;
    }
    struct flock probe;
    whole_file(&probe, F_WRLCK);
    if (fcntl(fd, F_GETLK, &probe) < 0) {
        buf_set_str(err, "");
        buf_appendf(err, "examine lock on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return probe.l_type == F_UNLCK ? 0 : probe.l_pid;
}
