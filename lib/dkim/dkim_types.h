/* dkim_types.h: what the DKIM modules share: algorithms,
 * canonicalizations, and the per-signature results of RFC 8601's "dkim"
 * method that Authentication-Results, DMARC and ARC consume. */
#ifndef POSTERN_DKIM_TYPES_H
#define POSTERN_DKIM_TYPES_H

enum dkim_alg {
    DKIM_ALG_RSA_SHA256,
    DKIM_ALG_ED25519_SHA256, /* RFC 8463 */
    DKIM_ALG_RSA_SHA1,       /* parsed; never passes (RFC 8301) */
};

enum dkim_canon {
    DKIM_CANON_SIMPLE,
    DKIM_CANON_RELAXED,
};

enum dkim_key_type {
    DKIM_KEY_RSA,
    DKIM_KEY_ED25519,
};

/* RFC 8601 section 2.7.1. NONE is for a message without signatures. */
enum dkim_result {
    DKIM_RESULT_NONE,
    DKIM_RESULT_PASS,
    DKIM_RESULT_FAIL,
    DKIM_RESULT_NEUTRAL,
    DKIM_RESULT_POLICY,
    DKIM_RESULT_TEMPERROR,
    DKIM_RESULT_PERMERROR,
};

/* "pass", "fail", ... as written in Authentication-Results. */
const char *dkim_result_name(enum dkim_result result);
/* "rsa-sha256", "ed25519-sha256", "rsa-sha1". */
const char *dkim_alg_name(enum dkim_alg alg);
/* "simple" or "relaxed". */
const char *dkim_canon_name(enum dkim_canon canon);

#endif
