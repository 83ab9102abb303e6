/* mem.c: allocation helpers that never return NULL (see mem.h). */
#include "base/mem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

static void out_of_memory(size_t size)
{
    log_fatal("out of memory allocating %zu bytes", size);
}

void *xmalloc(size_t size)
{
    void *ptr = malloc(size ? size : 1);
    if (ptr == NULL)
        out_of_memory(size);
    return ptr;
}

void *xcalloc(size_t count, size_t size)
{
    void *ptr = calloc(count ? count : 1, size ? size : 1);
    if (ptr == NULL)
        out_of_memory(count * size);
    return ptr;
}

void *xrealloc(void *ptr, size_t size)
{
    void *grown = realloc(ptr, size ? size : 1);
    if (grown == NULL)
        out_of_memory(size);
    return grown;
}

void *xreallocarray(void *ptr, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        log_fatal("allocation overflow: %zu elements of %zu bytes", count,
                  size);
    return xrealloc(ptr, count * size);
}

char *xstrdup(const char *str)
{
    return xmemdup(str, strlen(str));
}

char *xstrndup(const char *str, size_t len)
{
    return xmemdup(str, strnlen(str, len));
}

void *xmemdup(const void *data, size_t len)
{
    if (len == SIZE_MAX)
        out_of_memory(len);
    char *copy = xmalloc(len + 1);
    memcpy(copy, data, len);
    copy[len] = 0;
    return copy;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *result;
    va_start(ap, fmt);
    if (vasprintf(&result, fmt, ap) < 0)
        out_of_memory(strlen(fmt));
    va_end(ap);
    return result;
}
