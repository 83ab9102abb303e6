/* session_io.c: the byte layer under a worker session's stream
 * (base/stream.h's struct stream_io) on the client descriptor (the TCP
 * socket, or imap-login's socketpair with TLS):
 *   - the bytes the client pipelined behind its login command, which
 *     imap-login had already read, come first;
 *   - the bytes on the descriptor are counted for the Disconnected
 *     line's in= and out=;
 *   - after COMPRESS DEFLATE (RFC 4978) both directions go through zlib
 *     (raw deflate, a sync flush after each write so every response
 *     reaches the client at once).
 * The compressor uses a 4 KiB window and memLevel 5 (about 34 KiB of
 * state instead of zlib's default 268 KiB) to keep idle sessions small;
 * the decompressor must take the client's 32 KiB window. */
#include "worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/mem.h"

#define ZCHUNK 16384

struct session_io {
    int fd;
    unsigned long long in, out;
    struct buf preload; /* plain bytes to return first */
    size_t preload_pos;
    z_stream *inflater, *deflater;
    struct buf zin; /* compressed input not yet inflated */
    size_t zin_pos;
    struct buf zout; /* compressed output not yet written */
    size_t zout_pos;
    int inflate_full; /* the last inflate filled its output: more may come */
};

static ssize_t fd_read(struct session_io *io, void *data, size_t len)
{
    ssize_t n = read(io->fd, data, len);
    if (n > 0)
        io->in += (unsigned long long)n;
    return n;
}

static ssize_t fd_write(struct session_io *io, const void *data, size_t len)
{
    ssize_t n = write(io->fd, data, len);
    if (n > 0)
        io->out += (unsigned long long)n;
    return n;
}

static ssize_t inflate_read(struct session_io *io, void *data, size_t len)
{
    for (;;) {
        if (io->zin_pos >= io->zin.len && !io->inflate_full) {
            buf_reset(&io->zin);
            io->zin_pos = 0;
            buf_reserve(&io->zin, ZCHUNK);
            ssize_t n = fd_read(io, io->zin.data, ZCHUNK);
            if (n <= 0)
                return n;
            io->zin.len = (size_t)n;
        }
        z_stream *z = io->inflater;
        z->next_in = (Bytef *)io->zin.data + io->zin_pos;
        z->avail_in = (uInt)(io->zin.len - io->zin_pos);
        z->next_out = data;
        z->avail_out = (uInt)(len > ZCHUNK ? ZCHUNK : len);
        uInt want = z->avail_out;
        int rc = inflate(z, Z_SYNC_FLUSH);
        io->zin_pos = io->zin.len - z->avail_in;
        size_t produced = want - z->avail_out;
        io->inflate_full = z->avail_out == 0;
        if (rc == Z_STREAM_END || (rc != Z_OK && rc != Z_BUF_ERROR)) {
            errno = EPROTO;
            return -1;
        }
        if (produced > 0)
            return (ssize_t)produced;
        io->inflate_full = 0;
    }
}

static ssize_t io_read(void *ctx, void *data, size_t len)
{
    struct session_io *io = ctx;
    if (io->preload_pos < io->preload.len) {
        size_t take = io->preload.len - io->preload_pos;
        if (take > len)
            take = len;
        memcpy(data, io->preload.data + io->preload_pos, take);
        io->preload_pos += take;
        if (io->preload_pos >= io->preload.len) {
            buf_free(&io->preload);
            io->preload_pos = 0;
        }
        return (ssize_t)take;
    }
    if (io->inflater)
        return inflate_read(io, data, len);
    return fd_read(io, data, len);
}

/* Writes out compressed bytes held back: 0 all out, -1 with errno. */
static int zout_flush(struct session_io *io)
{
    while (io->zout_pos < io->zout.len) {
        ssize_t n = fd_write(io, io->zout.data + io->zout_pos,
                             io->zout.len - io->zout_pos);
        if (n < 0)
            return -1;
        io->zout_pos += (size_t)n;
    }
    buf_free(&io->zout);
    io->zout_pos = 0;
    return 0;
}

static ssize_t io_write(void *ctx, const void *data, size_t len)
{
    struct session_io *io = ctx;
    if (!io->deflater)
        return fd_write(io, data, len);
    if (zout_flush(io) < 0)
        return -1;
    z_stream *z = io->deflater;
    z->next_in = (Bytef *)data;
    z->avail_in = (uInt)len;
    do {
        buf_reserve(&io->zout, ZCHUNK);
        z->next_out = (Bytef *)io->zout.data + io->zout.len;
        z->avail_out = ZCHUNK;
        if (deflate(z, Z_SYNC_FLUSH) == Z_STREAM_ERROR) {
            errno = EPROTO;
            return -1;
        }
        io->zout.len += ZCHUNK - z->avail_out;
    } while (z->avail_out == 0);
    /* All of it is taken; what the socket refuses now goes out with
     * the next write or flush (worker.c asks session_io_pending). */
    if (zout_flush(io) < 0 && errno != EAGAIN && errno != EINTR)
        return -1;
    return (ssize_t)len;
}

static size_t io_pending(void *ctx)
{
    struct session_io *io = ctx;
    size_t n = io->preload.len - io->preload_pos;
    if (io->inflater)
        n += io->zin.len - io->zin_pos + (io->inflate_full ? 1 : 0);
    return n;
}

static const struct stream_io session_io_ops = {
    .read = io_read,
    .write = io_write,
    .wants = NULL,
    .pending = io_pending,
};

struct session_io *session_io_new(int fd, const char *preload, size_t len)
{
    struct session_io *io = xcalloc(1, sizeof(*io));
    io->fd = fd;
    if (len)
        buf_append(&io->preload, preload, len);
    return io;
}

void session_io_attach(struct session_io *io, struct stream *stream)
{
    stream_set_io(stream, &session_io_ops, io);
}

void session_io_free(struct session_io *io)
{
    if (io == NULL)
        return;
    if (io->inflater) {
        inflateEnd(io->inflater);
        free(io->inflater);
    }
    if (io->deflater) {
        deflateEnd(io->deflater);
        free(io->deflater);
    }
    buf_free(&io->preload);
    buf_free(&io->zin);
    buf_free(&io->zout);
    free(io);
}

unsigned long long session_io_in(const struct session_io *io)
{
    return io->in;
}

unsigned long long session_io_out(const struct session_io *io)
{
    return io->out;
}

int session_io_pending(struct session_io *io)
{
    if (io->zout_pos >= io->zout.len)
        return 0;
    if (zout_flush(io) == 0)
        return 0;
    return errno == EAGAIN || errno == EINTR ? 1 : -1;
}

int session_io_compress(struct session_io *io, const char *unread, size_t len)
{
    io->inflater = xcalloc(1, sizeof(*io->inflater));
    io->deflater = xcalloc(1, sizeof(*io->deflater));
    if (inflateInit2(io->inflater, -15) != Z_OK ||
        deflateInit2(io->deflater, 6, Z_DEFLATED, -12, 5, Z_DEFAULT_STRATEGY) !=
            Z_OK)
        return -1;
    /* Whatever the stream had read past COMPRESS is compressed already
     * (a client may pipeline); so is the rest of the preload. */
    struct buf rest = BUF_INIT;
    if (io->preload_pos < io->preload.len)
        buf_append(&rest, io->preload.data + io->preload_pos,
                   io->preload.len - io->preload_pos);
    buf_free(&io->preload);
    io->preload_pos = 0;
    buf_append(&io->zin, unread, len);
    buf_append(&io->zin, rest.data ? rest.data : "", rest.len);
    buf_free(&rest);
    return 0;
}

void session_io_trim(struct session_io *io)
{
    if (io->zin_pos >= io->zin.len && !io->inflate_full) {
        buf_free(&io->zin);
        io->zin_pos = 0;
    }
    if (io->zout_pos >= io->zout.len) {
        buf_free(&io->zout);
        io->zout_pos = 0;
    }
}
