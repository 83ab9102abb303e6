/* test_scram_client.c: the client side of SCRAM-SHA-256
 * (lib/auth/scram_client.c) against the server side the auth service
 * runs (lib/auth/sasl_scram.c), whose own test computes proofs
 * independently: a right password logs in and the server's signature
 * checks out; a wrong one is refused by the server; a server that does
 * not extend our nonce, asks for too few iterations, or signs wrongly is
 * refused by the client. Also the SASL security options
 * (lib/auth/sasl_security.c) the smtp client picks mechanisms with. */
#include "unit.h"

#include <openssl/rand.h>

#include "auth/auth_client.h"
#include "auth/sasl.h"
#include "auth/sasl_security.h"
#include "auth/scram.h"
#include "auth/scram_client.h"
#include "base/buf.h"
#include "base/str.h"

static const char *server_password = "pencil stone";

static enum sasl_check no_plain(void *ctx, const char *user,
                                const char *password, size_t len,
                                struct buf *reason)
{
    return SASL_CHECK_FAIL;
}

static enum sasl_check derive(void *ctx, const char *user,
                              struct scram_creds *creds, struct buf *reason)
{
    unsigned char salt[16];
    if (strcmp(user, "us,er=x") != 0 || RAND_bytes(salt, 16) != 1)
        return SASL_CHECK_FAIL;
    return scram_creds_derive(server_password, strlen(server_password), salt,
                              16, 4096, creds) == 0
               ? SASL_CHECK_OK
               : SASL_CHECK_TEMPFAIL;
}

static const struct sasl_backend backend = {NULL, no_plain, derive};

/* How a test server may spoil its messages. */
enum spoil { SPOIL_NONE, SPOIL_NONCE, SPOIL_ITERATIONS, SPOIL_SIGNATURE };

static void spoil_first(struct buf *msg, enum spoil how)
{
    char *text = (char *)buf_cstr(msg);
    if (how == SPOIL_NONCE)
        text[2] = text[2] == 'A' ? 'B' : 'A'; /* first byte of our nonce */
    if (how == SPOIL_ITERATIONS) {
        char *i = strstr(text, ",i=");
        buf_truncate(msg, (size_t)(i - text));
        buf_append_str(msg, ",i=1000");
    }
}

/* Runs a whole exchange; returns the server's last status and sets
 * *client_rc to the client's last step result. */
static enum sasl_status run(const char *user, const char *password,
                            enum spoil how, int *client_rc, int *verified)
{
    struct scram_client *c = scram_client_new(user, password);
    struct sasl_exchange x;
    sasl_exchange_init(&x, sasl_mech_find("SCRAM-SHA-256"), &backend);
    struct buf to_server = BUF_INIT, to_client = BUF_INIT;
    enum sasl_status st = SASL_FAILURE;
    *client_rc = scram_client_step(c, NULL, 0, &to_server);
    for (int round = 0; round < 4 && *client_rc == 0; round++) {
        buf_reset(&to_client);
        st = sasl_exchange_step(&x, (const unsigned char *)to_server.data,
                                to_server.len, 1, &to_client);
        if (st != SASL_CONTINUE)
            break;
        if (round == 0)
            spoil_first(&to_client, how);
        if (round == 1 && how == SPOIL_SIGNATURE)
            ((char *)to_client.data)[3] ^= 1;
        buf_reset(&to_server);
        *client_rc = scram_client_step(c, to_client.data, to_client.len,
                                       &to_server);
    }
    *verified = scram_client_verified(c);
    buf_free(&to_server);
    buf_free(&to_client);
    sasl_exchange_free(&x);
    scram_client_free(c);
    return st;
}

static void test_login(void)
{
    int rc, verified;
    CHECK_INT(run("us,er=x", "pencil stone", SPOIL_NONE, &rc, &verified),
              SASL_SUCCESS);
    CHECK_INT(rc, 0);
    CHECK_INT(verified, 1);
}

static void test_wrong_password(void)
{
    int rc, verified;
    CHECK_INT(run("us,er=x", "pencil", SPOIL_NONE, &rc, &verified),
              SASL_FAILURE);
    CHECK_INT(verified, 0);
}

static void test_hostile_server(void)
{
    int rc, verified;
    run("us,er=x", "pencil stone", SPOIL_NONCE, &rc, &verified);
    CHECK_INT(rc, -1);
    CHECK_INT(verified, 0);
    run("us,er=x", "pencil stone", SPOIL_ITERATIONS, &rc, &verified);
    CHECK_INT(rc, -1);
    run("us,er=x", "pencil stone", SPOIL_SIGNATURE, &rc, &verified);
    CHECK_INT(rc, -1);
    CHECK_INT(verified, 0);

    struct scram_client *c = scram_client_new("u", "p");
    struct buf out = BUF_INIT;
    CHECK_INT(scram_client_step(c, NULL, 0, &out), 0);
    CHECK(strncmp(buf_cstr(&out), "n,,n=u,r=", 9) == 0);
    buf_reset(&out);
    CHECK_INT(scram_client_step(c, "m=ext,r=x", 9, &out), -1);
    CHECK(strstr(scram_client_error(c), "extension") != NULL);
    scram_client_free(c);
    buf_free(&out);
}

static void test_security_options(void)
{
    struct strlist words;
    struct buf err = BUF_INIT;
    unsigned opts = 99;
    strlist_init(&words);
    CHECK_INT(sasl_security_parse(&words, &opts, &err), 0);
    CHECK_INT(opts, 0);
    strlist_add(&words, "NoPlaintext");
    strlist_add(&words, "noanonymous");
    CHECK_INT(sasl_security_parse(&words, &opts, &err), 0);
    CHECK_INT(opts, SASL_SEC_NOPLAINTEXT | SASL_SEC_NOANONYMOUS);
    CHECK(!sasl_security_allows(opts, (unsigned)sasl_client_mech_flags("plain")));
    CHECK(!sasl_security_allows(opts, (unsigned)sasl_client_mech_flags("LOGIN")));
    CHECK(sasl_security_allows(opts,
                               (unsigned)sasl_client_mech_flags("SCRAM-SHA-256")));
    CHECK(!sasl_security_allows(opts, AUTH_MECH_ANONYMOUS));
    CHECK(sasl_security_allows(SASL_SEC_NOANONYMOUS,
                               (unsigned)sasl_client_mech_flags("PLAIN")));
    CHECK(sasl_security_allows(SASL_SEC_MUTUAL_AUTH,
                               (unsigned)sasl_client_mech_flags("SCRAM-SHA-256")));
    CHECK(!sasl_security_allows(SASL_SEC_MUTUAL_AUTH,
                                (unsigned)sasl_client_mech_flags("PLAIN")));
    CHECK(!sasl_security_allows(SASL_SEC_NODICTIONARY,
                                (unsigned)sasl_client_mech_flags("SCRAM-SHA-256")));
    CHECK_INT(sasl_client_mech_flags("CRAM-MD5"), -1);
    strlist_add(&words, "nosuchthing");
    CHECK_INT(sasl_security_parse(&words, &opts, &err), -1);
    CHECK(strstr(buf_cstr(&err), "nosuchthing") != NULL);
    strlist_free(&words);
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_login);
    UNIT_RUN(test_wrong_password);
    UNIT_RUN(test_hostile_server);
    UNIT_RUN(test_security_options);
    return unit_summary();
}
