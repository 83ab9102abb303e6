/* test_sasl.c: unit tests for the server side of the SASL mechanisms
 * (lib/auth/sasl*.c) against a backend that knows one user, "alice",
 * password "secret": PLAIN's authzid rules, LOGIN's challenges, and a
 * whole SCRAM-SHA-256 exchange with the client's proof computed here. */
#include "unit.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>

#include "auth/sasl.h"
#include "auth/scram.h"
#include "base/base64.h"
#include "base/buf.h"
#include "base/str.h"

static int scram_available = 1;

static enum sasl_check fake_check(void *ctx, const char *user,
                                  const char *password, size_t len,
                                  struct buf *reason)
{
    if (strcmp(user, "alice") != 0)
        return SASL_CHECK_FAIL;
    return len == 6 && memcmp(password, "secret", 6) == 0 ? SASL_CHECK_OK
                                                           : SASL_CHECK_FAIL;
}

static enum sasl_check fake_scram(void *ctx, const char *user,
                                  struct scram_creds *creds,
                                  struct buf *reason)
{
    if (strcmp(user, "alice") != 0)
        return SASL_CHECK_FAIL;
    if (!scram_available)
        return SASL_CHECK_UNAVAILABLE;
    return scram_creds_parse("4096,n+onRzmuokqZcsmjUBD+hg==,"
                             "GVYqFHUKnTp54ixper92HIomU5IiFMWEw7cJyfkppKA=,"
                             "L0MsGO7ZWRqWR+seWsXG/sWCGn9fgCmKkTNFPfRbiRo=",
                             creds, reason) == 0
               ? SASL_CHECK_OK
               : SASL_CHECK_TEMPFAIL;
}

static const struct sasl_backend backend = {NULL, fake_check, fake_scram};

/* Runs one step with in[0..len) (has_input when in != NULL). */
static enum sasl_status step(struct sasl_exchange *x, const char *in,
                             size_t len, struct buf *out)
{
    buf_reset(out);
    return sasl_exchange_step(x, (const unsigned char *)in, len, in != NULL,
                              out);
}

static enum sasl_status plain(const char *msg, size_t len)
{
    struct sasl_exchange x;
    struct buf out = BUF_INIT;
    sasl_exchange_init(&x, sasl_mech_find("plain"), &backend);
    enum sasl_status st = step(&x, msg, len, &out);
    sasl_exchange_free(&x);
    buf_free(&out);
    return st;
}

static void test_plain(void)
{
    CHECK_INT(plain("\0alice\0secret", 13), SASL_SUCCESS);
    CHECK_INT(plain("alice\0alice\0secret", 18), SASL_SUCCESS);
    CHECK_INT(plain("\0alice\0wrong", 12), SASL_FAILURE);
    /* Another authorization identity: no master users. */
    CHECK_INT(plain("bob\0alice\0secret", 16), SASL_FAILURE);
    CHECK_INT(plain("\0alice", 6), SASL_FAILURE);
    CHECK_INT(plain("\0\0secret", 8), SASL_FAILURE);
    CHECK_INT(plain("\0alice\0sec\0ret", 14), SASL_FAILURE);
    CHECK_INT(plain("\0al\tice\0secret", 14), SASL_FAILURE);

    /* Without an initial response: an empty challenge first. */
    struct sasl_exchange x;
    struct buf out = BUF_INIT;
    sasl_exchange_init(&x, sasl_mech_find("PLAIN"), &backend);
    CHECK_INT(step(&x, NULL, 0, &out), SASL_CONTINUE);
    CHECK_INT(out.len, 0);
    CHECK_INT(step(&x, "\0alice\0secret", 13, &out), SASL_SUCCESS);
    CHECK_STR(x.user, "alice");
    sasl_exchange_free(&x);
    buf_free(&out);
}

static void test_login(void)
{
    struct sasl_exchange x;
    struct buf out = BUF_INIT;
    sasl_exchange_init(&x, sasl_mech_find("LOGIN"), &backend);
    CHECK_INT(step(&x, NULL, 0, &out), SASL_CONTINUE);
    CHECK_STR(buf_cstr(&out), "Username:");
    CHECK_INT(step(&x, "alice", 5, &out), SASL_CONTINUE);
    CHECK_STR(buf_cstr(&out), "Password:");
    CHECK_INT(step(&x, "secret", 6, &out), SASL_SUCCESS);
    sasl_exchange_free(&x);

    /* The user name as initial response; a wrong password. */
    sasl_exchange_init(&x, sasl_mech_find("login"), &backend);
    CHECK_INT(step(&x, "alice", 5, &out), SASL_CONTINUE);
    CHECK_STR(buf_cstr(&out), "Password:");
    CHECK_INT(step(&x, "nope", 4, &out), SASL_FAILURE);
    CHECK_STR(x.user, "alice");
    sasl_exchange_free(&x);
    buf_free(&out);
}

/* The client's side of SCRAM-SHA-256 (RFC 5802, section 3), computed
 * here with OpenSSL directly: the final message with its proof, and the
 * server signature expected in server-final. */
static void client_final(const char *gs2, const char *client_first_bare,
                         const char *server_first, const char *password,
                         struct buf *final, struct buf *expected_server_final)
{
    const char *salt = strstr(server_first, ",s=") + 3;
    const char *iter = strstr(server_first, ",i=") + 3;
    struct buf salt_raw = BUF_INIT;
    CHECK_INT(base64_decode(salt, (size_t)(iter - 3 - salt), &salt_raw), 0);
    unsigned char salted[32], client_key[32], stored_key[32], signature[32],
        server_key[32], proof[32];
    unsigned len = 32;
    PKCS5_PBKDF2_HMAC(password, (int)strlen(password),
                      (unsigned char *)salt_raw.data, (int)salt_raw.len,
                      atoi(iter), EVP_sha256(), 32, salted);
    HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Client Key", 10,
         client_key, &len);
    SHA256(client_key, 32, stored_key);
    buf_reset(final);
    buf_append_str(final, "c=");
    base64_encode(gs2, strlen(gs2), final);
    buf_append_str(final, ",r=");
    buf_append(final, server_first + 2,
               (size_t)(strstr(server_first, ",s=") - server_first - 2));
    struct buf auth_message = BUF_INIT;
    buf_appendf(&auth_message, "%s,%s,%s", client_first_bare, server_first,
                buf_cstr(final));
    HMAC(EVP_sha256(), stored_key, 32, (unsigned char *)auth_message.data,
         auth_message.len, signature, &len);
    for (int i = 0; i < 32; i++)
        proof[i] = client_key[i] ^ signature[i];
    buf_append_str(final, ",p=");
    base64_encode(proof, 32, final);
    HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Server Key", 10,
         server_key, &len);
    HMAC(EVP_sha256(), server_key, 32, (unsigned char *)auth_message.data,
         auth_message.len, signature, &len);
    buf_reset(expected_server_final);
    buf_append_str(expected_server_final, "v=");
    base64_encode(signature, 32, expected_server_final);
    buf_free(&auth_message);
    buf_free(&salt_raw);
}

/* A whole exchange; returns the status of the final step. */
static enum sasl_status scram(const char *user, const char *password,
                              const char *gs2)
{
    struct sasl_exchange x;
    struct buf out = BUF_INIT, first = BUF_INIT, final = BUF_INIT,
               expected = BUF_INIT;
    sasl_exchange_init(&x, sasl_mech_find("SCRAM-SHA-256"), &backend);
    char bare[128];
    snprintf(bare, sizeof(bare), "n=%s,r=rOprNGfwEbeRWgbNEkqO", user);
    buf_appendf(&first, "%s%s", gs2, bare);
    enum sasl_status st = step(&x, first.data, first.len, &out);
    if (st == SASL_CONTINUE) {
        CHECK(str_has_prefix(buf_cstr(&out), "r=rOprNGfwEbeRWgbNEkqO"));
        client_final(gs2, bare, buf_cstr(&out), password, &final, &expected);
        st = step(&x, final.data, final.len, &out);
        if (st == SASL_CONTINUE) {
            CHECK_STR(buf_cstr(&out), buf_cstr(&expected));
            st = step(&x, "", 0, &out);
        }
    }
    sasl_exchange_free(&x);
    buf_free(&out);
    buf_free(&first);
    buf_free(&final);
    buf_free(&expected);
    return st;
}

static void test_scram(void)
{
    CHECK_INT(scram("alice", "secret", "n,,"), SASL_SUCCESS);
    CHECK_INT(scram("alice", "wrong", "n,,"), SASL_FAILURE);
    /* An unknown user runs to the end and fails like a wrong password. */
    CHECK_INT(scram("bob", "secret", "n,,"), SASL_FAILURE);
    CHECK_INT(scram("alice", "secret", "n,a=alice,"), SASL_SUCCESS);
    CHECK_INT(scram("alice", "secret", "n,a=bob,"), SASL_FAILURE);
    /* Channel binding is not offered. */
    CHECK_INT(scram("alice", "secret", "p=tls-unique,,"), SASL_FAILURE);
    scram_available = 0;
    CHECK_INT(scram("alice", "secret", "n,,"), SASL_FAILURE);
    scram_available = 1;
}

static void test_scram_malformed(void)
{
    static const char *const bad[] = {
        "", "n", "x,,n=alice,r=abc", "n,,r=abc", "n,,n=alice",
        "n,,n=al=2Xice,r=abc", "n,,n=alice,r=", "n,,n=,r=abc",
        "n,b=x,n=alice,r=abc",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct sasl_exchange x;
        struct buf out = BUF_INIT;
        sasl_exchange_init(&x, sasl_mech_find("SCRAM-SHA-256"), &backend);
        CHECK_INT(step(&x, bad[i], strlen(bad[i]), &out), SASL_FAILURE);
        CHECK(x.reason.len > 0);
        sasl_exchange_free(&x);
        buf_free(&out);
    }
    /* A client-final with another nonce or binding fails. */
    struct sasl_exchange x;
    struct buf out = BUF_INIT;
    sasl_exchange_init(&x, sasl_mech_find("SCRAM-SHA-256"), &backend);
    CHECK_INT(step(&x, "n,,n=alice,r=abc", 16, &out), SASL_CONTINUE);
    CHECK_INT(step(&x, "c=biws,r=abc,p=AAAA", 19, &out), SASL_FAILURE);
    sasl_exchange_free(&x);
    buf_free(&out);
}

int main(void)
{
    UNIT_RUN(test_plain);
    UNIT_RUN(test_login);
    UNIT_RUN(test_scram);
    UNIT_RUN(test_scram_malformed);
    return unit_summary();
}
