/* fuzz_sasl.c: fuzzes the server side of the SASL mechanisms
 * (lib/auth/sasl_plain.c, sasl_login.c, sasl_scram.c): the first byte
 * picks the mechanism, the rest is split at 0xff bytes into the client's
 * messages, fed step by step to a backend that knows one user. Whatever
 * the bytes: a success names a user, a finished exchange is not stepped
 * again, and nothing reads out of bounds. */
#include <stdint.h>
#include <string.h>

#include "auth/sasl.h"
#include "base/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum sasl_check check(void *ctx, const char *user, const char *password,
                             size_t len, struct buf *reason)
{
    if (user == NULL || strlen(user) == 0 || strlen(user) > SASL_USER_MAX)
        __builtin_trap();
    return strcmp(user, "alice") == 0 && len == 6 &&
                   memcmp(password, "secret", 6) == 0
               ? SASL_CHECK_OK
               : SASL_CHECK_FAIL;
}

static enum sasl_check scram(void *ctx, const char *user,
                             struct scram_creds *creds, struct buf *reason)
{
    if (strcmp(user, "alice") != 0)
        return SASL_CHECK_FAIL;
    return scram_creds_parse("4096,n+onRzmuokqZcsmjUBD+hg==,"
                             "GVYqFHUKnTp54ixper92HIomU5IiFMWEw7cJyfkppKA=,"
                             "L0MsGO7ZWRqWR+seWsXG/sWCGn9fgCmKkTNFPfRbiRo=",
                             creds, reason) == 0
               ? SASL_CHECK_OK
               : SASL_CHECK_TEMPFAIL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct sasl_backend backend = {NULL, check, scram};
    if (size == 0)
        return 0;
    size_t mech_count = 0;
    while (sasl_mechs[mech_count])
        mech_count++;
    struct sasl_exchange x;
    sasl_exchange_init(&x, sasl_mechs[data[0] % mech_count], &backend);
    struct buf out = BUF_INIT;
    const uint8_t *p = data + 1, *end = data + size;
    enum sasl_status st = SASL_CONTINUE;
    /* An odd first byte: no initial response. */
    if (data[0] & 0x80) {
        st = sasl_exchange_step(&x, NULL, 0, 0, &out);
        buf_reset(&out);
    }
    while (st == SASL_CONTINUE && p <= end) {
        const uint8_t *sep = memchr(p, 0xff, (size_t)(end - p));
        size_t len = sep ? (size_t)(sep - p) : (size_t)(end - p);
        st = sasl_exchange_step(&x, p, len, 1, &out);
        buf_reset(&out);
        if (st == SASL_SUCCESS && x.user == NULL)
            __builtin_trap();
        if (st == SASL_FAILURE && x.reason.len == 0)
            __builtin_trap();
        if (sep == NULL)
            break;
        p = sep + 1;
    }
    sasl_exchange_free(&x);
    buf_free(&out);
    return 0;
}
