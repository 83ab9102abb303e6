/* fuzz_aliases.c: fuzzes the aliases(5) reader (lib/tables/alias_file.h): the
 * file parser newaliases/postalias use, the value splitter local
 * delivery applies to every alias and .forward entry, and the :include:
 * file splitter. */
#include <stdint.h>
#include <string.h>

#include "tables/alias_file.h"
#include "base/buf.h"
#include "base/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_entry(void *ctx, const char *name, const char *value, int line,
                       struct buf *err)
{
    (void)err;
    /* Every entry has a non-empty lower-case name and a value. */
    if (*name == 0 || *value == 0 || line <= 0 || strlen(name) > ALIAS_NAME_MAX)
        __builtin_trap();
    for (const char *p = name; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            __builtin_trap();
    struct strlist items;
    strlist_init(&items);
    alias_value_split(value, &items);
    for (size_t i = 0; i < items.count; i++)
        if (strlen(items.items[i]) > strlen(value))
            __builtin_trap();
    strlist_free(&items);
    ++*(size_t *)ctx;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf err = BUF_INIT;
    size_t entries = 0;
    alias_file_parse("fuzz", (const char *)data, size, check_entry, &entries,
                     &err);
    buf_free(&err);
    struct strlist items;
    strlist_init(&items);
    alias_include_split((const char *)data, size, &items);
    strlist_free(&items);
    return 0;
}
