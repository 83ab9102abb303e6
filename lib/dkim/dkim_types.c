/* dkim_types.c: names of the DKIM enums (see dkim_types.h). */
#include "dkim/dkim_types.h"

const char *dkim_result_name(enum dkim_result result)
{
    switch (result) {
    case DKIM_RESULT_NONE: return "none";
    case DKIM_RESULT_PASS: return "pass";
    case DKIM_RESULT_FAIL: return "fail";
    case DKIM_RESULT_NEUTRAL: return "neutral";
    case DKIM_RESULT_POLICY: return "policy";
    case DKIM_RESULT_TEMPERROR: return "temperror";
    case DKIM_RESULT_PERMERROR: return "permerror";
    }
    return "permerror";
}

const char *dkim_alg_name(enum dkim_alg alg)
{
    switch (alg) {
    case DKIM_ALG_RSA_SHA256: return "rsa-sha256";
    case DKIM_ALG_ED25519_SHA256: return "ed25519-sha256";
    case DKIM_ALG_RSA_SHA1: return "rsa-sha1";
    }
    return "rsa-sha256";
}

const char *dkim_canon_name(enum dkim_canon canon)
{
    return canon == DKIM_CANON_RELAXED ? "relaxed" : "simple";
}
