/* fuzz_mime_scan.c: fuzz target for lib/message/mime_scan, the header/body split
 * behind postmap -h/-b. Feeds the input line by line with and without
 * MIME processing: nothing may crash, leak or grow past the header
 * limit. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "message/mime_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_header(void *ctx, enum mime_header_class cls, const char *text,
                      size_t len)
{
    (void)ctx;
    if (len > MIME_SCAN_HEADER_LIMIT || (int)cls < 0 ||
        cls > MIME_HEADER_NESTED || (len > 0 && text == NULL))
        abort();
}

static void on_body(void *ctx, const char *line, size_t len)
{
    size_t *total = ctx;
    *total += len;
    if (len > 0 && line == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int mime = 0; mime <= 1; mime++) {
        size_t total = 0;
        struct mime_scan *ms = mime_scan_new(mime, on_header, on_body, &total);
        const char *p = (const char *)data, *end = p + size;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
            mime_scan_line(ms, p, len);
            p += len + (nl ? 1 : 0);
        }
        mime_scan_end(ms);
        mime_scan_free(ms);
        if (total > size)
            abort(); /* body lines are pieces of the input */
    }
    return 0;
}
