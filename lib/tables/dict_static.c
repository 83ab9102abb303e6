/* dict_static.c: static:value, a table that answers every lookup with
 * the same value (static:{ value with spaces } keeps the spaces). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tables/dict_impl.h"
#include "base/mem.h"

/* Strips { } around a value and the whitespace inside them; shared with
 * inline: through the same rule. */
static char *dict_static_unbrace(const char *name, struct buf *err)
{
    size_t len = strlen(name);
    if (len == 0 || name[0] != '{')
        return xstrdup(name);
    if (name[len - 1] != '}') {
        buf_appendf(err, "static:%s: missing '}'", name);
        return NULL;
    }
    char *inner = xstrndup(name + 1, len - 2);
    char *start = inner;
    while (*start && isspace((unsigned char)*start))
        start++;
    size_t inner_len = strlen(start);
    while (inner_len > 0 && isspace((unsigned char)start[inner_len - 1]))
        inner_len--;
    char *value = xstrndup(start, inner_len);
    free(inner);
    return value;
}

static int dict_static_load(struct dict *d, struct buf *err)
{
    char *value = dict_static_unbrace(d->name, err);
    if (value == NULL)
        return -1;
    d->impl = value;
    return 0;
}

static void dict_static_release(struct dict *d)
{
    free(d->impl);
    d->impl = NULL;
}

static enum dict_result dict_static_lookup(struct dict *d, const char *key,
                                           size_t key_len, struct buf *value)
{
    buf_set_str(value, d->impl);
    return DICT_FOUND;
}

const struct dict_type dict_type_static = {
    .name = "static", .suffix = NULL,
    .load = dict_static_load, .release = dict_static_release,
    .lookup = dict_static_lookup,
};
