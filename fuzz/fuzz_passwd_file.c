/* fuzz_passwd_file.c: fuzzes the Dovecot passwd-file reader
 * (lib/auth/passwd_file.h) from memory: whatever the bytes, every entry
 * kept has a user name, the table is sorted without duplicates, each
 * entry is found by its own name, and every skipped line says why. The
 * scheme of each stored password is looked up too (password_verify is
 * not called: a stored argon2 cost is allowed to be slow). */
#include <stdint.h>
#include <string.h>

#include "auth/passwd_file.h"
#include "auth/password.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct passwd_file *file =
        passwd_file_parse("fuzz", (const char *)data, size);
    for (size_t i = 0; i < file->count; i++) {
        const struct passwd_entry *entry = &file->entries[i];
        if (entry->user == NULL || *entry->user == 0 || entry->password == NULL)
            __builtin_trap();
        if (i > 0 && strcmp(file->entries[i - 1].user, entry->user) >= 0)
            __builtin_trap();
        if (passwd_file_lookup(file, entry->user) != entry)
            __builtin_trap();
        if (entry->has_uid && entry->uid == 0)
            __builtin_trap();
        if (entry->has_gid && entry->gid == 0)
            __builtin_trap();
        for (size_t f = 0; f < entry->field_count; f++)
            if (*entry->fields[f].key == 0 ||
                passwd_entry_field(entry, entry->fields[f].key) == NULL)
                __builtin_trap();
        (void)passwd_entry_is_virtual(entry);
        if (entry->password[0] == '{') {
            const char *brace_end = strchr(entry->password, '}');
            if (brace_end != NULL && brace_end - entry->password < 40) {
                char name[40];
                memcpy(name, entry->password + 1,
                       (size_t)(brace_end - entry->password - 1));
                name[brace_end - entry->password - 1] = 0;
                (void)password_scheme_known(name);
            }
        }
    }
    for (size_t i = 0; i < file->problems.count; i++)
        if (strncmp(file->problems.items[i], "fuzz:", 5) != 0)
            __builtin_trap();
    passwd_file_free(file);
    return 0;
}
