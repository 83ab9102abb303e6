/* dkim_crypto.c: rsa-sha256 and ed25519-sha256 (see dkim_crypto.h). */
#include "dkim/dkim_crypto.h"

#include <openssl/rsa.h>

int dkim_crypto_key_fits(enum dkim_alg alg, EVP_PKEY *pkey)
{
    if (alg == DKIM_ALG_ED25519_SHA256)
        return EVP_PKEY_is_a(pkey, "ED25519");
    if (alg == DKIM_ALG_RSA_SHA256)
        return EVP_PKEY_is_a(pkey, "RSA");
    return 0;
}

/* A context for RSASSA-PKCS1-v1_5 with SHA-256 over a digest. */
static EVP_PKEY_CTX *rsa_ctx(EVP_PKEY *pkey, int sign)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL)
        return NULL;
    if ((sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int dkim_crypto_verify(enum dkim_alg alg, EVP_PKEY *pkey,
                       const unsigned char *digest, const unsigned char *sig,
                       size_t sig_len)
{
    if (!dkim_crypto_key_fits(alg, pkey))
        return 0;
    int ok = 0;
    if (alg == DKIM_ALG_RSA_SHA256) {
        EVP_PKEY_CTX *ctx = rsa_ctx(pkey, 0);
        if (ctx != NULL)
            ok = EVP_PKEY_verify(ctx, sig, sig_len, digest, DKIM_DIGEST_LEN) == 1;
        EVP_PKEY_CTX_free(ctx);
    } else {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (md != NULL && EVP_DigestVerifyInit_ex(md, NULL, NULL, NULL, NULL,
                                                  pkey, NULL) == 1)
            ok = EVP_DigestVerify(md, sig, sig_len, digest, DKIM_DIGEST_LEN) == 1;
        EVP_MD_CTX_free(md);
    }
    return ok;
}

int dkim_crypto_sign(enum dkim_alg alg, EVP_PKEY *pkey,
                     const unsigned char *digest, struct buf *out)
{
    if (!dkim_crypto_key_fits(alg, pkey))
        return -1;
    int rc = -1;
    size_t len = 0;
    buf_reset(out);
    if (alg == DKIM_ALG_RSA_SHA256) {
        EVP_PKEY_CTX *ctx = rsa_ctx(pkey, 1);
        if (ctx != NULL &&
            EVP_PKEY_sign(ctx, NULL, &len, digest, DKIM_DIGEST_LEN) == 1) {
            buf_reserve(out, len);
            if (EVP_PKEY_sign(ctx, (unsigned char *)out->data, &len, digest,
                              DKIM_DIGEST_LEN) == 1)
                rc = 0;
        }
        EVP_PKEY_CTX_free(ctx);
    } else {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (md != NULL &&
            EVP_DigestSignInit_ex(md, NULL, NULL, NULL, NULL, pkey, NULL) == 1 &&
            EVP_DigestSign(md, NULL, &len, digest, DKIM_DIGEST_LEN) == 1) {
            buf_reserve(out, len);
            if (EVP_DigestSign(md, (unsigned char *)out->data, &len, digest,
                               DKIM_DIGEST_LEN) == 1)
                rc = 0;
        }
        EVP_MD_CTX_free(md);
    }
    if (rc == 0) {
        out->len = len;
        out->data[len] = '\0';
    }
    return rc;
}
