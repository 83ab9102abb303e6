/* sasl_plain.c: the PLAIN mechanism, server side (RFC 4616):
 * one message "authzid NUL authcid NUL password". The authorization
 * identity must be empty or the authentication identity itself (no
 * master users). An exchange without an initial response first sends
 * an empty challenge. */
#include <string.h>

#include "auth/sasl.h"

static enum sasl_status plain_step(struct sasl_exchange *x,
                                   const unsigned char *in, size_t len,
                                   int has_input, struct buf *out)
{
    if (!has_input)
        return SASL_CONTINUE; /* empty challenge */
    if (x->steps > 2)
        return sasl_fail(x, "PLAIN: unexpected response");
    const char *text = (const char *)in;
    const char *nul1 = memchr(text, 0, len);
    const char *nul2 =
        nul1 ? memchr(nul1 + 1, 0, len - (size_t)(nul1 + 1 - text)) : NULL;
    if (nul2 == NULL)
        return sasl_fail(x, "PLAIN: malformed response");
    size_t authzid_len = (size_t)(nul1 - text);
    const char *authcid = nul1 + 1;
    size_t authcid_len = (size_t)(nul2 - authcid);
    const char *password = nul2 + 1;
    size_t password_len = len - (size_t)(password - text);
    if (memchr(password, 0, password_len))
        return sasl_fail(x, "PLAIN: malformed response");
    if (sasl_set_user(x, authcid, authcid_len) < 0)
        return SASL_FAILURE;
    if (authzid_len != 0 &&
        (authzid_len != authcid_len || memcmp(text, authcid, authcid_len) != 0))
        return sasl_fail(x, "PLAIN: authorization identity differs "
                            "(master users not supported)");
    return sasl_check_password(x, password, password_len);
}

const struct sasl_mech sasl_mech_plain = {
    .name = "PLAIN",
    .flags = SASL_MECH_PLAINTEXT,
    .step = plain_step,
};
