/* scram.c: SCRAM-SHA-256 key derivation and Dovecot's stored form; see
 * scram.h. PBKDF2, HMAC and SHA-256 come from OpenSSL. */
#include "auth/scram.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/mem.h"
#include "base/str.h"

void scram_hmac(const unsigned char *key, size_t key_len, const void *data,
                size_t data_len, unsigned char out[SCRAM_KEY_LEN])
{
    unsigned int out_len = SCRAM_KEY_LEN;
    if (HMAC(EVP_sha256(), key, (int)key_len, data, data_len, out,
             &out_len) == NULL)
        memset(out, 0, SCRAM_KEY_LEN); /* never matches a real key */
}

void scram_hash(const void *data, size_t len, unsigned char out[SCRAM_KEY_LEN])
{
    unsigned int out_len = SCRAM_KEY_LEN;
    if (!EVP_Digest(data, len, out, &out_len, EVP_sha256(), NULL))
        memset(out, 0, SCRAM_KEY_LEN);
}

int scram_client_keys_derive(const char *password, size_t password_len,
                             const unsigned char *salt, size_t salt_len,
                             unsigned iterations,
                             unsigned char client_key[SCRAM_KEY_LEN],
                             unsigned char server_key[SCRAM_KEY_LEN])
{
    unsigned char salted[SCRAM_KEY_LEN];
    if (salt_len > SCRAM_SALT_MAX || iterations == 0 ||
        iterations > INT_MAX || password_len > INT_MAX)
        return -1;
    if (!PKCS5_PBKDF2_HMAC(password, (int)password_len, salt, (int)salt_len,
                           (int)iterations, EVP_sha256(), SCRAM_KEY_LEN,
                           salted))
        return -1;
    scram_hmac(salted, sizeof(salted), "Client Key", 10, client_key);
    scram_hmac(salted, sizeof(salted), "Server Key", 10, server_key);
    OPENSSL_cleanse(salted, sizeof(salted));
    return 0;
}

int scram_creds_derive(const char *password, size_t password_len,
                       const unsigned char *salt, size_t salt_len,
                       unsigned iterations, struct scram_creds *creds)
{
    unsigned char client_key[SCRAM_KEY_LEN];
    if (scram_client_keys_derive(password, password_len, salt, salt_len,
                                 iterations, client_key,
                                 creds->server_key) < 0)
        return -1;
    creds->iterations = iterations;
    memcpy(creds->salt, salt, salt_len);
    creds->salt_len = salt_len;
    scram_hash(client_key, sizeof(client_key), creds->stored_key);
    OPENSSL_cleanse(client_key, sizeof(client_key));
    return 0;
}

/* Decodes base64 field text[0..len) into exactly want bytes (or, when
 * want is 0, 1..max bytes into out with *got set). */
static int decode_field(const char *text, size_t len, unsigned char *out,
                        size_t want, size_t max, size_t *got)
{
    struct buf raw = BUF_INIT;
    int rc = -1;
    if (base64_decode(text, len, &raw) == 0 &&
        (want ? raw.len == want : raw.len >= 1 && raw.len <= max)) {
        memcpy(out, raw.data, raw.len);
        if (got)
            *got = raw.len;
        rc = 0;
    }
    buf_free(&raw);
    return rc;
}

int scram_creds_parse(const char *data, struct scram_creds *creds,
                      struct buf *err)
{
    const char *fields[4];
    size_t lens[4];
    const char *p = data;
    for (int i = 0; i < 4; i++) {
        const char *comma = strchr(p, ',');
        if ((comma == NULL) != (i == 3)) {
            buf_append_str(err, "{SCRAM-SHA-256}: expected four "
                                "comma-separated fields");
            return -1;
        }
        fields[i] = p;
        lens[i] = comma ? (size_t)(comma - p) : strlen(p);
        if (comma)
            p = comma + 1;
    }
    char number[16];
    long iterations;
    if (lens[0] == 0 || lens[0] >= sizeof(number)) {
        buf_append_str(err, "{SCRAM-SHA-256}: bad iteration count");
        return -1;
    }
    memcpy(number, fields[0], lens[0]);
    number[lens[0]] = 0;
    if (str_to_long(number, &iterations) < 0 || iterations < 1 ||
        iterations > SCRAM_MAX_ITERATIONS) {
        buf_appendf(err,
                    "{SCRAM-SHA-256}: iteration count not in 1..%d",
                    SCRAM_MAX_ITERATIONS);
        return -1;
    }
    creds->iterations = (unsigned)iterations;
    if (decode_field(fields[1], lens[1], creds->salt, 0, SCRAM_SALT_MAX,
                     &creds->salt_len) < 0) {
        buf_append_str(err, "{SCRAM-SHA-256}: bad salt");
        return -1;
    }
    if (decode_field(fields[2], lens[2], creds->stored_key, SCRAM_KEY_LEN, 0,
                     NULL) < 0 ||
        decode_field(fields[3], lens[3], creds->server_key, SCRAM_KEY_LEN, 0,
                     NULL) < 0) {
        buf_append_str(err, "{SCRAM-SHA-256}: bad stored or server key");
        return -1;
    }
    return 0;
}

int scram_password_matches(const struct scram_creds *creds,
                           const char *password, size_t password_len)
{
    struct scram_creds given;
    if (scram_creds_derive(password, password_len, creds->salt,
                           creds->salt_len, creds->iterations, &given) < 0)
        return 0;
    int same = CRYPTO_memcmp(given.stored_key, creds->stored_key,
                             SCRAM_KEY_LEN) == 0;
    OPENSSL_cleanse(&given, sizeof(given));
    return same;
}
