/* fuzz_maildirsize.c: fuzz target for the Maildir++ `maildirsize` reader
 * (lib/storage/maildir_quota.c). The file is written by other programs and by
 * users with shell access, so the reader must never read out of bounds
 * or overflow, whatever the bytes. */
#include <stddef.h>
#include <stdint.h>

#include "storage/maildir_quota.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct maildir_quota_usage usage;
    const char *text = (const char *)data;
    int trusted = maildir_quota_parse(text, size, &usage);
    if (trusted && (usage.bytes < 0 || usage.count < 0))
        __builtin_trap(); /* a trusted usage is never negative */
    /* The header on its own, up to the first newline or the end. */
    size_t header = 0;
    while (header < size && text[header] != '\n')
        header++;
    long long bytes, count;
    (void)maildir_quota_parse_limits(text, header, &bytes, &count);
    (void)maildir_quota_fits(&usage, (long long)size);
    return 0;
}
