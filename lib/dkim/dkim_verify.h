/* dkim_verify.h: DKIM verification (RFC 6376 section 6, RFC 8463) of a
 * message streamed in chunks, with a result per signature for
 * Authentication-Results, DMARC and ARC.
 *
 * Use:
 *   v = dkim_verify_new(now);
 *   dkim_verify_feed(v, chunk, len) ...   as the message comes
 *   once dkim_verify_headers_done(v): for i < dkim_verify_count(v), look
 *     up TXT dkim_verify_key_name(v, i) (NULL: none needed) and give the
 *     answer to dkim_verify_key_answer(v, i, ...), at any time before
 *     dkim_verify_finish (lib/dkim/dkim_lookup does it with lib/dns);
 *   dkim_verify_end(v);                    the end of the message
 *   dkim_verify_finish(v);                 results, then
 *   dkim_verify_result(v, i) ...
 *
 * The header section is kept (bounded by lib/message/header's limits)
 * until the header hashes are taken; the body is never kept: each
 * signature's body hash is updated as chunks come.
 *
 * Results (RFC 8601 2.7.1), and the reasons given:
 *   pass        the signature verified
 *   fail        body hash or signature did not verify, x= has passed,
 *               l= is longer than the body
 *   neutral     the DKIM-Signature has a syntax error, an unknown
 *               version, algorithm or canonicalization
 *   policy      rsa-sha1 (RFC 8301: never valid), an RSA key under 1024
 *               bits (RFC 8301), t= more than DKIM_FUTURE_SLACK ahead
 *   temperror   the key lookup failed for now (or was not made)
 *   permerror   no key record, a key record that does not parse, a
 *               revoked key, a key not for this algorithm or hash, t=s
 *               with i= below d=, From not signed
 * At most DKIM_VERIFY_MAX signatures are evaluated, the first ones in
 * the header; later ones are counted in dkim_verify_ignored(). */
#ifndef POSTERN_DKIM_VERIFY_H
#define POSTERN_DKIM_VERIFY_H

#include <stddef.h>
#include <time.h>

#include "dkim/dkim_types.h"
#include "dns/dns_rr.h"

#define DKIM_VERIFY_MAX 16
#define DKIM_FUTURE_SLACK 3600 /* seconds a t= may be ahead of our clock */
#define DKIM_RSA_MIN_BITS 1024

struct dkim_verify;

struct dkim_verify_result {
    enum dkim_result result;
    const char *reason;   /* "" on pass */
    const char *domain;   /* d=, lower case ("" when it did not parse) */
    const char *selector; /* s=, lower case ("" when it did not parse) */
    const char *identity; /* i= (or "@d"; "" when it did not parse) */
    const char *algorithm; /* "rsa-sha256", ...; "" when unknown */
    const char *b;        /* b= without whitespace (header.b of RFC 6008) */
    int key_bits;         /* of the key used; 0 when none */
    int testing;          /* the key record says t=y */
};

/* now: the clock x= and t= are checked against. */
struct dkim_verify *dkim_verify_new(time_t now);
void dkim_verify_free(struct dkim_verify *v);

void dkim_verify_feed(struct dkim_verify *v, const char *data, size_t len);
/* Whether the header section is complete (signatures are known). */
int dkim_verify_headers_done(const struct dkim_verify *v);
/* Signatures evaluated (<= DKIM_VERIFY_MAX); valid once headers are done. */
size_t dkim_verify_count(const struct dkim_verify *v);
/* DKIM-Signature fields beyond DKIM_VERIFY_MAX, not evaluated. */
size_t dkim_verify_ignored(const struct dkim_verify *v);
/* "selector._domainkey.domain" for signature i, or NULL when its result
 * is already known (no lookup needed). */
const char *dkim_verify_key_name(const struct dkim_verify *v, size_t i);
/* The TXT answer for signature i's key: status and the records (each the
 * strings of one record concatenated). */
void dkim_verify_key_answer(struct dkim_verify *v, size_t i,
                            enum dns_status status, const char *const *txt,
                            const size_t *txt_len, size_t count);
/* The end of the message. */
void dkim_verify_end(struct dkim_verify *v);
/* Decides every signature (ends the message if not done). */
void dkim_verify_finish(struct dkim_verify *v);
/* Signature i's result; valid after dkim_verify_finish, until free. */
const struct dkim_verify_result *dkim_verify_result(const struct dkim_verify *v,
                                                    size_t i);

#endif
