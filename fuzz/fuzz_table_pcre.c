/* fuzz_table_pcre.c: fuzzes the pcre: table parser and matcher from memory
 * (dict_open_text), then looks up a few keys, the first line of the
 * input among them, to exercise matching and $N substitution. */
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "tables/dict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Table files are written by the administrator; keep inputs small so
     * pathological patterns cannot stall the run. */
    if (size > 4096)
        return 0;
    struct buf err = BUF_INIT, value = BUF_INIT, key = BUF_INIT;
    struct dict *d = dict_open_text("pcre", "fuzz", (const char *)data, size,
                                    0, &err);
    if (d != NULL) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t first = nl ? (size_t)(nl - data) : size;
        if (first > 64)
            first = 64;
        buf_set(&key, data, first);
        key.len = strlen(key.data); /* stop at a NUL */
        const char *keys[] = {key.data, "user@example.com", "", "AbC-123"};
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            dict_lookup(d, keys[i], &value);
        dict_close(d);
    }
    buf_free(&err);
    buf_free(&value);
    buf_free(&key);
    return 0;
}
