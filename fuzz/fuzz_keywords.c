/* fuzz_keywords.c: fuzz target for the dovecot-keywords reader
 * (lib/storage/keywords.c). The file is in the user's Maildir; whatever
 * it holds, every name kept must be a valid IMAP atom (names go into
 * FLAGS responses), names must be unique without regard to case, and
 * what we write must read back the same. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "storage/keywords.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keywords kw, again;
    keywords_init(&kw);
    keywords_init(&again);
    unsigned skipped = 0;
    keywords_parse(&kw, (const char *)data, size, &skipped);
    for (int i = 0; i < KEYWORDS_MAX; i++) {
        const char *name = keywords_name(&kw, i);
        if (name == NULL)
            continue;
        if (!keywords_name_valid(name, strlen(name)) ||
            keywords_lookup(&kw, name, strlen(name)) != i)
            __builtin_trap();
    }
    struct buf out = BUF_INIT;
    keywords_format(&kw, &out);
    keywords_parse(&again, out.data, out.len, &skipped);
    if (skipped != 0)
        __builtin_trap();
    for (int i = 0; i < KEYWORDS_MAX; i++) {
        const char *a = keywords_name(&kw, i), *b = keywords_name(&again, i);
        if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
            __builtin_trap();
    }
    /* adding never exceeds 26 letters and never takes an invalid name */
    if (size <= KEYWORDS_MAX_NAME) {
        int index = keywords_lookup_or_add(&kw, (const char *)data, size);
        if (index >= KEYWORDS_MAX ||
            (index >= 0 && !keywords_name_valid((const char *)data, size)))
            __builtin_trap();
    }
    buf_free(&out);
    keywords_free(&kw);
    keywords_free(&again);
    return 0;
}
