/* fuzz_maildir_flags.c: fuzz target for reading flags and keyword
 * letters from Maildir file names and writing them back
 * (lib/storage/maildir_flags.c). File names are chosen by whoever can
 * write into the Maildir (the user, other mail programs), so whatever
 * the name, the parser stays in bounds and the name it builds keeps
 * every flag it read, adds no '/' and reads back the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/maildir_flags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1024)
        return 0;
    char *name = malloc(size + 1);
    memcpy(name, data, size);
    name[size] = 0; /* a directory entry is a C string */
    unsigned flags, flags_again;
    uint32_t keywords, keywords_again;
    maildir_flags_parse(name, &flags, &keywords);
    if (flags & ~(unsigned)MAILDIR_FLAGS_STORED || keywords >> 26)
        __builtin_trap();
    size_t base = maildir_base_len(name);
    if (base > strlen(name))
        __builtin_trap();
    /* change the flags with the first bytes of the input as the wish */
    unsigned want = (unsigned)data[0] & MAILDIR_FLAGS_STORED;
    uint32_t want_kw = size > 1 ? ((uint32_t)data[1] * 2654435761u) >> 6 : 0;
    struct buf info = BUF_INIT;
    maildir_flags_info(name + base, want, want_kw, &info);
    if (strncmp(info.data, ":2,", 3) != 0 ||
        (strchr(info.data, '/') && !strchr(name + base, '/')))
        __builtin_trap();
    maildir_flags_parse(info.data, &flags_again, &keywords_again);
    if (flags_again != want || keywords_again != want_kw)
        __builtin_trap();
    buf_free(&info);
    free(name);
    return 0;
}
