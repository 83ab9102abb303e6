/* password.c: the scheme table and the dispatch behind password.h:
 * splits "{SCHEME}data", finds the scheme (case-insensitive, with the
 * ".HEX"/".B64" encoding suffixes where they apply), and hands the data
 * to its family in pw_crypt.c, pw_argon2.c or pw_digest.c. */
#include "auth/password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "auth/pw_impl.h"
#include "auth/scram.h"
#include "base/mem.h"
#include "base/str.h"

enum pw_family {
    PW_FAMILY_CRYPT,
    PW_FAMILY_ARGON2,
    PW_FAMILY_SALTED_DIGEST,
    PW_FAMILY_PLAIN,
    PW_FAMILY_SCRAM,
};

struct pw_scheme {
    const char *name;        /* as Dovecot spells it */
    enum pw_family family;
    const char *digest_name; /* the OpenSSL digest of a salted digest */
};

static const struct pw_scheme pw_schemes[] = {
    {"SHA512-CRYPT", PW_FAMILY_CRYPT, NULL},
    {"SHA256-CRYPT", PW_FAMILY_CRYPT, NULL},
    {"BLF-CRYPT", PW_FAMILY_CRYPT, NULL},
    {"CRYPT", PW_FAMILY_CRYPT, NULL},
    {"MD5-CRYPT", PW_FAMILY_CRYPT, NULL},
    {"DES-CRYPT", PW_FAMILY_CRYPT, NULL},
    {"ARGON2ID", PW_FAMILY_ARGON2, NULL},
    {"ARGON2I", PW_FAMILY_ARGON2, NULL},
    {"SSHA512", PW_FAMILY_SALTED_DIGEST, "SHA512"},
    {"SSHA256", PW_FAMILY_SALTED_DIGEST, "SHA256"},
    {"SCRAM-SHA-256", PW_FAMILY_SCRAM, NULL},
    {"PLAIN", PW_FAMILY_PLAIN, NULL},
    /* Dovecot's other names for PLAIN. */
    {"CLEARTEXT", PW_FAMILY_PLAIN, NULL},
    {"CLEAR", PW_FAMILY_PLAIN, NULL},
};

/* Longest scheme name we accept inside the braces, suffix included. */
#define PW_SCHEME_NAME_MAX 32

/* Finds the scheme called name[0..len), setting *hex_encoded from a
 * ".HEX" suffix (".B64"/".BASE64" select base64, the default). Only the
 * salted digests take a suffix. NULL when unknown. */
static const struct pw_scheme *pw_scheme_find(const char *name, size_t len,
                                              int *hex_encoded)
{
    char folded[PW_SCHEME_NAME_MAX + 1];
    if (len == 0 || len > PW_SCHEME_NAME_MAX)
        return NULL;
    memcpy(folded, name, len);
    folded[len] = 0;
    for (char *p = folded; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    *hex_encoded = 0;
    int has_suffix = 0;
    char *dot = strchr(folded, '.');
    if (dot) {
        if (strcmp(dot, ".HEX") == 0)
            *hex_encoded = 1;
        else if (strcmp(dot, ".B64") != 0 && strcmp(dot, ".BASE64") != 0)
            return NULL;
        *dot = 0;
        has_suffix = 1;
    }
    for (size_t i = 0; i < sizeof(pw_schemes) / sizeof(pw_schemes[0]); i++) {
        if (strcmp(folded, pw_schemes[i].name) != 0)
            continue;
        if (has_suffix && pw_schemes[i].family != PW_FAMILY_SALTED_DIGEST)
            return NULL;
        return &pw_schemes[i];
    }
    return NULL;
}

int password_scheme_known(const char *name)
{
    int hex_encoded;
    return pw_scheme_find(name, strlen(name), &hex_encoded) != NULL;
}

int pw_bytes_equal(const void *a, size_t a_len, const void *b, size_t b_len)
{
    if (a_len != b_len)
        return 0;
    return CRYPTO_memcmp(a, b, a_len) == 0;
}

int pw_random_bytes(void *out, size_t len, struct buf *err)
{
    if (RAND_bytes(out, (int)len) != 1) {
        if (err)
            buf_append_str(err, "cannot get random bytes for a salt");
        return -1;
    }
    return 0;
}

/* {PLAIN}: both sides go through SHA-256 first, so the comparison takes
 * the same time whatever the lengths are. */
static enum password_result pw_plain_verify(const char *stored,
                                            const char *password,
                                            size_t password_len,
                                            struct buf *err)
{
    unsigned char stored_md[EVP_MAX_MD_SIZE], given_md[EVP_MAX_MD_SIZE];
    unsigned int stored_md_len = 0, given_md_len = 0;
    if (!EVP_Digest(stored, strlen(stored), stored_md, &stored_md_len,
                    EVP_sha256(), NULL) ||
        !EVP_Digest(password, password_len, given_md, &given_md_len,
                    EVP_sha256(), NULL)) {
        if (err)
            buf_append_str(err, "{PLAIN}: SHA-256 failed");
        return PASSWORD_ERROR;
    }
    return pw_bytes_equal(stored_md, stored_md_len, given_md, given_md_len)
               ? PASSWORD_MATCH
               : PASSWORD_MISMATCH;
}

enum password_result password_verify(const char *stored,
                                     const char *password, size_t password_len,
                                     const char *default_scheme,
                                     struct buf *err)
{
    const char *scheme_name, *data;
    size_t scheme_len;
    if (stored[0] == '{') {
        const char *brace_end = strchr(stored, '}');
        if (brace_end == NULL) {
            if (err)
                buf_append_str(err, "malformed {SCHEME} prefix: no '}'");
            return PASSWORD_ERROR;
        }
        scheme_name = stored + 1;
        scheme_len = (size_t)(brace_end - scheme_name);
        data = brace_end + 1;
    } else if (default_scheme != NULL) {
        scheme_name = default_scheme;
        scheme_len = strlen(default_scheme);
        data = stored;
    } else {
        if (err)
            buf_append_str(err, "no {SCHEME} prefix and no default scheme");
        return PASSWORD_ERROR;
    }

    int hex_encoded = 0;
    const struct pw_scheme *scheme =
        pw_scheme_find(scheme_name, scheme_len, &hex_encoded);
    if (scheme == NULL) {
        if (err) {
            /* The name only, cut short, never the data after it. */
            int shown = scheme_len > PW_SCHEME_NAME_MAX ? PW_SCHEME_NAME_MAX
                                                        : (int)scheme_len;
            buf_appendf(err, "unknown password scheme {%.*s}", shown,
                        scheme_name);
        }
        return PASSWORD_ERROR;
    }
    if (*data == 0) {
        if (err)
            buf_appendf(err, "{%s}: no password is stored", scheme->name);
        return PASSWORD_ERROR;
    }
    if (password_len > PASSWORD_MAX_LEN)
        return PASSWORD_MISMATCH;

    switch (scheme->family) {
    case PW_FAMILY_CRYPT:
        return pw_crypt_verify(scheme->name, data, password, password_len,
                               err);
    case PW_FAMILY_ARGON2:
        return pw_argon2_verify(scheme->name, data, password, password_len,
                                err);
    case PW_FAMILY_SALTED_DIGEST:
        return pw_salted_digest_verify(scheme->name, scheme->digest_name,
                                       hex_encoded, data, password,
                                       password_len, err);
    case PW_FAMILY_PLAIN:
        return pw_plain_verify(data, password, password_len, err);
    case PW_FAMILY_SCRAM: {
        struct scram_creds creds;
        struct buf why = BUF_INIT;
        if (scram_creds_parse(data, &creds, &why) < 0) {
            if (err)
                buf_append_str(err, buf_cstr(&why));
            buf_free(&why);
            return PASSWORD_ERROR;
        }
        buf_free(&why);
        return scram_password_matches(&creds, password, password_len)
                   ? PASSWORD_MATCH
                   : PASSWORD_MISMATCH;
    }
    }
    return PASSWORD_ERROR;
}

int password_hash(const char *scheme, const char *password,
                  size_t password_len, struct buf *out, struct buf *err)
{
    if (scheme == NULL)
        scheme = PASSWORD_DEFAULT_SCHEME;
    if (memchr(password, 0, password_len) != NULL) {
        if (err)
            buf_append_str(err, "a password may not hold a NUL byte");
        return -1;
    }
    if (password_len > PASSWORD_MAX_LEN) {
        if (err)
            buf_appendf(err, "a password may not be longer than %d bytes",
                        PASSWORD_MAX_LEN);
        return -1;
    }
    /* password_len bytes without a NUL: crypt needs a C string. */
    char *text = xmemdup(password, password_len);

    /* The hash goes to a buffer of its own first, so out is left as it
     * was when making it fails. */
    struct buf hashed = BUF_INIT;
    const char *prefix = NULL;
    int result;
    if (str_equal_nocase(scheme, "ARGON2ID")) {
        prefix = "{ARGON2ID}";
        result = pw_argon2id_hash(text, password_len, &hashed, err);
    } else if (str_equal_nocase(scheme, "SHA512-CRYPT")) {
        prefix = "{SHA512-CRYPT}";
        result = pw_crypt_hash_sha512(text, &hashed, err);
    } else {
        if (err)
            buf_appendf(err,
                        "cannot make new {%s} hashes (ARGON2ID or "
                        "SHA512-CRYPT)",
                        scheme);
        result = -1;
    }
    if (result == 0) {
        buf_append_str(out, prefix);
        buf_append(out, hashed.data, hashed.len);
    }
    buf_free(&hashed);
    OPENSSL_cleanse(text, password_len);
    free(text);
    return result;
}
