/* dkim_sig.c: the DKIM-Signature parser (see dkim_sig.h). */
#include "dkim/dkim_sig.h"

#include <string.h>
#include <strings.h>

#include "base/base64.h"

void dkim_sig_init(struct dkim_sig *sig)
{
    memset(sig, 0, sizeof(*sig));
    buf_init(&sig->identity);
    buf_init(&sig->signature);
    buf_init(&sig->b_text);
    strlist_init(&sig->headers);
}

void dkim_sig_free(struct dkim_sig *sig)
{
    buf_free(&sig->identity);
    buf_free(&sig->signature);
    buf_free(&sig->b_text);
    strlist_free(&sig->headers);
}

int dkim_domain_syntax_ok(const char *name, size_t len)
{
    if (len == 0 || len > DKIM_DOMAIN_MAX)
        return 0;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9') || c == '-' || c == '_') {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return label > 0;
}

static int bad(enum dkim_result *result, struct buf *reason,
               enum dkim_result what, const char *why)
{
    *result = what;
    buf_set_str(reason, why);
    return -1;
}

/* A decimal of 1 to max_digits digits (t= and x= have at most 12). */
static int parse_decimal(const struct dkim_tag *tag, size_t max_digits,
                         uint64_t *out)
{
    if (tag->value_len == 0 || tag->value_len > max_digits)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < tag->value_len; i++) {
        char c = tag->value[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (uint64_t)(c - '0');
    }
    *out = v;
    return 0;
}

static int copy_name(const struct dkim_tag *tag, char *out)
{
    if (!dkim_domain_syntax_ok(tag->value, tag->value_len))
        return -1;
    for (size_t i = 0; i < tag->value_len; i++) {
        char c = tag->value[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[tag->value_len] = '\0';
    return 0;
}

static int parse_canon(const struct dkim_tag *tag, struct dkim_sig *sig)
{
    sig->header_canon = sig->body_canon = DKIM_CANON_SIMPLE;
    if (tag == NULL)
        return 0;
    const char *slash = memchr(tag->value, '/', tag->value_len);
    size_t hlen = slash ? (size_t)(slash - tag->value) : tag->value_len;
    for (int part = 0; part < 2; part++) {
        const char *p = part == 0 ? tag->value : slash + 1;
        size_t n = part == 0 ? hlen : tag->value_len - hlen - 1;
        enum dkim_canon *c = part == 0 ? &sig->header_canon : &sig->body_canon;
        if (n == 6 && memcmp(p, "simple", 6) == 0)
            *c = DKIM_CANON_SIMPLE;
        else if (n == 7 && memcmp(p, "relaxed", 7) == 0)
            *c = DKIM_CANON_RELAXED;
        else
            return -1;
        if (slash == NULL)
            break;
    }
    return 0;
}

/* h=: names separated by ":" with whitespace around them. */
static int parse_headers(const struct dkim_tag *tag, struct dkim_sig *sig)
{
    struct buf list = BUF_INIT;
    dkim_tag_value_compact(tag, &list);
    int ok = list.len > 0;
    const char *p = list.data, *end = list.data + list.len;
    int has_from = 0;
    while (ok && p <= end) {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        const char *stop = colon ? colon : end;
        size_t n = (size_t)(stop - p);
        if (n == 0 || n > 256 || sig->headers.count == DKIM_SIG_HEADERS_MAX) {
            ok = 0;
            break;
        }
        char name[257];
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c <= 32 || c >= 127) /* ftext: printable except ":" */
                ok = 0;
            name[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
        }
        name[n] = '\0';
        if (strcmp(name, "from") == 0)
            has_from = 1;
        strlist_add(&sig->headers, name);
        if (colon == NULL)
            break;
        p = colon + 1;
    }
    buf_free(&list);
    if (!ok)
        return -1;
    return has_from ? 0 : 1;
}

/* The domain part of i= must be d= or a subdomain of it. */
static int identity_ok(const struct dkim_sig *sig)
{
    const char *at = memchr(sig->identity.data, '@', sig->identity.len);
    if (at == NULL)
        return 0;
    const char *dom = at + 1;
    size_t dlen = sig->identity.len - (size_t)(dom - sig->identity.data);
    size_t d = strlen(sig->domain);
    if (dlen == d)
        return strncasecmp(dom, sig->domain, d) == 0;
    return dlen > d && dom[dlen - d - 1] == '.' &&
           strncasecmp(dom + dlen - d, sig->domain, d) == 0;
}

static int decode_b64(const struct dkim_tag *tag, struct buf *out,
                      size_t max, struct buf *text)
{
    struct buf compact = BUF_INIT;
    dkim_tag_value_compact(tag, &compact);
    buf_reset(out);
    int rc = compact.len > 0 && base64_decode(compact.data, compact.len, out) == 0 &&
                     out->len <= max
                 ? 0
                 : -1;
    if (text)
        buf_set(text, compact.data, compact.len);
    buf_free(&compact);
    return rc;
}

/* q=: a colon list that must hold dns/txt. */
static int query_ok(const struct dkim_tag *tag)
{
    struct buf list = BUF_INIT;
    dkim_tag_value_compact(tag, &list);
    int found = 0;
    const char *p = list.data, *end = list.data + list.len;
    while (p < end) {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        const char *stop = colon ? colon : end;
        if (stop - p == 7 && strncasecmp(p, "dns/txt", 7) == 0)
            found = 1;
        p = stop + 1;
    }
    buf_free(&list);
    return found;
}

int dkim_sig_parse(const char *value, size_t len, struct dkim_sig *sig,
                   enum dkim_result *result, struct buf *reason)
{
    struct dkim_tag_list tags;
    struct buf err = BUF_INIT;
    if (dkim_tags_parse(value, len, &tags, &err) != 0) {
        buf_set_str(reason, "signature syntax error: ");
        buf_append(reason, err.data, err.len);
        buf_free(&err);
        *result = DKIM_RESULT_NEUTRAL;
        return -1;
    }
    buf_free(&err);
    const enum dkim_result N = DKIM_RESULT_NEUTRAL;
    static const char *const required[] = {"v", "a", "b", "bh", "d", "h", "s"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (dkim_tags_find(&tags, required[i]) == NULL) {
            *result = N;
            buf_set_str(reason, "signature lacks ");
            buf_append_str(reason, required[i]);
            buf_append_str(reason, "=");
            return -1;
        }
    if (!dkim_tag_is(dkim_tags_find(&tags, "v"), "1", 0))
        return bad(result, reason, N, "signature version is not 1");

    const struct dkim_tag *a = dkim_tags_find(&tags, "a");
    if (dkim_tag_is(a, "rsa-sha256", 1))
        sig->alg = DKIM_ALG_RSA_SHA256;
    else if (dkim_tag_is(a, "ed25519-sha256", 1))
        sig->alg = DKIM_ALG_ED25519_SHA256;
    else if (dkim_tag_is(a, "rsa-sha1", 1))
        sig->alg = DKIM_ALG_RSA_SHA1;
    else
        return bad(result, reason, N, "unknown signature algorithm");

    if (copy_name(dkim_tags_find(&tags, "d"), sig->domain) != 0)
        return bad(result, reason, N, "bad d= domain");
    if (copy_name(dkim_tags_find(&tags, "s"), sig->selector) != 0)
        return bad(result, reason, N, "bad s= selector");
    if (parse_canon(dkim_tags_find(&tags, "c"), sig) != 0)
        return bad(result, reason, N, "unknown canonicalization");

    const struct dkim_tag *b = dkim_tags_find(&tags, "b");
    if (decode_b64(b, &sig->signature, DKIM_SIG_B_MAX, &sig->b_text) != 0)
        return bad(result, reason, N, "bad b= value");
    sig->b_raw_start = b->raw_start;
    sig->b_raw_end = b->raw_end;
    struct buf bh = BUF_INIT;
    int bh_rc = decode_b64(dkim_tags_find(&tags, "bh"), &bh,
                           sizeof(sig->body_hash), NULL);
    if (bh_rc == 0) {
        memcpy(sig->body_hash, bh.data, bh.len);
        sig->body_hash_len = bh.len;
    }
    buf_free(&bh);
    if (bh_rc != 0)
        return bad(result, reason, N, "bad bh= value");

    int hrc = parse_headers(dkim_tags_find(&tags, "h"), sig);
    if (hrc < 0)
        return bad(result, reason, N, "bad h= list");
    if (hrc > 0)
        return bad(result, reason, DKIM_RESULT_PERMERROR,
                   "From is not signed");

    const struct dkim_tag *i = dkim_tags_find(&tags, "i");
    if (i != NULL) {
        if (i->value_len == 0 || memchr(i->value, '@', i->value_len) == NULL)
            return bad(result, reason, N, "bad i= identity");
        buf_set(&sig->identity, i->value, i->value_len);
    } else {
        buf_set_str(&sig->identity, "@");
        buf_append_str(&sig->identity, sig->domain);
    }
    if (!identity_ok(sig))
        return bad(result, reason, N, "i= is not within d=");

    const struct dkim_tag *q = dkim_tags_find(&tags, "q");
    if (q != NULL && !query_ok(q))
        return bad(result, reason, N, "q= lacks dns/txt");

    uint64_t n;
    const struct dkim_tag *l = dkim_tags_find(&tags, "l");
    if (l != NULL) {
        /* RFC 6376 allows 76 digits; more than 2^62 bytes is no body. */
        if (parse_decimal(l, 19, &n) != 0 || n > DKIM_LENGTH_MAX)
            return bad(result, reason, N, "bad l= length");
        sig->has_length = 1;
        sig->length = n;
    }
    const struct dkim_tag *t = dkim_tags_find(&tags, "t");
    if (t != NULL) {
        if (parse_decimal(t, 12, &n) != 0)
            return bad(result, reason, N, "bad t= timestamp");
        sig->has_timestamp = 1;
        sig->timestamp = (int64_t)n;
    }
    const struct dkim_tag *x = dkim_tags_find(&tags, "x");
    if (x != NULL) {
        if (parse_decimal(x, 12, &n) != 0)
            return bad(result, reason, N, "bad x= expiration");
        sig->has_expiration = 1;
        sig->expiration = (int64_t)n;
        if (sig->has_timestamp && sig->expiration < sig->timestamp)
            return bad(result, reason, N, "x= is before t=");
    }
    return 0;
}
