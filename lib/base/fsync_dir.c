/* fsync_dir.c: the directory fsync and its EINVAL rule (fsync_dir.h). */
#include "base/fsync_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"

int fsync_dir_unsupported(int err)
{
    return err == EINVAL || err == EROFS;
}

int fsync_dir(const char *dir, struct buf *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int saved = errno;
        if (err)
            buf_appendf(err, "open directory %s: %s", dir, strerror(saved));
        errno = saved;
        return -1;
    }
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc < 0 && !fsync_dir_unsupported(saved)) {
        if (err)
            buf_appendf(err, "fsync directory %s: %s", dir, strerror(saved));
        errno = saved;
        return -1;
    }
    return 0;
}

int fsync_parent_dir(const char *path, struct buf *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return fsync_dir(".", err);
    char *dir = slash == path ? xstrdup("/")
                              : xstrndup(path, (size_t)(slash - path));
    int rc = fsync_dir(dir, err);
    int saved = errno;
    free(dir);
    errno = saved;
    return rc;
}
