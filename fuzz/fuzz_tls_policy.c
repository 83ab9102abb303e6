/* fuzz_tls_policy.c: fuzz target for smtp_tls_policy_maps values
 * (lib/tls/tls_policy.c), text any table may hold. Checks its promises:
 * an accepted value has a known level, "none" carries nothing, match
 * items exist only at the levels that use them and fingerprints are
 * even-length lower-case hex; a refused value says why. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "tls/tls_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        size = 4096;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0; /* a table value ends at a NUL */
    struct tls_policy policy;
    tls_policy_init(&policy);
    struct buf err = BUF_INIT;
    int rc = tls_policy_parse(text, &policy, &err);
    if (rc == 0) {
        if (err.len || policy.level > TLS_CLIENT_SECURE)
            abort();
        if (policy.level == TLS_CLIENT_NONE &&
            (policy.protocols || policy.ciphers || policy.match.count))
            abort();
        if (policy.match.count && policy.level != TLS_CLIENT_VERIFY &&
            policy.level != TLS_CLIENT_SECURE &&
            policy.level != TLS_CLIENT_FINGERPRINT)
            abort();
        for (size_t i = 0; i < policy.match.count; i++) {
            const char *item = policy.match.items[i];
            if (*item == '\0')
                abort();
            if (policy.level == TLS_CLIENT_FINGERPRINT) {
                if (strlen(item) % 2)
                    abort();
                for (const char *p = item; *p; p++)
                    if (!isxdigit((unsigned char)*p) ||
                        isupper((unsigned char)*p))
                        abort();
            }
        }
    } else if (rc != -1 || err.len == 0) {
        abort();
    }
    tls_policy_free(&policy);
    buf_free(&err);
    free(text);
    return 0;
}
