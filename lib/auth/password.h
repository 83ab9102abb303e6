/* password.h: checking a password against a stored hash in Dovecot's
 * `{SCHEME}data` form, and making such hashes for new passwords.
 *
 * Schemes (names are case-insensitive, as in Dovecot):
 *   {SHA512-CRYPT} {SHA256-CRYPT} {BLF-CRYPT} {CRYPT}, and the older
 *   {MD5-CRYPT} {DES-CRYPT}                            crypt(3) strings
 *       ($6$..., $5$..., $2y$..., any format libxcrypt knows), checked
 *       with libxcrypt's crypt_rn;
 *   {ARGON2ID} {ARGON2I}  the encoded "$argon2id$v=19$m=...,t=...,p=...$
 *       salt$hash" string, checked with libargon2;
 *   {SSHA512} {SSHA256}   base64 of digest(password + salt) + salt, with
 *       an optional ".HEX" or ".B64" suffix on the name (Dovecot's
 *       encodings), digests from OpenSSL;
 *   {PLAIN}               the password itself (for tests).
 * A stored value without a `{SCHEME}` prefix is read in the caller's
 * default scheme (Dovecot's default_pass_scheme; CRYPT for passwd-files).
 *
 * Three outcomes, never two: a match, a mismatch, and an error for what
 * cannot be checked at all (an unknown scheme, a malformed hash, argon2
 * or crypt costs past our caps). An error is never a mismatch: the caller logs it
 * and answers a temporary failure, so a typo in a table is seen, not
 * taken for a wrong password. Every comparison of secret-derived bytes
 * is constant-time (OpenSSL's CRYPTO_memcmp); error texts never hold the
 * password or the stored hash. */
#ifndef POSTERN_PASSWORD_H
#define POSTERN_PASSWORD_H

#include <stddef.h>

#include "base/buf.h"

enum password_result {
    PASSWORD_MATCH = 0,
    PASSWORD_MISMATCH,
    PASSWORD_ERROR, /* cannot be checked; the reason is in err */
};

/* A password longer than this never matches: SHA-crypt's cost grows
 * with the password's length, so an unbounded one is a way to burn the
 * auth service's CPU. */
#define PASSWORD_MAX_LEN 1024

/* Caps on the costs an {ARGON2*} hash may ask for, so one crafted table
 * entry cannot make each login allocate gigabytes. */
#define PASSWORD_ARGON2_MAX_MEMORY_KIB (1024 * 1024) /* 1 GiB */
#define PASSWORD_ARGON2_MAX_PASSES 64
#define PASSWORD_ARGON2_MAX_LANES 16
/* The same for the crypt(3) costs a stored hash can name: SHA-crypt's
 * rounds= (libxcrypt takes up to 999999999; the default is 5000) and
 * bcrypt's cost (2^cost rounds; up to 31; Dovecot makes 05). Past them
 * the entry is an error: one login at the top would take minutes. */
#define PASSWORD_SHA_CRYPT_MAX_ROUNDS 1000000
#define PASSWORD_BCRYPT_MAX_COST 16

/* Costs of the ARGON2ID hashes password_hash makes: 64 MiB and 3 passes
 * on one lane (a login must not take every core), a 16-byte salt and a
 * 32-byte hash: what Dovecot 2.3's doveadm pw -s ARGON2ID makes, and
 * RFC 9106's second recommended setting but for the lanes. SHA512-CRYPT
 * uses libxcrypt's default of 5000 rounds, as doveadm does. */
#define PASSWORD_ARGON2_MEMORY_KIB 65536
#define PASSWORD_ARGON2_PASSES 3
#define PASSWORD_ARGON2_LANES 1
#define PASSWORD_SALT_BYTES 16

/* The scheme new passwords get when none is asked for. */
#define PASSWORD_DEFAULT_SCHEME "ARGON2ID"

/* Checks password[0..password_len) against stored ("{SCHEME}data", or
 * bare data read in default_scheme, which may be NULL to require a
 * prefix). On PASSWORD_ERROR err (if not NULL) gets a reason such as
 * "unknown password scheme {MD4}" or "{SSHA256}: hash is not valid
 * base64". */
enum password_result password_verify(const char *stored,
                                     const char *password, size_t password_len,
                                     const char *default_scheme,
                                     struct buf *err);

/* Appends "{SCHEME}hash" for password to out, with a fresh random salt
 * from OpenSSL's RAND_bytes. scheme is "ARGON2ID" or "SHA512-CRYPT"
 * (any case), or NULL for PASSWORD_DEFAULT_SCHEME. Returns 0, or -1 with
 * err set (an unsupported scheme, a password with a NUL byte or longer
 * than PASSWORD_MAX_LEN, no randomness). */
int password_hash(const char *scheme, const char *password,
                  size_t password_len, struct buf *out, struct buf *err);

/* 1 when password_verify knows the scheme name (without braces, any
 * case, ".HEX"/".B64" suffixes included where they apply), else 0. */
int password_scheme_known(const char *name);

#endif
