/* fuzz_base64.c: fuzz target for lib/base/base64. Decodes the input (postmap
 * -F reads table values this way) and checks that whatever decodes
 * encodes back to the same text, and that every input round-trips
 * through the encoder. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf decoded = BUF_INIT, encoded = BUF_INIT;
    if (base64_decode((const char *)data, size, &decoded) == 0) {
        base64_encode(decoded.data, decoded.len, &encoded);
        /* Canonical input only: unused low bits may differ. */
        if (encoded.len != size)
            abort();
    }
    buf_reset(&encoded);
    buf_reset(&decoded);
    base64_encode(data, size, &encoded);
    if (base64_decode(encoded.data, encoded.len, &decoded) != 0 ||
        decoded.len != size || (size && memcmp(decoded.data, data, size) != 0))
        abort();
    buf_free(&decoded);
    buf_free(&encoded);
    return 0;
}
