/* sasl.h: the server side of the SASL mechanisms the auth service offers
 * (PLAIN, LOGIN, SCRAM-SHA-256), one small file each (sasl_plain.c,
 * sasl_login.c, sasl_scram.c), behind one exchange object.
 *
 * An exchange is driven step by step with the client's decoded bytes
 * (the auth protocol carries them in base64; auth_server.c decodes).
 * Each step answers:
 *   SASL_CONTINUE  send the challenge in `out` and wait for the next
 *                  response;
 *   SASL_SUCCESS   authenticated as x->user;
 *   SASL_FAILURE   refused; x->reason says why for the log (never a
 *                  secret), x->user holds the name tried when known;
 *   SASL_TEMPFAIL  the password data could not be read (x->reason);
 *   SASL_PENDING   the backend checks the password in the background;
 *                  its owner finishes the exchange (auth_server.c).
 * Mechanisms never see password tables: they ask the backend, which
 * auth_server.c implements on the passdb (and where lock-outs apply).
 *
 * Authorization identities follow Dovecot without master users: empty,
 * or equal to the authentication identity; anything else fails. */
#ifndef POSTERN_SASL_H
#define POSTERN_SASL_H

#include <stddef.h>

#include "auth/scram.h"
#include "base/buf.h"

enum sasl_status {
    SASL_CONTINUE,
    SASL_SUCCESS,
    SASL_FAILURE,
    SASL_TEMPFAIL,
    SASL_PENDING,
};

/* What a backend answers. */
enum sasl_check {
    SASL_CHECK_OK,           /* password right / credentials given */
    SASL_CHECK_FAIL,         /* wrong password, unknown or locked user */
    SASL_CHECK_TEMPFAIL,     /* table error */
    SASL_CHECK_UNAVAILABLE,  /* no SCRAM credentials for this user */
    SASL_CHECK_PENDING,      /* the check goes on in the background */
};

struct sasl_backend {
    void *ctx;
    /* Checks password[0..len) for user. May set a reason for the log. */
    enum sasl_check (*check_password)(void *ctx, const char *user,
                                      const char *password, size_t len,
                                      struct buf *reason);
    /* Fills creds with user's SCRAM-SHA-256 credentials. */
    enum sasl_check (*scram_credentials)(void *ctx, const char *user,
                                         struct scram_creds *creds,
                                         struct buf *reason);
};

/* The longest user name a mechanism accepts (bytes). */
#define SASL_USER_MAX 255

#define SASL_MECH_PLAINTEXT 0x1u /* sends the password in the clear */

struct sasl_exchange;

struct sasl_mech {
    const char *name;
    unsigned flags;
    /* One step. has_input is 0 only on the first step of an exchange
     * whose client sent no initial response. */
    enum sasl_status (*step)(struct sasl_exchange *x, const unsigned char *in,
                             size_t len, int has_input, struct buf *out);
    /* Frees x->state (may be NULL). */
    void (*cleanup)(struct sasl_exchange *x);
};

struct sasl_exchange {
    const struct sasl_mech *mech;
    const struct sasl_backend *backend;
    unsigned steps;      /* steps taken so far */
    char *user;          /* authentication identity, once known */
    struct buf reason;   /* why it failed, for the log */
    void *state;         /* the mechanism's own */
};

/* The mechanisms, in the order they are announced; NULL-terminated. */
extern const struct sasl_mech *const sasl_mechs[];

/* The mechanism called name (case-insensitive), or NULL. */
const struct sasl_mech *sasl_mech_find(const char *name);

/* Starts an exchange with mech over backend. */
void sasl_exchange_init(struct sasl_exchange *x, const struct sasl_mech *mech,
                        const struct sasl_backend *backend);
/* One step; see above. out receives the challenge (raw bytes). */
enum sasl_status sasl_exchange_step(struct sasl_exchange *x,
                                    const unsigned char *in, size_t len,
                                    int has_input, struct buf *out);
void sasl_exchange_free(struct sasl_exchange *x);

/* Helpers for the mechanisms (sasl.c). */
/* Sets x->user to name[0..len) when it is an acceptable user name (1..
 * SASL_USER_MAX bytes, no NUL, no control byte); else fails with a
 * reason. Returns 0 or -1. */
int sasl_set_user(struct sasl_exchange *x, const char *name, size_t len);
/* Fails the exchange: sets the reason, returns SASL_FAILURE. */
enum sasl_status sasl_fail(struct sasl_exchange *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Maps a backend answer for a password check to a step result. */
enum sasl_status sasl_check_password(struct sasl_exchange *x,
                                     const char *password, size_t len);

#endif
