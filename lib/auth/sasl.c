/* sasl.c: the mechanism table and the exchange object shared by the
 * SASL mechanisms (sasl.h). */
#include "auth/sasl.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"

extern const struct sasl_mech sasl_mech_plain, sasl_mech_login,
    sasl_mech_scram_sha256;

const struct sasl_mech *const sasl_mechs[] = {
    &sasl_mech_plain,
    &sasl_mech_login,
    &sasl_mech_scram_sha256,
    NULL,
};

const struct sasl_mech *sasl_mech_find(const char *name)
{
    for (size_t i = 0; sasl_mechs[i]; i++)
        if (str_equal_nocase(sasl_mechs[i]->name, name))
            return sasl_mechs[i];
    return NULL;
}

void sasl_exchange_init(struct sasl_exchange *x, const struct sasl_mech *mech,
                        const struct sasl_backend *backend)
{
    memset(x, 0, sizeof(*x));
    x->mech = mech;
    x->backend = backend;
    buf_init(&x->reason);
}

enum sasl_status sasl_exchange_step(struct sasl_exchange *x,
                                    const unsigned char *in, size_t len,
                                    int has_input, struct buf *out)
{
    x->steps++;
    return x->mech->step(x, in, len, has_input, out);
}

void sasl_exchange_free(struct sasl_exchange *x)
{
    if (x->mech && x->mech->cleanup)
        x->mech->cleanup(x);
    free(x->user);
    x->user = NULL;
    buf_free(&x->reason);
}

int sasl_set_user(struct sasl_exchange *x, const char *name, size_t len)
{
    if (len == 0 || len > SASL_USER_MAX) {
        sasl_fail(x, len ? "user name too long" : "empty user name");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f) {
            sasl_fail(x, "control character in user name");
            return -1;
        }
    }
    free(x->user);
    x->user = xstrndup(name, len);
    return 0;
}

enum sasl_status sasl_fail(struct sasl_exchange *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_reset(&x->reason);
    buf_vappendf(&x->reason, fmt, ap);
    va_end(ap);
    return SASL_FAILURE;
}

enum sasl_status sasl_check_password(struct sasl_exchange *x,
                                     const char *password, size_t len)
{
    buf_reset(&x->reason);
    switch (x->backend->check_password(x->backend->ctx, x->user, password,
                                       len, &x->reason)) {
    case SASL_CHECK_OK:
        return SASL_SUCCESS;
    case SASL_CHECK_TEMPFAIL:
        return SASL_TEMPFAIL;
    case SASL_CHECK_PENDING:
        return SASL_PENDING;
    default:
        if (x->reason.len == 0)
            buf_append_str(&x->reason, "password mismatch");
        return SASL_FAILURE;
    }
}
