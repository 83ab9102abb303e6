/* scram_client.c: SCRAM-SHA-256, client side; see scram_client.h. The
 * key derivation and HMAC steps are scram.c's, shared with the server
 * side (sasl_scram.c). */
#include "auth/scram_client.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/scram.h"
#include "base/base64.h"
#include "base/mem.h"

enum scram_client_state {
    SCRAM_CLIENT_FIRST,  /* nothing sent yet */
    SCRAM_CLIENT_PROOF,  /* client-first sent, waiting for server-first */
    SCRAM_CLIENT_VERIFY, /* proof sent, waiting for server-final */
    SCRAM_CLIENT_END,    /* server verified (or failed) */
};

struct scram_client {
    enum scram_client_state state;
    char *user;
    char *password;
    struct buf client_first_bare; /* "n=USER,r=CNONCE" */
    struct buf auth_message;      /* for the server signature check */
    unsigned char server_key[SCRAM_KEY_LEN];
    int verified;
    char error[128];
};

struct scram_client *scram_client_new(const char *user, const char *password)
{
    struct scram_client *c = xcalloc(1, sizeof(*c));
    c->user = xstrdup(user);
    c->password = xstrdup(password);
    buf_init(&c->client_first_bare);
    buf_init(&c->auth_message);
    return c;
}

void scram_client_free(struct scram_client *c)
{
    if (c == NULL)
        return;
    OPENSSL_cleanse(c->password, strlen(c->password));
    free(c->password);
    free(c->user);
    buf_free(&c->client_first_bare);
    buf_free(&c->auth_message);
    OPENSSL_cleanse(c->server_key, sizeof(c->server_key));
    free(c);
}

const char *scram_client_error(const struct scram_client *c)
{
    return c->error;
}

int scram_client_verified(const struct scram_client *c)
{
    return c->verified;
}

static int fail(struct scram_client *c, const char *why)
{
    snprintf(c->error, sizeof(c->error), "%s", why);
    c->state = SCRAM_CLIENT_END;
    return -1;
}

/* Appends name as a saslname: ',' as "=2C", '=' as "=3D". */
static void saslname_encode(const char *name, struct buf *out)
{
    for (const char *p = name; *p; p++) {
        if (*p == ',')
            buf_append_str(out, "=2C");
        else if (*p == '=')
            buf_append_str(out, "=3D");
        else
            buf_append_char(out, *p);
    }
}

/* The value of attribute `name` in a comma-separated message: a pointer
 * into text and its length, or NULL. */
static const char *attribute(const char *text, size_t len, char name,
                             size_t *value_len)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        if (item_end - p >= 2 && p[0] == name && p[1] == '=') {
            *value_len = (size_t)(item_end - p - 2);
            return p + 2;
        }
        p = item_end + 1;
    }
    return NULL;
}

static int client_first(struct scram_client *c, struct buf *response)
{
    if (*c->user == '\0')
        return fail(c, "SCRAM: empty user name");
    unsigned char random_bytes[24];
    if (RAND_bytes(random_bytes, sizeof(random_bytes)) != 1)
        return fail(c, "SCRAM: no randomness");
    buf_append_str(&c->client_first_bare, "n=");
    saslname_encode(c->user, &c->client_first_bare);
    buf_append_str(&c->client_first_bare, ",r=");
    base64_encode(random_bytes, sizeof(random_bytes), &c->client_first_bare);
    buf_append_str(response, "n,,");
    buf_append(response, c->client_first_bare.data, c->client_first_bare.len);
    c->state = SCRAM_CLIENT_PROOF;
    return 0;
}

static int client_final(struct scram_client *c, const char *in, size_t len,
                        struct buf *response)
{
    if (len >= 2 && in[0] == 'm' && in[1] == '=')
        return fail(c, "SCRAM: server demands an unknown extension");
    size_t nonce_len, salt_len, count_len;
    const char *nonce = attribute(in, len, 'r', &nonce_len);
    const char *salt_text = attribute(in, len, 's', &salt_len);
    const char *count_text = attribute(in, len, 'i', &count_len);
    if (nonce == NULL || salt_text == NULL || count_text == NULL)
        return fail(c, "SCRAM: malformed server-first message");
    /* Our nonce ("r=" in client-first-bare) must start the server's, and
     * the server must have added something. */
    const char *ours = strstr(buf_cstr(&c->client_first_bare), ",r=") + 3;
    size_t ours_len = strlen(ours);
    if (nonce_len <= ours_len || memcmp(nonce, ours, ours_len) != 0)
        return fail(c, "SCRAM: server nonce does not extend ours");
    for (size_t i = 0; i < nonce_len; i++)
        if (nonce[i] < 0x21 || nonce[i] > 0x7e)
            return fail(c, "SCRAM: bad server nonce");
    unsigned long count = 0;
    if (count_len == 0 || count_len > 9)
        return fail(c, "SCRAM: bad iteration count");
    for (size_t i = 0; i < count_len; i++) {
        if (count_text[i] < '0' || count_text[i] > '9')
            return fail(c, "SCRAM: bad iteration count");
        count = count * 10 + (unsigned long)(count_text[i] - '0');
    }
    /* Below RFC 7677's 4096 a captured exchange is cheap to attack; above
     * our own bound a hostile server would burn our CPU. */
    if (count < SCRAM_DEFAULT_ITERATIONS || count > SCRAM_MAX_ITERATIONS)
        return fail(c, "SCRAM: iteration count out of range");
    struct buf salt = BUF_INIT;
    if (base64_decode(salt_text, salt_len, &salt) < 0 || salt.len == 0 ||
        salt.len > SCRAM_SALT_MAX) {
        buf_free(&salt);
        return fail(c, "SCRAM: bad salt");
    }
    unsigned char client_key[SCRAM_KEY_LEN], stored_key[SCRAM_KEY_LEN],
        signature[SCRAM_KEY_LEN];
    int derived = scram_client_keys_derive(
        c->password, strlen(c->password), (const unsigned char *)salt.data,
        salt.len, (unsigned)count, client_key, c->server_key);
    buf_free(&salt);
    if (derived < 0)
        return fail(c, "SCRAM: key derivation failed");

    /* client-final-without-proof: "c=biws" is base64("n,,"). */
    struct buf without_proof = BUF_INIT;
    buf_append_str(&without_proof, "c=biws,r=");
    buf_append(&without_proof, nonce, nonce_len);
    buf_append(&c->auth_message, c->client_first_bare.data,
               c->client_first_bare.len);
    buf_append_char(&c->auth_message, ',');
    buf_append(&c->auth_message, in, len);
    buf_append_char(&c->auth_message, ',');
    buf_append(&c->auth_message, without_proof.data, without_proof.len);

    scram_hash(client_key, SCRAM_KEY_LEN, stored_key);
    scram_hmac(stored_key, SCRAM_KEY_LEN, c->auth_message.data,
               c->auth_message.len, signature);
    unsigned char proof[SCRAM_KEY_LEN];
    for (size_t i = 0; i < SCRAM_KEY_LEN; i++)
        proof[i] = client_key[i] ^ signature[i];
    buf_append(response, without_proof.data, without_proof.len);
    buf_append_str(response, ",p=");
    base64_encode(proof, SCRAM_KEY_LEN, response);
    OPENSSL_cleanse(client_key, sizeof(client_key));
    OPENSSL_cleanse(proof, sizeof(proof));
    buf_free(&without_proof);
    c->state = SCRAM_CLIENT_VERIFY;
    return 0;
}

static int verify_server(struct scram_client *c, const char *in, size_t len)
{
    size_t value_len;
    if (attribute(in, len, 'e', &value_len) != NULL)
        return fail(c, "SCRAM: the server refused the proof");
    const char *value = attribute(in, len, 'v', &value_len);
    struct buf given = BUF_INIT;
    if (value == NULL || base64_decode(value, value_len, &given) < 0 ||
        given.len != SCRAM_KEY_LEN) {
        buf_free(&given);
        return fail(c, "SCRAM: malformed server-final message");
    }
    unsigned char expected[SCRAM_KEY_LEN];
    scram_hmac(c->server_key, SCRAM_KEY_LEN, c->auth_message.data,
               c->auth_message.len, expected);
    int same = CRYPTO_memcmp(expected, given.data, SCRAM_KEY_LEN) == 0;
    buf_free(&given);
    if (!same)
        return fail(c, "SCRAM: the server's signature is wrong");
    c->verified = 1;
    c->state = SCRAM_CLIENT_END;
    return 0;
}

int scram_client_step(void *ctx, const char *challenge, size_t len,
                      struct buf *response)
{
    struct scram_client *c = ctx;
    if (challenge != NULL && memchr(challenge, '\0', len))
        return fail(c, "SCRAM: NUL in a server message");
    switch (c->state) {
    case SCRAM_CLIENT_FIRST:
        if (challenge != NULL && len != 0)
            return fail(c, "SCRAM: the server spoke first");
        return client_first(c, response);
    case SCRAM_CLIENT_PROOF:
        if (challenge == NULL)
            return fail(c, "SCRAM: no server-first message");
        return client_final(c, challenge, len, response);
    case SCRAM_CLIENT_VERIFY:
        if (challenge == NULL)
            return fail(c, "SCRAM: no server-final message");
        return verify_server(c, challenge, len); /* empty response */
    case SCRAM_CLIENT_END:
        break;
    }
    return fail(c, "SCRAM: unexpected challenge after the exchange");
}
