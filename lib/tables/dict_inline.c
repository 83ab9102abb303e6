/* dict_inline.c: inline:{ key=value, { key = value with spaces } }, a
 * small table written in main.cf itself. Keys are folded like hash:. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tables/dict_impl.h"
#include "base/mem.h"
#include "base/str.h"

static int dict_inline_load(struct dict *d, struct buf *err)
{
    size_t len = strlen(d->name);
    if (len < 2 || d->name[0] != '{' || d->name[len - 1] != '}') {
        buf_appendf(err, "%s: expected inline:{key=value, ...}", d->spec);
        return -1;
    }
    char *inner = xstrndup(d->name + 1, len - 2);
    struct strlist items;
    strlist_init(&items);
    str_split_list(inner, &items);
    free(inner);
    struct dict_mem *mem = dict_mem_new();
    int status = 0;
    for (size_t i = 0; i < items.count && status == 0; i++) {
        char *item = items.items[i];
        size_t item_len = strlen(item);
        if (item[0] == '{') {
            if (item[item_len - 1] != '}') {
                buf_appendf(err, "%s: missing '}' in \"%s\"", d->spec, item);
                status = -1;
                break;
            }
            item[item_len - 1] = 0;
            item++;
        }
        char *eq = strchr(item, '=');
        if (eq == NULL) {
            buf_appendf(err, "%s: missing '=' in \"%s\"", d->spec, item);
            status = -1;
            break;
        }
        *eq = 0;
        char *key = str_trim(item), *value = str_trim(eq + 1);
        if (*key == 0) {
            buf_appendf(err, "%s: empty key in \"%s=%s\"", d->spec, key, value);
            status = -1;
            break;
        }
        if (!(d->flags & DICT_FLAG_NO_FOLD))
            str_lower(key);
        dict_mem_add(mem, key, value);
    }
    strlist_free(&items);
    if (status < 0) {
        dict_mem_free(mem);
        return -1;
    }
    dict_mem_seal(mem);
    d->impl = mem;
    return 0;
}

const struct dict_type dict_type_inline = {
    .name = "inline", .suffix = NULL, .fold = 1,
    .load = dict_inline_load, .release = dict_mem_type_release,
    .lookup = dict_mem_type_lookup, .iterate = dict_mem_type_iterate,
};
