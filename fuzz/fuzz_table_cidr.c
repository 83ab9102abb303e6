/* fuzz_table_cidr.c: fuzzes the cidr: table parser from memory
 * (dict_open_text) and looks up a few IPv4/IPv6 keys, plus the first
 * word of the input. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "tables/dict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf err = BUF_INIT, value = BUF_INIT, key = BUF_INIT;
    struct dict *d = dict_open_text("cidr", "fuzz", (const char *)data, size,
                                    0, &err);
    if (d != NULL) {
        size_t first = 0;
        while (first < size && first < 64 && !isspace(data[first]) && data[first])
            first++;
        buf_set(&key, data, first);
        const char *keys[] = {key.data, "192.0.2.1", "10.1.2.3", "::1",
                              "2001:db8::1", "[::ffff:1.2.3.4]", "junk"};
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            dict_lookup(d, keys[i], &value);
        dict_close(d);
    }
    buf_free(&err);
    buf_free(&value);
    buf_free(&key);
    return 0;
}
