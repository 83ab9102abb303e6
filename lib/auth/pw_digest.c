/* pw_digest.c: the salted-digest schemes {SSHA256} and {SSHA512}.
 *
 * The stored value is base64 (or, with the ".HEX" suffix, hex) of
 * digest(password + salt) followed by the salt. The salt's length is
 * whatever follows the digest; as in Dovecot it may be empty. Digests
 * come from OpenSSL's EVP interface. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "auth/pw_impl.h"
#include "base/base64.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends the bytes that hex text stands for; 0, or -1 when malformed. */
static int hex_decode(const char *text, struct buf *out)
{
    size_t len = strlen(text);
    if (len % 2 != 0)
        return -1;
    for (size_t i = 0; i < len; i += 2) {
        int high = hex_value(text[i]), low = hex_value(text[i + 1]);
        if (high < 0 || low < 0)
            return -1;
        buf_append_char(out, (char)(high << 4 | low));
    }
    return 0;
}

enum password_result pw_salted_digest_verify(const char *scheme,
                                             const char *digest_name,
                                             int hex_encoded, const char *data,
                                             const char *password,
                                             size_t password_len,
                                             struct buf *err)
{
    struct buf decoded = BUF_INIT;
    enum password_result result = PASSWORD_ERROR;
    int decode_rc = hex_encoded ? hex_decode(data, &decoded)
                                : base64_decode(data, strlen(data), &decoded);
    EVP_MD *md = EVP_MD_fetch(NULL, digest_name, NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (decode_rc < 0) {
        if (err)
            buf_appendf(err, "{%s}: the stored hash is not valid %s", scheme,
                        hex_encoded ? "hex" : "base64");
        goto out;
    }
    if (md == NULL || ctx == NULL) {
        if (err)
            buf_appendf(err, "{%s}: OpenSSL has no %s digest", scheme,
                        digest_name);
        goto out;
    }
    size_t digest_len = (size_t)EVP_MD_get_size(md);
    if (decoded.len < digest_len) {
        if (err)
            buf_appendf(err,
                        "{%s}: the stored hash is %zu bytes, shorter than a "
                        "%zu-byte digest",
                        scheme, decoded.len, digest_len);
        goto out;
    }
    unsigned char computed[EVP_MAX_MD_SIZE];
    unsigned int computed_len = 0;
    const char *salt = decoded.data + digest_len;
    size_t salt_len = decoded.len - digest_len;
    if (!EVP_DigestInit_ex(ctx, md, NULL) ||
        !EVP_DigestUpdate(ctx, password, password_len) ||
        !EVP_DigestUpdate(ctx, salt, salt_len) ||
        !EVP_DigestFinal_ex(ctx, computed, &computed_len)) {
        if (err)
            buf_appendf(err, "{%s}: %s failed", scheme, digest_name);
        goto out;
    }
    result = pw_bytes_equal(computed, computed_len, decoded.data, digest_len)
                 ? PASSWORD_MATCH
                 : PASSWORD_MISMATCH;
    OPENSSL_cleanse(computed, sizeof(computed));
out:
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
    buf_free(&decoded);
    return result;
}
