/* fuzz_scram_client.c: fuzz target for what a server sends the SCRAM-
 * SHA-256 client (lib/auth/scram_client.c) when the smtp daemon logs in
 * to a smarthost: the input is the server-first message, then after the
 * first newline the server-final message. "@@" in the server-first
 * message stands for the client's random nonce, so inputs get past the
 * nonce check.
 *
 * Checks: each step answers 0 or -1 with a reason; a failed step leaves
 * the exchange over; the server is never taken as verified (no input
 * can know the HMAC of a random nonce under a password it never saw). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/scram_client.h"
#include "base/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    const char *text = (const char *)data;
    const char *newline = memchr(text, '\n', size);
    size_t first_len = newline ? (size_t)(newline - text) : size;

    struct scram_client *c = scram_client_new("user", "pencil");
    struct buf out = BUF_INIT, first = BUF_INIT;
    if (scram_client_step(c, NULL, 0, &out) != 0)
        abort();
    const char *nonce = strstr(buf_cstr(&out), ",r=");
    if (nonce == NULL)
        abort();
    nonce += 3;
    for (size_t i = 0; i < first_len; i++) {
        if (i + 1 < first_len && text[i] == '@' && text[i + 1] == '@') {
            buf_append_str(&first, nonce);
            i++;
        } else {
            buf_append_char(&first, text[i]);
        }
    }
    buf_reset(&out);
    int rc = scram_client_step(c, first.data ? first.data : "", first.len,
                               &out);
    if (rc != 0 && rc != -1)
        abort();
    if (rc < 0 && *scram_client_error(c) == '\0')
        abort();
    if (rc == 0 && newline) {
        buf_reset(&out);
        rc = scram_client_step(c, newline + 1, size - first_len - 1, &out);
        if (rc != 0 && rc != -1)
            abort();
        if (rc < 0 && *scram_client_error(c) == '\0')
            abort();
        /* A step after the end always fails. */
        buf_reset(&out);
        if (scram_client_step(c, "v=", 2, &out) != -1)
            abort();
    }
    if (scram_client_verified(c))
        abort();
    buf_free(&out);
    buf_free(&first);
    scram_client_free(c);
    return 0;
}
