/* buf.h: the one growable byte buffer used everywhere.
 *
 * A buf holds arbitrary bytes with an explicit length and is always
 * NUL-terminated after its last byte, so text can be passed to C string
 * functions while binary data stays intact. Bytes from the network or a
 * file live here, never in a fixed char[]. */
#ifndef POSTERN_BUF_H
#define POSTERN_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data;  /* always NUL-terminated; never NULL after buf_init */
    size_t len;  /* bytes in use, not counting the NUL */
    size_t cap;  /* bytes allocated, including room for the NUL */
};

#define BUF_INIT {NULL, 0, 0}

void buf_init(struct buf *b);
/* Releases the storage; the buf may be reused after buf_init. */
void buf_free(struct buf *b);
/* Empties the buffer, keeping its storage. */
void buf_reset(struct buf *b);
/* Ensures room for `extra` more bytes plus the NUL. */
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_append_str(struct buf *b, const char *str);
void buf_append_char(struct buf *b, char c);
void buf_appendf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vappendf(struct buf *b, const char *fmt, va_list ap);
/* Replaces the contents. */
void buf_set(struct buf *b, const void *data, size_t len);
void buf_set_str(struct buf *b, const char *str);
/* Shortens to len bytes (no-op when already shorter). */
void buf_truncate(struct buf *b, size_t len);
/* Removes the first len bytes. */
void buf_consume(struct buf *b, size_t len);
/* The contents as a C string (valid until the next change). */
const char *buf_cstr(const struct buf *b);
/* Hands the storage to the caller as a malloc'ed string; b is reset. */
char *buf_detach(struct buf *b);

#endif
