/* sasl_login.c: the LOGIN mechanism, server side (the old
 * draft-murchison-sasl-login): challenges "Username:" and "Password:",
 * one response each. An initial response is taken as the user name, as
 * Dovecot and Postfix's clients allow. */
#include <string.h>

#include "auth/sasl.h"

static enum sasl_status login_step(struct sasl_exchange *x,
                                   const unsigned char *in, size_t len,
                                   int has_input, struct buf *out)
{
    if (!has_input) {
        buf_append_str(out, "Username:");
        return SASL_CONTINUE;
    }
    if (x->user == NULL) {
        if (memchr(in, 0, len))
            return sasl_fail(x, "LOGIN: NUL in user name");
        if (sasl_set_user(x, (const char *)in, len) < 0)
            return SASL_FAILURE;
        buf_append_str(out, "Password:");
        return SASL_CONTINUE;
    }
    return sasl_check_password(x, (const char *)in, len);
}

const struct sasl_mech sasl_mech_login = {
    .name = "LOGIN",
    .flags = SASL_MECH_PLAINTEXT,
    .step = login_step,
};
