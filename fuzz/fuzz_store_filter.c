/* fuzz_store_filter.c: fuzz target for the mailbox content filter
 * (lib/storage/store: CRLF to LF, ">From " quoting, the size counters), which
 * every delivery runs over message content. The first byte picks the
 * flags and the chunk size; the rest is fed in chunks and must come out
 * exactly as a plain reference implementation says. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "storage/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The specification, written plainly: CR LF becomes LF, then a line that
 * starts with "From " gets a '>' in front. */
static void reference(int flags, const char *in, size_t len, struct buf *out,
                      long long *bare_lf)
{
    struct buf mid = BUF_INIT;
    for (size_t i = 0; i < len; i++) {
        if ((flags & STORE_FILTER_CRLF) && in[i] == '\r' && i + 1 < len &&
            in[i + 1] == '\n')
            continue; /* the LF follows */
        buf_append(&mid, in + i, 1);
    }
    int line_start = 1;
    for (size_t i = 0; i < mid.len; i++) {
        if ((flags & STORE_FILTER_FROM_QUOTE) && line_start &&
            mid.len - i >= 5 && memcmp(mid.data + i, "From ", 5) == 0)
            buf_append(out, ">", 1);
        buf_append(out, mid.data + i, 1);
        line_start = mid.data[i] == '\n';
    }
    *bare_lf = 0;
    for (size_t i = 0; i < out->len; i++)
        if (out->data[i] == '\n' && (i == 0 || out->data[i - 1] != '\r'))
            (*bare_lf)++;
    buf_free(&mid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int flags = 0;
    if (data[0] & 1)
        flags |= STORE_FILTER_CRLF;
    if (data[0] & 2)
        flags |= STORE_FILTER_FROM_QUOTE;
    size_t chunk = (size_t)(data[0] >> 2) + 1; /* 1..64 */
    const char *in = (const char *)data + 1;
    size_t len = size - 1;

    struct store_filter f;
    struct buf out = BUF_INIT, want = BUF_INIT;
    store_filter_init(&f, flags);
    for (size_t at = 0; at < len; at += chunk)
        store_filter_run(&f, in + at, len - at < chunk ? len - at : chunk,
                         &out);
    store_filter_finish(&f, &out);
    long long bare_lf;
    reference(flags, in, len, &want, &bare_lf);
    if (out.len != want.len ||
        (out.len && memcmp(out.data, want.data, out.len) != 0) ||
        f.out_bytes != (long long)out.len || f.bare_lf != bare_lf)
        abort();
    buf_free(&out);
    buf_free(&want);
    return 0;
}
