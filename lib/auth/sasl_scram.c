/* sasl_scram.c: the SCRAM-SHA-256 mechanism, server side (RFC 5802,
 * RFC 7677), without channel binding (SCRAM-SHA-256-PLUS is not
 * offered, so a client flag "p=" fails and "y" is accepted).
 *
 *   client-first  gs2-header "n,," or "y,," (with "a=authzid" inside),
 *                 then "n=user,r=cnonce[,ext...]"
 *   server-first  "r=cnonce+snonce,s=salt,i=iterations"
 *   client-final  "c=base64(gs2-header),r=nonce[,ext...],p=proof"
 *   server-final  "v=signature", sent as a challenge; the client's
 *                 empty answer ends the exchange with success.
 * The user's credentials come from the backend (Dovecot's stored
 * {SCRAM-SHA-256}, or derived from a {PLAIN} password); a user without
 * them, or an unknown one, gets made-up credentials so the exchange
 * runs to the end and fails the same way a wrong password does. */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"
#include "base/base64.h"
#include "base/mem.h"

enum scram_state { SCRAM_FIRST, SCRAM_FINAL, SCRAM_END };

struct scram_state_data {
    enum scram_state state;
    struct scram_creds creds;
    int creds_valid;         /* 0: made-up credentials, always fails */
    enum sasl_check lookup;  /* why not valid */
    struct buf gs2_header;   /* as sent, for the c= check */
    struct buf client_first_bare;
    struct buf server_first;
    struct buf nonce;        /* cnonce + snonce */
    struct buf lookup_reason;
};

/* Unescapes a saslname (",": "=2C", "=": "=3D"); -1 on a bad escape. */
static int saslname_decode(const char *text, size_t len, struct buf *out)
{
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '=') {
            buf_append_char(out, text[i]);
            continue;
        }
        if (len - i < 3)
            return -1;
        if (text[i + 1] == '2' && text[i + 2] == 'C')
            buf_append_char(out, ',');
        else if (text[i + 1] == '3' && text[i + 2] == 'D')
            buf_append_char(out, '=');
        else
            return -1;
        i += 2;
    }
    return 0;
}

/* Printable ASCII but ',' (RFC 5802's "printable" for nonces). */
static int nonce_ok(const char *text, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] < 0x21 || text[i] > 0x7e || text[i] == ',')
            return 0;
    return 1;
}

static enum sasl_status scram_first(struct sasl_exchange *x,
                                    struct scram_state_data *s,
                                    const char *in, size_t len,
                                    struct buf *out)
{
    /* gs2-cbind-flag "," [authzid] "," */
    if (len < 3 || (in[0] != 'n' && in[0] != 'y') || in[1] != ',')
        return sasl_fail(x, "SCRAM: bad or unsupported channel binding flag");
    const char *p = in + 2, *end = in + len;
    const char *comma = memchr(p, ',', (size_t)(end - p));
    if (comma == NULL)
        return sasl_fail(x, "SCRAM: malformed client-first message");
    struct buf authzid = BUF_INIT;
    if (comma > p) {
        if (comma - p < 2 || p[0] != 'a' || p[1] != '=' ||
            saslname_decode(p + 2, (size_t)(comma - p - 2), &authzid) < 0) {
            buf_free(&authzid);
            return sasl_fail(x, "SCRAM: malformed authorization identity");
        }
    }
    buf_set(&s->gs2_header, in, (size_t)(comma + 1 - in));
    p = comma + 1;
    buf_set(&s->client_first_bare, p, (size_t)(end - p));

    /* "n=" saslname "," "r=" nonce ["," extensions] */
    if (end - p < 2 || p[0] != 'n' || p[1] != '=') {
        buf_free(&authzid);
        return sasl_fail(x, "SCRAM: malformed client-first message");
    }
    p += 2;
    comma = memchr(p, ',', (size_t)(end - p));
    struct buf user = BUF_INIT;
    if (comma == NULL || saslname_decode(p, (size_t)(comma - p), &user) < 0 ||
        memchr(user.data ? user.data : "", 0, user.len) ||
        sasl_set_user(x, user.data ? user.data : "", user.len) < 0) {
        buf_free(&user);
        buf_free(&authzid);
        if (x->reason.len == 0)
            sasl_fail(x, "SCRAM: malformed user name");
        return SASL_FAILURE;
    }
    buf_free(&user);
    if (authzid.len && strcmp(buf_cstr(&authzid), x->user) != 0) {
        buf_free(&authzid);
        return sasl_fail(x, "SCRAM: authorization identity differs "
                            "(master users not supported)");
    }
    buf_free(&authzid);
    p = comma + 1;
    if (end - p < 2 || p[0] != 'r' || p[1] != '=')
        return sasl_fail(x, "SCRAM: malformed client-first message");
    p += 2;
    comma = memchr(p, ',', (size_t)(end - p));
    size_t cnonce_len = comma ? (size_t)(comma - p) : (size_t)(end - p);
    if (!nonce_ok(p, cnonce_len))
        return sasl_fail(x, "SCRAM: bad client nonce");

    /* Our nonce: 18 random bytes in base64 (no ','). */
    unsigned char random_bytes[18];
    if (RAND_bytes(random_bytes, sizeof(random_bytes)) != 1) {
        sasl_fail(x, "SCRAM: no randomness");
        return SASL_TEMPFAIL;
    }
    buf_set(&s->nonce, p, cnonce_len);
    base64_encode(random_bytes, sizeof(random_bytes), &s->nonce);

    buf_reset(&s->lookup_reason);
    s->lookup = x->backend->scram_credentials(x->backend->ctx, x->user,
                                              &s->creds, &s->lookup_reason);
    if (s->lookup == SASL_CHECK_TEMPFAIL) {
        buf_set_str(&x->reason, buf_cstr(&s->lookup_reason));
        return SASL_TEMPFAIL;
    }
    s->creds_valid = s->lookup == SASL_CHECK_OK;
    if (!s->creds_valid) {
        /* Made up: the exchange looks the same and fails at the end. */
        s->creds.iterations = SCRAM_DEFAULT_ITERATIONS;
        s->creds.salt_len = 16;
        if (RAND_bytes(s->creds.salt, 16) != 1 ||
            RAND_bytes(s->creds.stored_key, SCRAM_KEY_LEN) != 1 ||
            RAND_bytes(s->creds.server_key, SCRAM_KEY_LEN) != 1) {
            sasl_fail(x, "SCRAM: no randomness");
            return SASL_TEMPFAIL;
        }
    }
    buf_appendf(&s->server_first, "r=%s,s=", buf_cstr(&s->nonce));
    base64_encode(s->creds.salt, s->creds.salt_len, &s->server_first);
    buf_appendf(&s->server_first, ",i=%u", s->creds.iterations);
    buf_append(out, s->server_first.data, s->server_first.len);
    s->state = SCRAM_FINAL;
    return SASL_CONTINUE;
}

static enum sasl_status scram_final(struct sasl_exchange *x,
                                    struct scram_state_data *s,
                                    const char *in, size_t len,
                                    struct buf *out)
{
    /* "c=" cbind "," "r=" nonce *("," ext) "," "p=" proof */
    const char *end = in + len;
    const char *proof_at = NULL;
    for (const char *p = end; p > in; p--)
        if (p[-1] == ',' && end - p >= 2 && p[0] == 'p' && p[1] == '=') {
            proof_at = p;
            break;
        }
    if (proof_at == NULL || len < 2 || in[0] != 'c' || in[1] != '=')
        return sasl_fail(x, "SCRAM: malformed client-final message");
    size_t without_proof_len = (size_t)(proof_at - 1 - in);
    const char *comma = memchr(in, ',', len);
    struct buf cbind = BUF_INIT, expected = BUF_INIT;
    base64_encode(s->gs2_header.data, s->gs2_header.len, &expected);
    int cbind_ok = comma && base64_decode(in + 2, (size_t)(comma - in - 2),
                                          &cbind) == 0 &&
                   (size_t)(comma - in - 2) == expected.len &&
                   memcmp(in + 2, expected.data, expected.len) == 0;
    buf_free(&cbind);
    buf_free(&expected);
    if (!cbind_ok)
        return sasl_fail(x, "SCRAM: channel binding data differs");
    const char *r = comma + 1;
    const char *r_end = memchr(r, ',', (size_t)(end - r));
    if (r_end == NULL || r_end - r < 2 || r[0] != 'r' || r[1] != '=' ||
        (size_t)(r_end - r - 2) != s->nonce.len ||
        memcmp(r + 2, s->nonce.data, s->nonce.len) != 0)
        return sasl_fail(x, "SCRAM: nonce differs");

    struct buf proof = BUF_INIT;
    if (base64_decode(proof_at + 2, (size_t)(end - proof_at - 2), &proof) < 0 ||
        proof.len != SCRAM_KEY_LEN) {
        buf_free(&proof);
        return sasl_fail(x, "SCRAM: malformed proof");
    }
    struct buf auth_message = BUF_INIT;
    buf_append(&auth_message, s->client_first_bare.data,
               s->client_first_bare.len);
    buf_append_char(&auth_message, ',');
    buf_append(&auth_message, s->server_first.data, s->server_first.len);
    buf_append_char(&auth_message, ',');
    buf_append(&auth_message, in, without_proof_len);

    unsigned char signature[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN],
        stored[SCRAM_KEY_LEN];
    scram_hmac(s->creds.stored_key, SCRAM_KEY_LEN, auth_message.data,
               auth_message.len, signature);
    for (size_t i = 0; i < SCRAM_KEY_LEN; i++)
        client_key[i] = (unsigned char)proof.data[i] ^ signature[i];
    scram_hash(client_key, SCRAM_KEY_LEN, stored);
    int match = CRYPTO_memcmp(stored, s->creds.stored_key, SCRAM_KEY_LEN) == 0;
    buf_free(&proof);
    OPENSSL_cleanse(client_key, sizeof(client_key));

    enum sasl_status result;
    if (!s->creds_valid) {
        if (s->lookup_reason.len)
            buf_set_str(&x->reason, buf_cstr(&s->lookup_reason));
        else
            sasl_fail(x, s->lookup == SASL_CHECK_UNAVAILABLE
                             ? "SCRAM: no SCRAM credentials for this user"
                             : "password mismatch");
        result = SASL_FAILURE;
    } else if (!match) {
        result = sasl_fail(x, "password mismatch");
    } else {
        scram_hmac(s->creds.server_key, SCRAM_KEY_LEN, auth_message.data,
                   auth_message.len, signature);
        buf_append_str(out, "v=");
        base64_encode(signature, SCRAM_KEY_LEN, out);
        s->state = SCRAM_END;
        result = SASL_CONTINUE;
    }
    buf_free(&auth_message);
    return result;
}

static enum sasl_status scram_step(struct sasl_exchange *x,
                                   const unsigned char *in, size_t len,
                                   int has_input, struct buf *out)
{
    if (x->state == NULL) {
        struct scram_state_data *fresh = xcalloc(1, sizeof(*fresh));
        buf_init(&fresh->gs2_header);
        buf_init(&fresh->client_first_bare);
        buf_init(&fresh->server_first);
        buf_init(&fresh->nonce);
        buf_init(&fresh->lookup_reason);
        x->state = fresh;
    }
    struct scram_state_data *s = x->state;
    if (!has_input)
        return SASL_CONTINUE; /* empty challenge: send client-first */
    if (memchr(in, 0, len))
        return sasl_fail(x, "SCRAM: NUL in message");
    switch (s->state) {
    case SCRAM_FIRST:
        return scram_first(x, s, (const char *)in, len, out);
    case SCRAM_FINAL:
        return scram_final(x, s, (const char *)in, len, out);
    case SCRAM_END:
        if (len != 0)
            return sasl_fail(x, "SCRAM: unexpected data after server-final");
        return SASL_SUCCESS;
    }
    return SASL_FAILURE;
}

static void scram_cleanup(struct sasl_exchange *x)
{
    struct scram_state_data *s = x->state;
    if (s == NULL)
        return;
    buf_free(&s->gs2_header);
    buf_free(&s->client_first_bare);
    buf_free(&s->server_first);
    buf_free(&s->nonce);
    buf_free(&s->lookup_reason);
    OPENSSL_cleanse(&s->creds, sizeof(s->creds));
    free(s);
    x->state = NULL;
}

const struct sasl_mech sasl_mech_scram_sha256 = {
    .name = "SCRAM-SHA-256",
    .flags = 0,
    .step = scram_step,
    .cleanup = scram_cleanup,
};
