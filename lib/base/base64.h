/* base64.h: RFC 4648 base64 (the standard alphabet, with padding), for
 * postmap -F tables and, later, SMTP AUTH.
 *
 * The decoder is strict: only the alphabet, padding only at the end and
 * only as much as the length needs, the length a multiple of four; any
 * other byte (whitespace included) makes it fail. */
#ifndef POSTERN_BASE64_H
#define POSTERN_BASE64_H

#include <stddef.h>

#include "base/buf.h"

/* Appends the encoding of data[0..len) to out. */
void base64_encode(const void *data, size_t len, struct buf *out);

/* Appends the decoding of text[0..len) to out (which may hold binary
 * data; buf_cstr still ends it with NUL). Returns 0, or -1 when the
 * text is not valid base64 (out then holds a partial result). */
int base64_decode(const char *text, size_t len, struct buf *out);

#endif
