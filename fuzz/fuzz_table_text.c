/* fuzz_table_text.c: fuzzes the postmap(1) input reader (the format of
 * postmap sources and texthash: tables) from memory, both through
 * dict_text_parse and as a texthash: table with lookups and a listing. */
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "tables/dict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_entry(void *ctx, const char *key, const char *value,
                       int line, struct buf *err)
{
    /* Every entry has a non-empty key and value without NUL bytes. */
    if (*key == 0 || *value == 0 || line <= 0)
        __builtin_trap();
    ++*(size_t *)ctx;
    return 0;
}

static int check_listed(void *ctx, const char *key, const char *value)
{
    struct dict *d = ctx;
    struct buf found = BUF_INIT;
    /* What the listing shows, a lookup finds (keys are folded). */
    if (dict_lookup(d, key, &found) != DICT_FOUND)
        __builtin_trap();
    buf_free(&found);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf err = BUF_INIT;
    size_t entries = 0;
    dict_text_parse("fuzz", (const char *)data, size, count_entry, &entries,
                    &err);
    buf_reset(&err);
    struct dict *d = dict_open_text("texthash", "fuzz", (const char *)data,
                                    size, 0, &err);
    if (d != NULL) {
        dict_iterate(d, check_listed, d, &err);
        dict_close(d);
    }
    buf_free(&err);
    return 0;
}
