/* fuzz_dkim_key.c: fuzz target for lib/dkim/dkim_key (DKIM key records
 * come from any DNS zone). Checks its promises: a record that parses is
 * revoked or holds a public key of its type; a failure says why. */
#include <stdint.h>
#include <stdlib.h>

#include "dkim/dkim_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dkim_key key;
    dkim_key_init(&key);
    struct buf reason = BUF_INIT;
    if (dkim_key_parse((const char *)data, size, &key, &reason) == 0) {
        if (key.revoked ? key.pkey != NULL : key.pkey == NULL)
            abort();
        if (key.pkey != NULL &&
            !EVP_PKEY_is_a(key.pkey,
                           key.type == DKIM_KEY_RSA ? "RSA" : "ED25519"))
            abort();
    } else if (reason.len == 0) {
        abort();
    }
    dkim_key_free(&key);
    buf_free(&reason);
    return 0;
}
