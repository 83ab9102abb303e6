/* dkim_sig.h: the DKIM-Signature header field (RFC 6376 section 3.5,
 * RFC 8463): every tag parsed and checked, bounded sizes.
 *
 * Required: v=1, a=, b=, bh=, d=, h= (which must name From), s=.
 * Checked: c= (simple/relaxed, "relaxed" alone is relaxed/simple), i=
 * (its domain is d= or below; default "@d"), l= (decimal, at most 2^62),
 * q= (a list that holds dns/txt), t= and x= (decimal, x >= t), z= (only
 * that it is a tag). Unknown tags are ignored, as the RFC says. A
 * syntax error gives "neutral" (RFC 8601 2.7.1: "the signature ...
 * contained syntax errors"), so does an unknown version or algorithm. */
#ifndef POSTERN_DKIM_SIG_H
#define POSTERN_DKIM_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/str.h"
#include "dkim/dkim_tags.h"
#include "dkim/dkim_types.h"

#define DKIM_DOMAIN_MAX 253
#define DKIM_SIG_HEADERS_MAX 256 /* names in h= */
#define DKIM_SIG_B_MAX 1024      /* decoded b= (an 8192-bit RSA key: 1024) */
#define DKIM_LENGTH_MAX ((uint64_t)1 << 62)

struct dkim_sig {
    enum dkim_alg alg;
    enum dkim_canon header_canon, body_canon;
    char domain[DKIM_DOMAIN_MAX + 1];   /* d=, lower case */
    char selector[DKIM_DOMAIN_MAX + 1]; /* s=, lower case */
    struct buf identity;                /* i=, or "@" d= */
    struct buf signature;               /* b=, decoded */
    struct buf b_text;                  /* b= as written, whitespace removed */
    unsigned char body_hash[64];        /* bh=, decoded */
    size_t body_hash_len;
    struct strlist headers; /* h=, lower case, in order */
    int has_length;
    uint64_t length; /* l= */
    int has_timestamp, has_expiration;
    int64_t timestamp, expiration; /* t=, x= */
    /* Where the b= value (all between "=" and ";") lies in the text
     * given to dkim_sig_parse, for the header hash. */
    size_t b_raw_start, b_raw_end;
};

void dkim_sig_init(struct dkim_sig *sig);
void dkim_sig_free(struct dkim_sig *sig);

/* Parses the field's value (the text after "DKIM-Signature:", folding
 * included). Returns 0, or -1 with *result (NEUTRAL or PERMERROR) and a
 * short reason in reason. */
int dkim_sig_parse(const char *value, size_t len, struct dkim_sig *sig,
                   enum dkim_result *result, struct buf *reason);

/* Whether name is a domain name as d= and s= need it: labels of
 * letters, digits, "-" and "_", 1 to 63 bytes each, at most 253 in all. */
int dkim_domain_syntax_ok(const char *name, size_t len);

#endif
