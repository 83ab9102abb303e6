/* pw_impl.h: what password.c shares with the scheme families it
 * dispatches to (pw_crypt.c, pw_argon2.c, pw_digest.c). Not for use
 * outside lib/auth/. Each verify function gets the data after the
 * `{SCHEME}` prefix and the scheme name for its messages, and returns a
 * password_result; each hash function appends the data (no prefix). */
#ifndef POSTERN_PW_IMPL_H
#define POSTERN_PW_IMPL_H

#include <stddef.h>

#include "auth/password.h"
#include "base/buf.h"

/* The crypt(3) family through libxcrypt. */
enum password_result pw_crypt_verify(const char *scheme, const char *hash,
                                     const char *password, size_t password_len,
                                     struct buf *err);
/* A "$6$" (SHA512-CRYPT) hash with a random salt, default rounds. */
int pw_crypt_hash_sha512(const char *password, struct buf *out,
                         struct buf *err);

/* Encoded argon2i/argon2id strings through libargon2. */
enum password_result pw_argon2_verify(const char *scheme, const char *hash,
                                      const char *password,
                                      size_t password_len, struct buf *err);
int pw_argon2id_hash(const char *password, size_t password_len,
                     struct buf *out, struct buf *err);

/* Salted digests: data holds digest(password + salt) + salt, in base64
 * (hex_encoded 0) or hex (1); digest_name is an OpenSSL name ("SHA256"). */
enum password_result pw_salted_digest_verify(const char *scheme,
                                             const char *digest_name,
                                             int hex_encoded, const char *data,
                                             const char *password,
                                             size_t password_len,
                                             struct buf *err);

/* Compares two byte strings in time that depends only on their lengths
 * (which are not secret: the stored value's length is fixed by its
 * scheme). 1 when equal. */
int pw_bytes_equal(const void *a, size_t a_len, const void *b, size_t b_len);

/* Fills out with len random bytes from OpenSSL; 0, or -1 with err set. */
int pw_random_bytes(void *out, size_t len, struct buf *err);

#endif
