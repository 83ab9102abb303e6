/* dict_texthash.c: texthash:FILE, a postmap(1) input file read into
 * memory, no .db needed. Keys are folded like hash:. Reloaded when the
 * file changes (dict.c). A malformed line fails the whole table, naming
 * the file and line, so lookups defer rather than miss. */
#include <stdlib.h>
#include <string.h>

#include "dict_impl.h"
#include "mem.h"
#include "str.h"

static int dict_texthash_load_text(struct dict *d, const char *text,
                                   size_t len, struct buf *err)
{
    struct dict_text_reader reader;
    struct buf line = BUF_INIT;
    struct dict_mem *mem = dict_mem_new();
    int lineno, status;
    dict_text_init(&reader, text, len);
    while ((status = dict_text_next(&reader, &line, &lineno)) > 0) {
        char *key, *value;
        if (dict_text_split(line.data, &key, &value) < 0) {
            buf_appendf(err, "%s, line %d: expected format: key whitespace value",
                        d->name, lineno);
            status = -1;
            break;
        }
        if (!(d->flags & DICT_FLAG_NO_FOLD))
            str_lower(key);
        dict_mem_add(mem, key, value);
    }
    if (status < 0 && err->len == 0)
        buf_appendf(err, "%s, line %d: NUL byte in text", d->name, lineno);
    buf_free(&line);
    if (status < 0) {
        dict_mem_free(mem);
        return -1;
    }
    dict_mem_seal(mem); /* the first of duplicate keys wins, as in postmap */
    d->impl = mem;
    return 0;
}

static int dict_texthash_load(struct dict *d, struct buf *err)
{
    struct buf text = BUF_INIT;
    int status = dict_read_file(d->path, &text, err);
    if (status == 0)
        status = dict_texthash_load_text(d, text.data, text.len, err);
    buf_free(&text);
    return status;
}

static void dict_texthash_release(struct dict *d)
{
    dict_mem_free(d->impl);
    d->impl = NULL;
}

static enum dict_result dict_texthash_lookup(struct dict *d, const char *key,
                                             size_t key_len, struct buf *value)
{
    const char *found = dict_mem_get(d->impl, key);
    if (found == NULL)
        return DICT_NOTFOUND;
    buf_set_str(value, found);
    return DICT_FOUND;
}

static int dict_texthash_iterate(struct dict *d, dict_raw_fn fn, void *ctx,
                                 struct buf *err)
{
    return dict_mem_iterate(d->impl, fn, ctx);
}

const struct dict_type dict_type_texthash = {
    .name = "texthash", .suffix = "", .fold = 1,
    .load = dict_texthash_load, .load_text = dict_texthash_load_text,
    .release = dict_texthash_release, .lookup = dict_texthash_lookup,
    .iterate = dict_texthash_iterate,
};
