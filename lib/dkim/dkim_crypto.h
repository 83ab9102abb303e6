/* dkim_crypto.h: the DKIM signature algorithms over a SHA-256 digest of
 * the canonical header data, with OpenSSL 3's EVP interface:
 * rsa-sha256 is RSASSA-PKCS1-v1_5 with SHA-256 (RFC 6376 3.3.1);
 * ed25519-sha256 is PureEdDSA over the 32-byte digest (RFC 8463 3).
 * rsa-sha1 is neither signed nor verified (RFC 8301). */
#ifndef POSTERN_DKIM_CRYPTO_H
#define POSTERN_DKIM_CRYPTO_H

#include <stddef.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "dkim/dkim_types.h"

#define DKIM_DIGEST_LEN 32 /* SHA-256 */

/* Returns 1 when sig is a valid signature of digest, 0 otherwise. */
int dkim_crypto_verify(enum dkim_alg alg, EVP_PKEY *pkey,
                       const unsigned char *digest, const unsigned char *sig,
                       size_t sig_len);

/* Replaces out with the signature of digest. Returns 0, or -1. */
int dkim_crypto_sign(enum dkim_alg alg, EVP_PKEY *pkey,
                     const unsigned char *digest, struct buf *out);

/* Whether the key's type suits the algorithm. */
int dkim_crypto_key_fits(enum dkim_alg alg, EVP_PKEY *pkey);

#endif
