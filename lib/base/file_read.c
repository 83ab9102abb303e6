/* file_read.c: the bounded whole-file reader (file_read.h). */
#include "base/file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int file_read_fd(int fd, const char *path, size_t max_size, struct buf *out,
                 struct buf *err)
{
    buf_reset(out);
    buf_reserve(out, 1);
    out->data[0] = 0;
    for (;;) {
        /* Room for one byte past the cap: reading it proves the file is
         * too large without reading all of it. */
        size_t want = max_size + 1 - out->len;
        if (want > 65536)
            want = 65536;
        buf_reserve(out, want);
        ssize_t got = read(fd, out->data + out->len, want);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int saved = errno;
            if (err)
                buf_appendf(err, "%s: cannot read: %s", path, strerror(saved));
            errno = saved;
            return -1;
        }
        if (got == 0)
            return 0;
        out->len += (size_t)got;
        out->data[out->len] = 0;
        if (out->len > max_size) {
            if (err)
                buf_appendf(err, "%s: file is larger than %zu bytes", path,
                            max_size);
            errno = EFBIG;
            return -1;
        }
    }
}

int file_read(const char *path, size_t max_size, struct buf *out,
              struct buf *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int saved = errno;
        if (err)
            buf_appendf(err, "%s: cannot open: %s", path, strerror(saved));
        errno = saved;
        return -1;
    }
    int rc = file_read_fd(fd, path, max_size, out, err);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}
