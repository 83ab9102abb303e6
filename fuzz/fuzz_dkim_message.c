/* fuzz_dkim_message.c: fuzz target for whole messages through lib/dkim
 * (dkim_reader, dkim_canon, dkim_verify, dkim_sign): any message from
 * any client. Checks its promises:
 *  - verification does not depend on how the message is cut into
 *    chunks (all at once against pieces of 1 to 8 bytes, the size taken
 *    from the first byte): the same signatures, results and reasons;
 *  - whatever we sign (Ed25519, relaxed/relaxed, or simple/simple when
 *    the first byte is odd) verifies with its key as "pass", unless the
 *    signer refused the message (header over limits). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim/dkim_sign.h"
#include "dkim/dkim_verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 8463's brisbane key (RFC 8032 7.1 test 1). */
static const char SEED[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
static const char RECORD[] = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
static const char KEY_NAME[] = "f._domainkey.example.org";

static struct dkim_verify *verify(const char *msg, size_t len, size_t chunk)
{
    struct dkim_verify *v = dkim_verify_new(1700000000);
    for (size_t off = 0; off < len; off += chunk)
        dkim_verify_feed(v, msg + off, len - off < chunk ? len - off : chunk);
    dkim_verify_end(v);
    for (size_t i = 0; i < dkim_verify_count(v); i++) {
        const char *name = dkim_verify_key_name(v, i);
        if (name != NULL && strcmp(name, KEY_NAME) == 0) {
            const char *txt = RECORD;
            size_t tlen = strlen(RECORD);
            dkim_verify_key_answer(v, i, DNS_FOUND, &txt, &tlen, 1);
        } else if (name != NULL) {
            dkim_verify_key_answer(v, i, DNS_NOTFOUND, NULL, NULL, 0);
        }
    }
    dkim_verify_finish(v);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *msg = (const char *)data;
    size_t chunk = size > 0 ? (size_t)(data[0] % 8) + 1 : 1;
    struct dkim_verify *whole = verify(msg, size, size ? size : 1);
    struct dkim_verify *pieces = verify(msg, size, chunk);
    if (dkim_verify_count(whole) != dkim_verify_count(pieces))
        abort();
    for (size_t i = 0; i < dkim_verify_count(whole); i++) {
        const struct dkim_verify_result *a = dkim_verify_result(whole, i);
        const struct dkim_verify_result *b = dkim_verify_result(pieces, i);
        if (a->result != b->result || strcmp(a->reason, b->reason) != 0)
            abort();
    }
    dkim_verify_free(whole);
    dkim_verify_free(pieces);

    static struct dkim_sign_key key;
    struct buf err = BUF_INIT, out = BUF_INIT;
    if (key.pkey == NULL && dkim_sign_key_load(SEED, strlen(SEED), &key, &err) != 0)
        abort();
    struct dkim_sign_params params;
    dkim_sign_params_init(&params);
    params.domain = "example.org";
    params.selector = "f";
    if (size > 0 && (data[0] & 1))
        params.header_canon = params.body_canon = DKIM_CANON_SIMPLE;
    const struct dkim_sign_key *keys[1] = {&key};
    struct dkim_signer *s = dkim_signer_new(&params, keys, NULL, 1, &err);
    if (s == NULL)
        abort();
    for (size_t off = 0; off < size; off += chunk)
        dkim_signer_feed(s, msg + off, size - off < chunk ? size - off : chunk);
    if (dkim_signer_finish(s, &out, &err) == 0) {
        buf_append(&out, msg, size);
        struct dkim_verify *v = verify(out.data, out.len, out.len);
        if (dkim_verify_count(v) == 0 ||
            dkim_verify_result(v, 0)->result != DKIM_RESULT_PASS)
            abort();
        dkim_verify_free(v);
    }
    dkim_signer_free(s);
    buf_free(&err);
    buf_free(&out);
    return 0;
}
