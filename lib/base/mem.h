/* mem.h: allocation helpers that never return NULL.
 *
 * On exhaustion they log a fatal error and exit: a mail daemon that cannot
 * allocate a few bytes cannot do its job, and master restarts it. */
#ifndef POSTERN_MEM_H
#define POSTERN_MEM_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grows an array: returns ptr resized to count*size, checking overflow. */
void *xreallocarray(void *ptr, size_t count, size_t size);
char *xstrdup(const char *str);
char *xstrndup(const char *str, size_t len);
/* Copies len bytes and adds a NUL. */
void *xmemdup(const void *data, size_t len);
/* Formats into a fresh heap string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
