/* dict_texthash.c: texthash:FILE, a postmap(1) input file read into
 * memory, no .db needed. Keys are folded like hash:. Reloaded when the
 * file changes (dict.c). A malformed line fails the whole table, naming
 * the file and line, so lookups defer rather than miss. */
#include <stdlib.h>
#include <string.h>

#include "tables/dict_impl.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/file_read.h"

static int dict_texthash_add(void *ctx, const char *key, const char *value,
                             int line, struct buf *err)
{
    struct dict *d = ctx;
    char *folded = xstrdup(key);
    if (!(d->flags & DICT_FLAG_NO_FOLD))
        str_lower(folded);
    dict_mem_add(d->impl, folded, value);
    free(folded);
    return 0;
}

static int dict_texthash_load_text(struct dict *d, const char *text,
                                   size_t len, struct buf *err)
{
    d->impl = dict_mem_new();
    if (dict_text_parse(d->name, text, len, dict_texthash_add, d, err) < 0) {
        dict_mem_free(d->impl);
        d->impl = NULL;
        return -1;
    }
    dict_mem_seal(d->impl); /* the first of duplicate keys wins, as in postmap */
    return 0;
}

static int dict_texthash_load(struct dict *d, struct buf *err)
{
    struct buf text = BUF_INIT;
    int status = file_read(d->path, DICT_SOURCE_MAX_SIZE, &text, err);
    if (status == 0)
        status = dict_texthash_load_text(d, text.data, text.len, err);
    buf_free(&text);
    return status;
}

const struct dict_type dict_type_texthash = {
    .name = "texthash", .suffix = "", .fold = 1,
    .load = dict_texthash_load, .load_text = dict_texthash_load_text,
    .release = dict_mem_type_release, .lookup = dict_mem_type_lookup,
    .iterate = dict_mem_type_iterate,
};
