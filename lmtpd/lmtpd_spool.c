/* lmtpd_spool.c: a message held once, in memory or in a nameless file
 * (lmtpd_spool.h). */
#include "lmtpd_spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/store.h"

/* Bytes collected before one write to the file. */
#define SPOOL_WRITE_CHUNK (64 * 1024)

void lmtpd_spool_init(struct lmtpd_spool *sp, const char *temp_dir)
{
    memset(sp, 0, sizeof(*sp));
    sp->temp_dir = temp_dir;
    sp->fd = -1;
    buf_init(&sp->data);
    buf_init(&sp->err);
}

void lmtpd_spool_reset(struct lmtpd_spool *sp)
{
    if (sp->fd >= 0)
        close(sp->fd);
    sp->fd = -1;
    sp->size = 0;
    sp->failed = 0;
    buf_reset(&sp->data);
    buf_reset(&sp->err);
    /* A big message's buffer is not kept for the next one. */
    if (sp->data.cap > 2 * LMTPD_SPOOL_MEMORY) {
        buf_free(&sp->data);
        buf_init(&sp->data);
    }
}

void lmtpd_spool_free(struct lmtpd_spool *sp)
{
    lmtpd_spool_reset(sp);
    buf_free(&sp->data);
    buf_free(&sp->err);
}

static void fail(struct lmtpd_spool *sp, const char *what, int err)
{
    sp->failed = 1;
    buf_reset(&sp->err);
    buf_appendf(&sp->err, "%s %s: %s", what, sp->temp_dir, strerror(err));
}

/* A file no other process can open: O_TMPFILE, or a name removed at
 * once. -1 with errno. */
static int open_nameless(const char *dir)
{
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
        return fd;
#endif
    struct buf path = BUF_INIT;
    buf_appendf(&path, "%s/lmtpd.XXXXXX", dir);
    int fd2 = mkostemp(path.data, O_CLOEXEC);
    if (fd2 >= 0)
        unlink(path.data);
    int saved = errno;
    buf_free(&path);
    errno = saved;
    return fd2;
}

static int write_buffered(struct lmtpd_spool *sp)
{
    if (sp->data.len == 0)
        return 0;
    if (store_write_all(sp->fd, sp->data.data, sp->data.len) < 0) {
        fail(sp, "write to a temporary file in", errno);
        return -1;
    }
    buf_reset(&sp->data);
    return 0;
}

void lmtpd_spool_append(struct lmtpd_spool *sp, const void *data, size_t len)
{
    if (sp->failed || len == 0)
        return;
    sp->size += len;
    if (sp->fd < 0 && sp->data.len + len > LMTPD_SPOOL_MEMORY) {
        sp->fd = open_nameless(sp->temp_dir);
        if (sp->fd < 0) {
            fail(sp, "create a temporary file in", errno);
            return;
        }
    }
    buf_append(&sp->data, data, len);
    if (sp->fd >= 0 && sp->data.len >= SPOOL_WRITE_CHUNK)
        (void)write_buffered(sp);
}

int lmtpd_spool_finish(struct lmtpd_spool *sp)
{
    if (sp->failed)
        return -1;
    if (sp->fd >= 0)
        return write_buffered(sp);
    return 0;
}

int lmtpd_spool_read(void *spool, uint64_t offset, size_t max, struct buf *out,
                     struct buf *err)
{
    struct lmtpd_spool *sp = spool;
    buf_reset(out);
    if (offset >= sp->size)
        return 0;
    uint64_t left = sp->size - offset;
    size_t want = left < max ? (size_t)left : max;
    if (sp->fd < 0) {
        buf_append(out, sp->data.data + offset, want);
        return 0;
    }
    buf_reserve(out, want);
    ssize_t n;
    do
        n = pread(sp->fd, out->data, want, (off_t)offset);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        buf_appendf(err, "read the spooled message: %s",
                    n < 0 ? strerror(errno) : "unexpected end of file");
        return -1;
    }
    out->len = (size_t)n;
    out->data[out->len] = 0;
    return 0;
}
