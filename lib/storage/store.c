/* store.c: delivery status, content filter and file-system helpers shared
 * by the Maildir and mbox writers (see store.h). */
#include "storage/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsync_dir.h"
#include "base/mem.h"

void store_status_init(struct store_status *st)
{
    st->result = STORE_OK;
    memcpy(st->dsn, "2.0.0", 6);
    buf_init(&st->reason);
}

void store_status_free(struct store_status *st)
{
    buf_free(&st->reason);
}

static void status_vset(struct store_status *st, enum store_result result,
                        const char *dsn, const char *fmt, va_list ap)
{
    st->result = result;
    snprintf(st->dsn, sizeof(st->dsn), "%s", dsn);
    buf_reset(&st->reason);
    buf_vappendf(&st->reason, fmt, ap);
}

void store_status_set(struct store_status *st, enum store_result result,
                      const char *dsn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    status_vset(st, result, dsn, fmt, ap);
    va_end(ap);
}

void store_status_errno(struct store_status *st, int err, const char *fmt, ...)
{
    enum store_result result = STORE_DEFER;
    const char *dsn = "4.2.0";
    if (err == ENOSPC) {
        dsn = "4.3.0";
    } else if (err == EDQUOT || err == EFBIG) {
        result = STORE_BOUNCE;
        dsn = "5.2.2";
    }
    va_list ap;
    va_start(ap, fmt);
    status_vset(st, result, dsn, fmt, ap);
    va_end(ap);
    buf_appendf(&st->reason, ": %s", strerror(err));
}

const char *store_result_name(enum store_result result)
{
    switch (result) {
    case STORE_OK:
        return "ok";
    case STORE_DEFER:
        return "defer";
    case STORE_BOUNCE:
        return "bounce";
    case STORE_OVER_QUOTA:
        return "over quota";
    }
    return "unknown";
}

/* ---- content filter ---- */

static const char from_prefix[] = "From ";
#define FROM_PREFIX_LEN 5

void store_filter_init(struct store_filter *f, int flags)
{
    memset(f, 0, sizeof(*f));
    f->flags = flags;
    f->at_line_start = 1;
}

/* Appends one byte to out, keeping the counters; room is reserved by the
 * caller. */
static inline void put_byte(struct store_filter *f, struct buf *out, char c)
{
    out->data[out->len++] = c;
    f->out_bytes++;
    if (c == '\n' && f->last_out != '\r')
        f->bare_lf++;
    f->last_out = c;
}

/* Emits the bytes of "From " held back at a line start. */
static void flush_prefix(struct store_filter *f, struct buf *out)
{
    for (size_t i = 0; i < f->prefix_len; i++)
        put_byte(f, out, from_prefix[i]);
    f->prefix_len = 0;
}

/* Emits one content byte through the quoting stage. */
static inline void emit(struct store_filter *f, struct buf *out, char c)
{
    if ((f->flags & STORE_FILTER_FROM_QUOTE) && f->at_line_start) {
        if (c == from_prefix[f->prefix_len]) {
            if (++f->prefix_len < FROM_PREFIX_LEN)
                return;
            put_byte(f, out, '>');
            flush_prefix(f, out);
            f->at_line_start = 0;
            return;
        }
        flush_prefix(f, out);
    }
    put_byte(f, out, c);
    f->at_line_start = (c == '\n');
}

/* One input byte through the CR stage and the quoting stage. */
static inline void filter_byte(struct store_filter *f, struct buf *out, char c)
{
    if (f->pending_cr) {
        f->pending_cr = 0;
        if (c == '\n') {
            emit(f, out, '\n');
            return;
        }
        emit(f, out, '\r');
    }
    if (c == '\r' && (f->flags & STORE_FILTER_CRLF)) {
        f->pending_cr = 1;
        return;
    }
    emit(f, out, c);
}

void store_filter_run(struct store_filter *f, const void *data, size_t len,
                      struct buf *out)
{
    const char *in = data;
    /* Worst case: every line is "From \n" (6 bytes become 7), plus what
     * was held back from the previous chunk. */
    buf_reserve(out, len + len / 5 + FROM_PREFIX_LEN + 4);
    size_t i = 0;
    while (i < len) {
        /* Byte by byte only where a byte can change what comes out: a
         * held-back CR or "From", a line start under From quoting, CR
         * and LF themselves. The rest of a line is copied whole. */
        if (f->pending_cr || f->prefix_len > 0 ||
            ((f->flags & STORE_FILTER_FROM_QUOTE) && f->at_line_start)) {
            filter_byte(f, out, in[i++]);
            continue;
        }
        const char *span = in + i;
        const char *lf = memchr(span, '\n', len - i);
        size_t n = lf ? (size_t)(lf - span) : len - i;
        const char *cr = memchr(span, '\r', n);
        if (cr)
            n = (size_t)(cr - span);
        if (n == 0) {
            filter_byte(f, out, in[i++]);
            continue;
        }
        memcpy(out->data + out->len, span, n);
        out->len += n;
        f->out_bytes += (long long)n;
        f->last_out = span[n - 1];
        f->at_line_start = 0;
        i += n;
    }
    out->data[out->len] = 0;
}

void store_filter_finish(struct store_filter *f, struct buf *out)
{
    buf_reserve(out, FROM_PREFIX_LEN + 2);
    if (f->pending_cr) {
        f->pending_cr = 0;
        emit(f, out, '\r');
    }
    flush_prefix(f, out);
    out->data[out->len] = 0;
}

/* ---- file system helpers ---- */

int store_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Returns the length of the parent of path[0..len), 0 when none. */
static size_t parent_len(const char *path, size_t len)
{
    while (len > 0 && path[len - 1] == '/')
        len--;
    while (len > 0 && path[len - 1] != '/')
        len--;
    while (len > 1 && path[len - 1] == '/')
        len--;
    return len;
}

/* mkdir() and, when that created it, fsync of the parent. */
static int mkdir_durable(const char *path, mode_t mode)
{
    struct stat st;
    if (mkdir(path, mode) == 0) {
        size_t plen = parent_len(path, strlen(path));
        char *parent = plen ? xstrndup(path, plen) : xstrdup(".");
        int rc = fsync_dir(parent, NULL);
        int saved = errno;
        free(parent);
        errno = saved;
        return rc;
    }
    if (errno == EEXIST) {
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
        errno = EEXIST;
        return -1;
    }
    return -1;
}

int store_mkdirs(const char *path, mode_t mode)
{
    if (mkdir_durable(path, mode) == 0)
        return 0;
    if (errno != ENOENT)
        return -1;
    /* A parent is missing: create it first, then retry. */
    size_t plen = parent_len(path, strlen(path));
    if (plen == 0 || (plen == 1 && path[0] == '/')) {
        errno = ENOENT;
        return -1;
    }
    char *parent = xstrndup(path, plen);
    int rc = store_mkdirs(parent, mode);
    int saved = errno;
    free(parent);
    if (rc < 0) {
        errno = saved;
        return -1;
    }
    return mkdir_durable(path, mode);
}
