/* buf.c: growable, always NUL-terminated byte buffer (see buf.h). */
#include "base/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"

void buf_init(struct buf *b)
{
    b->cap = 64;
    b->data = xmalloc(b->cap);
    b->len = 0;
    b->data[0] = 0;
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
    if (b->data == NULL)
        buf_init(b);
    b->len = 0;
    b->data[0] = 0;
}

void buf_reserve(struct buf *b, size_t extra)
{
    if (b->data == NULL)
        buf_init(b);
    if (extra > SIZE_MAX / 2 - b->len)
        log_fatal("buffer too large: %zu + %zu bytes", b->len, extra);
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_append(struct buf *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
}

void buf_append_str(struct buf *b, const char *str)
{
    buf_append(b, str, strlen(str));
}

void buf_append_char(struct buf *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = 0;
}

void buf_vappendf(struct buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    buf_reserve(b, 0);
    size_t room = b->cap - b->len;
    int needed = vsnprintf(b->data + b->len, room, fmt, copy);
    va_end(copy);
    if (needed < 0)
        log_fatal("buf_vappendf: bad format \"%s\"", fmt);
    if ((size_t)needed >= room) {
        buf_reserve(b, (size_t)needed);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    }
    b->len += (size_t)needed;
}

void buf_appendf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(b, fmt, ap);
    va_end(ap);
}

void buf_set(struct buf *b, const void *data, size_t len)
{
    buf_reset(b);
    buf_append(b, data, len);
}

void buf_set_str(struct buf *b, const char *str)
{
    buf_set(b, str, strlen(str));
}

void buf_truncate(struct buf *b, size_t len)
{
    if (b->data && len < b->len) {
        b->len = len;
        b->data[len] = 0;
    }
}

void buf_consume(struct buf *b, size_t len)
{
    if (b->data == NULL)
        return;
    if (len >= b->len) {
        buf_reset(b);
        return;
    }
    memmove(b->data, b->data + len, b->len - len);
    b->len -= len;
    b->data[b->len] = 0;
}

const char *buf_cstr(const struct buf *b)
{
    return b->data ? b->data : "";
}

char *buf_detach(struct buf *b)
{
    if (b->data == NULL)
        buf_init(b);
    char *data = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return data;
}
