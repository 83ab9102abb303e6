/* dkim_key.h: the DKIM key record (RFC 6376 section 3.6.1, RFC 8463):
 * the TXT record at SELECTOR._domainkey.DOMAIN.
 *
 * Tags: v= (when present, "DKIM1" and the first tag), k= (rsa, the
 * default, or ed25519; anything else is an error), p= (base64; empty:
 * revoked), h= (acceptable hashes; sha256 must be among them when
 * given), s= (service types; "*" or "email" must be among them), t=
 * (flags: y testing, s strict identity; unknown flags ignored), n=
 * (notes, ignored). Unknown tags are ignored.
 *
 * p= for rsa is a DER SubjectPublicKeyInfo, or a bare PKCS#1
 * RSAPublicKey (some signers publish that; RFC 6376 3.6.1 names the
 * former, both are accepted); for ed25519 the 32 raw bytes (RFC 8463).
 * Every failure here is "permerror" (RFC 8601: unrecoverable). */
#ifndef POSTERN_DKIM_KEY_H
#define POSTERN_DKIM_KEY_H

#include <stddef.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "dkim/dkim_types.h"

#define DKIM_KEY_RECORD_MAX 4096
#define DKIM_KEY_HASH_SHA1 1
#define DKIM_KEY_HASH_SHA256 2

struct dkim_key {
    enum dkim_key_type type;
    EVP_PKEY *pkey;  /* NULL when revoked */
    int revoked;     /* p= empty */
    int testing;     /* t=y */
    int strict;      /* t=s: i= must be in d= itself, not below */
    unsigned hashes; /* DKIM_KEY_HASH_* bits; all when h= is absent */
    int bits;        /* RSA modulus size; 256 for ed25519 */
};

void dkim_key_init(struct dkim_key *key);
void dkim_key_free(struct dkim_key *key);

/* Parses one record (the TXT strings concatenated). Returns 0, or -1 with
 * a short reason (the result is then permerror). */
int dkim_key_parse(const char *txt, size_t len, struct dkim_key *key,
                   struct buf *reason);

/* Decodes p= bytes into a public key of the given type. Returns NULL
 * when they are not one. */
EVP_PKEY *dkim_key_decode_public(enum dkim_key_type type,
                                 const unsigned char *der, size_t len);

#endif
