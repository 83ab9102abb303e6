/* pw_crypt.c: the crypt(3) schemes ({SHA512-CRYPT}, {SHA256-CRYPT},
 * {BLF-CRYPT}, {CRYPT}) through libxcrypt's reentrant crypt_rn and
 * crypt_gensalt_rn.
 *
 * As in Dovecot, the scheme name is a label: the hash string itself
 * ($6$, $5$, $2y$, $y$, a DES salt, ...) tells crypt which algorithm to
 * run, so a {SHA512-CRYPT} entry holding a $5$ string still verifies.
 * Sites copy hashes between schemes' labels by hand, and Dovecot has
 * always accepted that; being stricter would lock those users out. */
#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/pw_impl.h"
#include "base/mem.h"

/* The cost a SHA-crypt ("$5$rounds=N$", "$6$rounds=N$") or bcrypt
 * ("$2y$NN$") string names, and the most we run; 0 when the string names
 * none we cap (the default rounds, another algorithm). */
static unsigned long crypt_cost(const char *hash, unsigned long *limit)
{
    if ((strncmp(hash, "$5$rounds=", 10) == 0 ||
         strncmp(hash, "$6$rounds=", 10) == 0)) {
        unsigned long rounds = 0;
        for (const char *p = hash + 10; *p >= '0' && *p <= '9'; p++) {
            rounds = rounds * 10 + (unsigned long)(*p - '0');
            if (rounds > 1000000000UL)
                break; /* past any cap; stop before it can overflow */
        }
        *limit = PASSWORD_SHA_CRYPT_MAX_ROUNDS;
        return rounds;
    }
    if (hash[0] == '$' && hash[1] == '2' && hash[2] != 0 && hash[3] == '$' &&
        hash[4] >= '0' && hash[4] <= '9' && hash[5] >= '0' && hash[5] <= '9') {
        *limit = PASSWORD_BCRYPT_MAX_COST;
        return (unsigned long)((hash[4] - '0') * 10 + (hash[5] - '0'));
    }
    return 0;
}

enum password_result pw_crypt_verify(const char *scheme, const char *hash,
                                     const char *password, size_t password_len,
                                     struct buf *err)
{
    /* crypt hashes C strings: a password with a NUL cannot be the one
     * that made any crypt hash. */
    if (memchr(password, 0, password_len) != NULL)
        return PASSWORD_MISMATCH;
    unsigned long limit = 0, cost = crypt_cost(hash, &limit);
    if (cost > limit) {
        if (err)
            buf_appendf(err,
                        "{%s}: the stored hash asks for a cost of %lu, past "
                        "our limit of %lu",
                        scheme, cost, limit);
        return PASSWORD_ERROR;
    }
    char *text = xmemdup(password, password_len);
    /* crypt_data is large (about 32 KiB); it must start zeroed. */
    struct crypt_data *work = xcalloc(1, sizeof(*work));
    errno = 0;
    const char *computed = crypt_rn(text, hash, work, (int)sizeof(*work));
    enum password_result result;
    if (computed == NULL || computed[0] == '*') {
        /* crypt_rn fails (EINVAL) on a setting it does not understand:
         * a malformed hash, or an algorithm this libxcrypt lacks. */
        if (err)
            buf_appendf(err,
                        "{%s}: the stored hash is not a crypt(3) format "
                        "this system supports",
                        scheme);
        result = PASSWORD_ERROR;
    } else {
        result = pw_bytes_equal(computed, strlen(computed), hash, strlen(hash))
                     ? PASSWORD_MATCH
                     : PASSWORD_MISMATCH;
    }
    OPENSSL_cleanse(work, sizeof(*work));
    free(work);
    OPENSSL_cleanse(text, password_len);
    free(text);
    return result;
}

int pw_crypt_hash_sha512(const char *password, struct buf *out,
                         struct buf *err)
{
    unsigned char salt_bytes[PASSWORD_SALT_BYTES];
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (pw_random_bytes(salt_bytes, sizeof(salt_bytes), err) < 0)
        return -1;
    /* count 0: libxcrypt's default rounds (5000, written nowhere in the
     * string), which is also what doveadm pw -s SHA512-CRYPT makes. */
    if (crypt_gensalt_rn("$6$", 0, (const char *)salt_bytes,
                         (int)sizeof(salt_bytes), setting,
                         (int)sizeof(setting)) == NULL) {
        if (err)
            buf_appendf(err, "crypt_gensalt_rn($6$) failed: %s",
                        strerror(errno));
        return -1;
    }
    struct crypt_data *work = xcalloc(1, sizeof(*work));
    const char *computed = crypt_rn(password, setting, work, (int)sizeof(*work));
    int result = 0;
    if (computed == NULL || computed[0] == '*') {
        if (err)
            buf_appendf(err, "crypt_rn($6$) failed: %s", strerror(errno));
        result = -1;
    } else {
        buf_append_str(out, computed);
    }
    OPENSSL_cleanse(work, sizeof(*work));
    free(work);
    return result;
}
