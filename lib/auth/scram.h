/* scram.h: SCRAM-SHA-256 credentials (RFC 5802, RFC 7677): the keys a
 * server keeps, read from Dovecot's stored form or derived from a
 * clear-text password, and the HMAC/hash steps the SASL mechanism's
 * server side (sasl_scram.c), its client side (scram_client.c) and
 * password_verify's {SCRAM-SHA-256} scheme use.
 *
 * Dovecot stores `{SCRAM-SHA-256}ITER,SALT,STOREDKEY,SERVERKEY`, the last
 * three in base64: salted password = PBKDF2-HMAC-SHA-256(password, salt,
 * ITER), ClientKey = HMAC(salted, "Client Key"), StoredKey =
 * SHA-256(ClientKey), ServerKey = HMAC(salted, "Server Key"). */
#ifndef POSTERN_SCRAM_H
#define POSTERN_SCRAM_H

#include <stddef.h>

#include "base/buf.h"

#define SCRAM_KEY_LEN 32 /* SHA-256 */
#define SCRAM_SALT_MAX 64
/* Iterations a stored entry may ask for: PBKDF2 runs at every login, so
 * a crafted entry must not burn seconds (Dovecot makes 4096). */
#define SCRAM_MAX_ITERATIONS 1000000
/* What derive() uses for a {PLAIN} password (RFC 7677's minimum). */
#define SCRAM_DEFAULT_ITERATIONS 4096

struct scram_creds {
    unsigned iterations;
    unsigned char salt[SCRAM_SALT_MAX];
    size_t salt_len;
    unsigned char stored_key[SCRAM_KEY_LEN];
    unsigned char server_key[SCRAM_KEY_LEN];
};

/* Reads Dovecot's stored form (the data after "{SCRAM-SHA-256}").
 * Returns 0, or -1 with err set (never quoting the data). */
int scram_creds_parse(const char *data, struct scram_creds *creds,
                      struct buf *err);

/* Derives creds from password with salt and iterations. 0, or -1 when
 * OpenSSL fails. */
int scram_creds_derive(const char *password, size_t password_len,
                       const unsigned char *salt, size_t salt_len,
                       unsigned iterations, struct scram_creds *creds);

/* The salted password's ClientKey and ServerKey (what a SCRAM client
 * needs: StoredKey is SHA-256(ClientKey)). 0, or -1 when OpenSSL fails
 * or the salt or count is out of range. */
int scram_client_keys_derive(const char *password, size_t password_len,
                             const unsigned char *salt, size_t salt_len,
                             unsigned iterations,
                             unsigned char client_key[SCRAM_KEY_LEN],
                             unsigned char server_key[SCRAM_KEY_LEN]);

/* out = HMAC-SHA-256(key, data). */
void scram_hmac(const unsigned char *key, size_t key_len, const void *data,
                size_t data_len, unsigned char out[SCRAM_KEY_LEN]);
/* out = SHA-256(data). */
void scram_hash(const void *data, size_t len, unsigned char out[SCRAM_KEY_LEN]);

/* 1 when password derives to creds' StoredKey (constant-time compare). */
int scram_password_matches(const struct scram_creds *creds,
                           const char *password, size_t password_len);

#endif
