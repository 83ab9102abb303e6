/* fuzz_subscriptions.c: fuzz target for the reader of Dovecot's
 * `subscriptions` file (lib/storage/subscriptions.c). The file sits in
 * the user's Maildir, where the user (or any program of theirs) may
 * write anything, so the parser must stay in bounds whatever the bytes,
 * and every entry it returns must be a storage name that is safe to
 * map to a folder. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/str.h"
#include "storage/subscriptions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct strlist names;
    strlist_init(&names);
    int version = subscriptions_parse((const char *)data, size, &names);
    if (version != 0 && version != 2)
        __builtin_trap();
    for (size_t i = 0; i < names.count; i++) {
        const char *name = names.items[i];
        size_t len = strlen(name);
        /* Never empty, never a path, never an empty level. */
        if (len == 0 || len > SUBSCRIPTIONS_NAME_MAX || strchr(name, '/') ||
            strstr(name, "..") || name[0] == '.' || name[len - 1] == '.')
            __builtin_trap();
        for (size_t j = 0; j < len; j++)
            if ((unsigned char)name[j] < 0x20)
                __builtin_trap();
        for (size_t j = 0; j < i; j++)
            if (strcmp(names.items[j], name) == 0)
                __builtin_trap(); /* duplicates are read once */
    }
    strlist_free(&names);
    return 0;
}
