/* pw_argon2.c: the {ARGON2ID} and {ARGON2I} schemes through the
 * reference libargon2.
 *
 * Dovecot stores the encoded form libsodium and libargon2 share:
 *   $argon2id$v=19$m=65536,t=3,p=1$<salt, base64>$<hash, base64>
 * The string says which variant made it; as Dovecot (libsodium's
 * crypto_pwhash_str_verify) does, we go by the string, so an {ARGON2I}
 * label on an argon2id string verifies. Before libargon2 sees a string
 * we read its costs and refuse ones past PASSWORD_ARGON2_MAX_*: the
 * memory cost is allocated on every login. */
#include <argon2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/pw_impl.h"
#include "base/mem.h"

/* Reads "NAME=DIGITS" at *p into *value (at most 2^32 - 1), moving *p
 * past it. 0, or -1 when it is not there or out of range. */
static int argon2_read_param(const char **p, const char *name,
                             uint32_t *value)
{
    size_t name_len = strlen(name);
    if (strncmp(*p, name, name_len) != 0 || (*p)[name_len] != '=')
        return -1;
    const char *digit = *p + name_len + 1;
    uint64_t number = 0;
    const char *start = digit;
    while (*digit >= '0' && *digit <= '9') {
        number = number * 10 + (uint64_t)(*digit - '0');
        if (number > UINT32_MAX)
            return -1;
        digit++;
    }
    if (digit == start)
        return -1;
    *value = (uint32_t)number;
    *p = digit;
    return 0;
}

/* Finds the variant and the costs of an encoded hash. 0, or -1. */
static int argon2_read_costs(const char *hash, argon2_type *type,
                             uint32_t *memory_kib, uint32_t *passes,
                             uint32_t *lanes)
{
    const char *p;
    if (strncmp(hash, "$argon2id$", 10) == 0) {
        *type = Argon2_id;
        p = hash + 10;
    } else if (strncmp(hash, "$argon2i$", 9) == 0) {
        *type = Argon2_i;
        p = hash + 9;
    } else {
        return -1;
    }
    uint32_t version;
    if (strncmp(p, "v=", 2) == 0) {
        if (argon2_read_param(&p, "v", &version) < 0 || *p++ != '$')
            return -1;
    }
    if (argon2_read_param(&p, "m", memory_kib) < 0 || *p++ != ',' ||
        argon2_read_param(&p, "t", passes) < 0 || *p++ != ',' ||
        argon2_read_param(&p, "p", lanes) < 0 || *p != '$')
        return -1;
    return 0;
}

enum password_result pw_argon2_verify(const char *scheme, const char *hash,
                                      const char *password,
                                      size_t password_len, struct buf *err)
{
    argon2_type type;
    uint32_t memory_kib, passes, lanes;
    if (argon2_read_costs(hash, &type, &memory_kib, &passes, &lanes) < 0) {
        if (err)
            buf_appendf(err,
                        "{%s}: the stored hash is not an encoded "
                        "$argon2id$/$argon2i$ string",
                        scheme);
        return PASSWORD_ERROR;
    }
    if (memory_kib > PASSWORD_ARGON2_MAX_MEMORY_KIB ||
        passes > PASSWORD_ARGON2_MAX_PASSES ||
        lanes > PASSWORD_ARGON2_MAX_LANES) {
        if (err)
            buf_appendf(err,
                        "{%s}: the stored hash asks for m=%u,t=%u,p=%u, past "
                        "our limits m=%u,t=%u,p=%u",
                        scheme, memory_kib, passes, lanes,
                        (unsigned)PASSWORD_ARGON2_MAX_MEMORY_KIB,
                        (unsigned)PASSWORD_ARGON2_MAX_PASSES,
                        (unsigned)PASSWORD_ARGON2_MAX_LANES);
        return PASSWORD_ERROR;
    }
    /* libargon2 compares the hashes in constant time itself. */
    int rc = argon2_verify(hash, password, password_len, type);
    if (rc == ARGON2_OK)
        return PASSWORD_MATCH;
    if (rc == ARGON2_VERIFY_MISMATCH)
        return PASSWORD_MISMATCH;
    if (err)
        buf_appendf(err, "{%s}: %s", scheme, argon2_error_message(rc));
    return PASSWORD_ERROR;
}

int pw_argon2id_hash(const char *password, size_t password_len,
                     struct buf *out, struct buf *err)
{
    unsigned char salt[PASSWORD_SALT_BYTES];
    if (pw_random_bytes(salt, sizeof(salt), err) < 0)
        return -1;
    enum { HASH_BYTES = 32 };
    size_t encoded_len = argon2_encodedlen(
        PASSWORD_ARGON2_PASSES, PASSWORD_ARGON2_MEMORY_KIB,
        PASSWORD_ARGON2_LANES, sizeof(salt), HASH_BYTES, Argon2_id);
    char *encoded = xmalloc(encoded_len + 1);
    int rc = argon2id_hash_encoded(
        PASSWORD_ARGON2_PASSES, PASSWORD_ARGON2_MEMORY_KIB,
        PASSWORD_ARGON2_LANES, password, password_len, salt, sizeof(salt),
        HASH_BYTES, encoded, encoded_len + 1);
    if (rc != ARGON2_OK) {
        if (err)
            buf_appendf(err, "argon2id: %s", argon2_error_message(rc));
        free(encoded);
        return -1;
    }
    buf_append_str(out, encoded);
    free(encoded);
    return 0;
}
