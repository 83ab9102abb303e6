/* str.c: small string helpers (see str.h). */
#include "base/str.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

char *str_lower(char *str)
{
    for (char *p = str; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return str;
}

int str_has_prefix(const char *str, const char *prefix)
{
    return strncmp(str, prefix, strlen(prefix)) == 0;
}

int str_has_suffix(const char *str, const char *suffix)
{
    size_t len = strlen(str), suffix_len = strlen(suffix);
    return len >= suffix_len && strcmp(str + len - suffix_len, suffix) == 0;
}

int str_equal_nocase(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

char *str_trim(char *str)
{
    while (*str && isspace((unsigned char)*str))
        str++;
    size_t len = strlen(str);
    while (len > 0 && isspace((unsigned char)str[len - 1]))
        str[--len] = 0;
    return str;
}

void strlist_init(struct strlist *list)
{
    list->items = NULL;
    list->count = list->cap = 0;
}

void strlist_add(struct strlist *list, const char *item)
{
    if (list->count + 1 >= list->cap) {
        list->cap = list->cap ? list->cap * 2 : 8;
        list->items = xreallocarray(list->items, list->cap, sizeof(char *));
    }
    list->items[list->count++] = xstrdup(item);
    list->items[list->count] = NULL;
}

void strlist_free(struct strlist *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    strlist_init(list);
}

void str_split_list(const char *value, struct strlist *out)
{
    const char *p = value;
    while (*p) {
        while (*p && (*p == ',' || isspace((unsigned char)*p)))
            p++;
        if (!*p)
            break;
        const char *start = p;
        int depth = 0;
        while (*p) {
            if (*p == '{')
                depth++;
            else if (*p == '}' && depth > 0)
                depth--;
            else if (depth == 0 && (*p == ',' || isspace((unsigned char)*p)))
                break;
            p++;
        }
        char *item = xstrndup(start, (size_t)(p - start));
        strlist_add(out, item);
        free(item);
    }
}

void str_split_chars(const char *value, const char *separators,
                     struct strlist *out)
{
    const char *p = value;
    while (*p) {
        p += strspn(p, separators);
        if (!*p)
            break;
        size_t len = strcspn(p, separators);
        char *item = xstrndup(p, len);
        strlist_add(out, item);
        free(item);
        p += len;
    }
}

int str_to_long(const char *str, long *out)
{
    char *end;
    if (str == NULL || *str == 0 || isspace((unsigned char)*str))
        return -1;
    errno = 0;
    long value = strtol(str, &end, 10);
    if (errno != 0 || *end != 0)
        return -1;
    *out = value;
    return 0;
}

size_t str_copy(char *dst, const char *src, size_t dst_size)
{
    size_t len = strlen(src);
    if (dst_size > 0) {
        size_t copy = len < dst_size - 1 ? len : dst_size - 1;
        memcpy(dst, src, copy);
        dst[copy] = 0;
    }
    return len;
}
