/* dkim_sign.h: DKIM signing (RFC 6376 section 5, RFC 8463) of a message
 * streamed in chunks: rsa-sha256 and ed25519-sha256, relaxed/relaxed by
 * default, one or more keys over one pass of the body (a double
 * signature, RSA and Ed25519, hashes the body once).
 *
 * Signed header fields: those of RFC 6376 5.4.1's list that are present
 * (DKIM_SIGN_HEADERS), each instance once (at most the last 10 of a
 * name), and From once more than it appears ("over-signed": a From
 * added later breaks the signature). A header section over
 * lib/message/header's limits is not signed, nor a message whose first
 * line begins with whitespace (it would continue our field).
 *
 * Use: dkim_signer_new, dkim_signer_feed ... , dkim_signer_finish: the
 * new DKIM-Signature fields, to put on top of the message. The header
 * section is kept until finish (bounded by lib/message/header); the body
 * is not kept. */
#ifndef POSTERN_DKIM_SIGN_H
#define POSTERN_DKIM_SIGN_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "dkim/dkim_types.h"

#define DKIM_SIGN_KEYS_MAX 4
#define DKIM_SIGN_RSA_MIN_BITS 1024

/* The header fields signed when present, in this order. */
extern const char *const DKIM_SIGN_HEADERS[];

struct dkim_sign_key {
    enum dkim_alg alg; /* rsa-sha256 or ed25519-sha256, from the key */
    EVP_PKEY *pkey;
};

/* Loads a private key: PEM (PKCS#1 RSA, or PKCS#8 RSA or Ed25519), or
 * the base64 of a 32-byte Ed25519 seed (RFC 8463's examples, dkimpy's
 * .key files). Returns 0, or -1 with the reason in err. */
int dkim_sign_key_load(const char *text, size_t len, struct dkim_sign_key *key,
                       struct buf *err);
void dkim_sign_key_free(struct dkim_sign_key *key);

struct dkim_sign_params {
    const char *domain;   /* d= */
    const char *selector; /* s= */
    const char *identity; /* i=; NULL: none (it is then "@d") */
    enum dkim_canon header_canon, body_canon; /* relaxed, relaxed */
    time_t timestamp;  /* t=; 0: none */
    time_t expiration; /* x=; 0: none */
    /* Header names to sign instead of DKIM_SIGN_HEADERS (NULL-ended);
     * From is over-signed either way. */
    const char *const *headers;
    /* Line ends of the fields made: "\r\n" (the default) or "\n". */
    const char *eol;
};

void dkim_sign_params_init(struct dkim_sign_params *params);

struct dkim_signer;

/* One signature per key, with the same d=, s= (keys[i] may use
 * selectors[i] when given: NULL for params->selector for every key).
 * The keys must outlive the signer. Returns NULL with the reason in err
 * when the parameters cannot make a valid signature. */
struct dkim_signer *dkim_signer_new(const struct dkim_sign_params *params,
                                    const struct dkim_sign_key *const *keys,
                                    const char *const *selectors,
                                    size_t key_count, struct buf *err);
void dkim_signer_free(struct dkim_signer *s);

void dkim_signer_feed(struct dkim_signer *s, const char *data, size_t len);

/* Ends the message and appends the DKIM-Signature fields (folded, each
 * ending with eol) to out. Returns 0, or -1 with the reason in err. */
int dkim_signer_finish(struct dkim_signer *s, struct buf *out, struct buf *err);

/* For tests that reproduce a known signature: ends the message and
 * signs with key k the given DKIM-Signature field (lines joined by
 * CRLF or LF; its b= value is left out, its bh= must equal this body's
 * hash), setting b64 to the b= value. Returns 0, or -1 with err. */
int dkim_signer_sign_field(struct dkim_signer *s, size_t k, const char *field,
                           size_t len, struct buf *b64, struct buf *err);

#endif
