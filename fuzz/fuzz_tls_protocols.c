/* fuzz_tls_protocols.c: fuzz target for Postfix TLS protocol lists
 * (lib/tls/tls_protocols.c), the value of smtpd_tls_protocols and
 * smtpd_tls_mandatory_protocols. Checks its promises: an accepted list
 * enables a non-empty set of TLS versions and never SSLv2 or SSLv3; a
 * refused one says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "tls/tls_protocols.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        size = 4096;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0; /* a NUL ends the value, as in main.cf */
    unsigned set = 0;
    struct buf err = BUF_INIT;
    int rc = tls_protocols_parse(text, &set, &err);
    if (rc == 0) {
        if (set == 0 || (set & ~TLS_PROTO_USABLE) || err.len)
            abort();
        struct buf names = BUF_INIT;
        tls_protocols_format(set, &names);
        if (names.len == 0)
            abort();
        buf_free(&names);
    } else if (rc != -1 || err.len == 0) {
        abort();
    }
    buf_free(&err);
    free(text);
    return 0;
}
