/* dkim_key.c: the DKIM key record parser (see dkim_key.h). */
#include "dkim/dkim_key.h"

#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/x509.h>

#include "base/base64.h"
#include "dkim/dkim_tags.h"

void dkim_key_init(struct dkim_key *key)
{
    memset(key, 0, sizeof(*key));
}

void dkim_key_free(struct dkim_key *key)
{
    EVP_PKEY_free(key->pkey);
    memset(key, 0, sizeof(*key));
}

static int fail(struct buf *reason, const char *why)
{
    buf_set_str(reason, why);
    return -1;
}

/* Calls fn for each item of a colon-separated list (whitespace around
 * items dropped). */
static void for_each_item(const struct dkim_tag *tag,
                          void (*fn)(const char *item, size_t len, void *ctx),
                          void *ctx)
{
    struct buf list = BUF_INIT;
    dkim_tag_value_compact(tag, &list);
    const char *p = list.data, *end = list.data + list.len;
    while (p < end) {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        const char *stop = colon ? colon : end;
        fn(p, (size_t)(stop - p), ctx);
        p = stop + 1;
    }
    buf_free(&list);
}

static void add_hash(const char *item, size_t len, void *ctx)
{
    unsigned *hashes = ctx;
    if (len == 6 && strncasecmp(item, "sha256", 6) == 0)
        *hashes |= DKIM_KEY_HASH_SHA256;
    else if (len == 4 && strncasecmp(item, "sha1", 4) == 0)
        *hashes |= DKIM_KEY_HASH_SHA1;
}

static void add_service(const char *item, size_t len, void *ctx)
{
    int *email = ctx;
    if ((len == 1 && item[0] == '*') ||
        (len == 5 && strncasecmp(item, "email", 5) == 0))
        *email = 1;
}

static void add_flag(const char *item, size_t len, void *ctx)
{
    struct dkim_key *key = ctx;
    if (len == 1 && item[0] == 'y')
        key->testing = 1;
    else if (len == 1 && item[0] == 's')
        key->strict = 1;
}

static EVP_PKEY *decode_rsa_pkcs1(const unsigned char *der, size_t len)
{
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(
        &pkey, "DER", "type-specific", "RSA", EVP_PKEY_PUBLIC_KEY, NULL, NULL);
    if (dctx == NULL)
        return NULL;
    const unsigned char *p = der;
    size_t left = len;
    if (OSSL_DECODER_from_data(dctx, &p, &left) != 1 || left != 0) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dctx);
    return pkey;
}

EVP_PKEY *dkim_key_decode_public(enum dkim_key_type type,
                                 const unsigned char *der, size_t len)
{
    if (type == DKIM_KEY_ED25519)
        return len == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
                                                        der, len)
                         : NULL;
    const unsigned char *p = der;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)len);
    if (pkey != NULL && (p != der + len || !EVP_PKEY_is_a(pkey, "RSA"))) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    if (pkey == NULL)
        pkey = decode_rsa_pkcs1(der, len);
    return pkey;
}

int dkim_key_parse(const char *txt, size_t len, struct dkim_key *key,
                   struct buf *reason)
{
    dkim_key_free(key);
    if (len > DKIM_KEY_RECORD_MAX)
        return fail(reason, "key record too long");
    struct dkim_tag_list tags;
    struct buf err = BUF_INIT;
    if (dkim_tags_parse(txt, len, &tags, &err) != 0) {
        buf_set_str(reason, "key syntax error: ");
        buf_append(reason, err.data, err.len);
        buf_free(&err);
        return -1;
    }
    buf_free(&err);
    const struct dkim_tag *v = dkim_tags_find(&tags, "v");
    if (v != NULL && (v != &tags.tags[0] || !dkim_tag_is(v, "DKIM1", 0)))
        return fail(reason, "key record version is not DKIM1");

    const struct dkim_tag *k = dkim_tags_find(&tags, "k");
    if (k == NULL || dkim_tag_is(k, "rsa", 1))
        key->type = DKIM_KEY_RSA;
    else if (dkim_tag_is(k, "ed25519", 1))
        key->type = DKIM_KEY_ED25519;
    else
        return fail(reason, "unknown key type");

    const struct dkim_tag *h = dkim_tags_find(&tags, "h");
    key->hashes = DKIM_KEY_HASH_SHA1 | DKIM_KEY_HASH_SHA256;
    if (h != NULL) {
        key->hashes = 0;
        for_each_item(h, add_hash, &key->hashes);
    }
    const struct dkim_tag *s = dkim_tags_find(&tags, "s");
    if (s != NULL) {
        int email = 0;
        for_each_item(s, add_service, &email);
        if (!email)
            return fail(reason, "key is not for email");
    }
    const struct dkim_tag *t = dkim_tags_find(&tags, "t");
    if (t != NULL)
        for_each_item(t, add_flag, key);

    const struct dkim_tag *p = dkim_tags_find(&tags, "p");
    if (p == NULL)
        return fail(reason, "key record lacks p=");
    struct buf data = BUF_INIT;
    dkim_tag_value_compact(p, &data);
    if (data.len == 0) {
        buf_free(&data);
        key->revoked = 1;
        return 0;
    }
    struct buf der = BUF_INIT;
    int ok = base64_decode(data.data, data.len, &der) == 0;
    buf_free(&data);
    if (ok)
        key->pkey = dkim_key_decode_public(
            key->type, (const unsigned char *)der.data, der.len);
    buf_free(&der);
    if (!ok || key->pkey == NULL)
        return fail(reason, "key data does not parse");
    key->bits = EVP_PKEY_get_bits(key->pkey);
    return 0;
}
