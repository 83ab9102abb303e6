/* fuzz_stream_line.c: fuzz target for the bounded line reader (lib/base/stream).
 *
 * The input is delivered through a struct stream_io layer in chunks of
 * varying size (so lines straddle reads), in blocking mode or in
 * non-blocking mode with spurious "would block" results, and read back with
 * stream_read_line. The first byte picks the line limit. Checks: no
 * line exceeds the limit or holds an LF; an overlong line comes back as
 * exactly `max` bytes; and when no line was too long, the lines with
 * the endings stream_line_flags() reports rebuild the input exactly. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/stream.h"

struct memory_io {
    const uint8_t *data;
    size_t len, pos;
    uint32_t rng;
    int flaky; /* non-blocking mode: sometimes "would block" */
};

static ssize_t memory_read(void *ctx, void *out, size_t len)
{
    struct memory_io *m = ctx;
    if (m->pos == m->len)
        return 0;
    m->rng = m->rng * 1103515245u + 12345u;
    if (m->flaky && (m->rng >> 28) % 4 == 0) {
        errno = EAGAIN;
        return -1;
    }
    size_t chunk = 1 + (m->rng >> 16) % 37;
    if (chunk > len)
        chunk = len;
    if (chunk > m->len - m->pos)
        chunk = m->len - m->pos;
    memcpy(out, m->data + m->pos, chunk);
    m->pos += chunk;
    return (ssize_t)chunk;
}

static ssize_t memory_write(void *ctx, const void *data, size_t len)
{
    return (ssize_t)len;
}

static const struct stream_io memory_ops = {memory_read, memory_write, NULL,
                                            NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max = data[0] % 64;
    struct memory_io m = {data + 1, size - 1, 0, (uint32_t)size,
                          (data[0] & 0x40) != 0};
    /* Any fd poll() calls ready; the bytes come from the io layer. */
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0)
        return 0;
    struct stream *s = stream_open(fd);
    stream_set_io(s, &memory_ops, &m);
    if (m.flaky)
        stream_set_nonblocking(s, 1);
    struct buf line = BUF_INIT, rebuilt = BUF_INIT;
    int overlong = 0;
    enum stream_status st;
    for (;;) {
        st = stream_read_line(s, &line, max);
        if (st == STREAM_AGAIN) {
            if (!m.flaky || stream_wants(s) != STREAM_WANT_READ)
                abort();
            continue; /* the "fd" is ready again at once */
        }
        if (st != STREAM_OK && st != STREAM_TOO_LONG)
            break;
        if (line.len > max || memchr(line.data, '\n', line.len))
            abort();
        if (st == STREAM_TOO_LONG) {
            if (line.len != max)
                abort();
            overlong = 1;
            continue;
        }
        unsigned flags = stream_line_flags(s);
        int has_cr = memchr(line.data, '\r', line.len) != NULL;
        if (has_cr != ((flags & STREAM_LINE_BARE_CR) != 0))
            abort();
        buf_append(&rebuilt, line.data, line.len);
        if (flags & STREAM_LINE_CRLF)
            buf_append_str(&rebuilt, "\r\n");
        else if (flags & STREAM_LINE_LF)
            buf_append_str(&rebuilt, "\n");
        else if (!(flags & STREAM_LINE_NO_EOL))
            abort();
    }
    if (st != STREAM_EOF)
        abort();
    if (!overlong && (rebuilt.len != size - 1 ||
                      memcmp(buf_cstr(&rebuilt), data + 1, size - 1) != 0))
        abort();
    buf_free(&line);
    buf_free(&rebuilt);
    stream_close(s);
    return 0;
}
