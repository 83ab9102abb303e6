/* dkim_verify.c: the streaming DKIM verifier (see dkim_verify.h). */
#include "dkim/dkim_verify.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/mem.h"
#include "dkim/dkim_canon.h"
#include "dkim/dkim_crypto.h"
#include "dkim/dkim_key.h"
#include "dkim/dkim_reader.h"
#include "dkim/dkim_sig.h"

enum key_state { KEY_UNASKED, KEY_FOUND, KEY_NOTFOUND, KEY_TEMPFAIL, KEY_BAD };

struct verify_sig {
    struct dkim_sig sig;
    int decided; /* result is final before the key and body */
    enum dkim_result result;
    struct buf reason;
    unsigned char header_digest[DKIM_DIGEST_LEN];
    int body_started;
    struct dkim_body body;
    unsigned char body_digest[EVP_MAX_MD_SIZE];
    unsigned body_digest_len;
    char key_name[DKIM_DOMAIN_MAX + 1];
    enum key_state key_state;
    struct dkim_key key;
    struct dkim_verify_result out;
};

struct dkim_verify {
    time_t now;
    struct dkim_reader reader;
    struct verify_sig sigs[DKIM_VERIFY_MAX];
    size_t count, ignored;
    int ended, finished;
};

static void decide(struct verify_sig *s, enum dkim_result result,
                   const char *reason)
{
    s->decided = 1;
    s->result = result;
    buf_set_str(&s->reason, reason);
}

/* The checks that need neither key nor body. */
static void check_early(struct dkim_verify *v, struct verify_sig *s)
{
    if (s->sig.alg == DKIM_ALG_RSA_SHA1)
        decide(s, DKIM_RESULT_POLICY, "rsa-sha1 is not accepted (RFC 8301)");
    else if (s->sig.has_expiration && s->sig.expiration < (int64_t)v->now)
        decide(s, DKIM_RESULT_FAIL, "signature expired");
    else if (s->sig.has_timestamp &&
             s->sig.timestamp > (int64_t)v->now + DKIM_FUTURE_SLACK)
        decide(s, DKIM_RESULT_POLICY, "signature timestamp in the future");
    if (s->decided)
        return;
    struct buf name = BUF_INIT;
    buf_appendf(&name, "%s._domainkey.%s", s->sig.selector, s->sig.domain);
    if (name.len > DKIM_DOMAIN_MAX)
        decide(s, DKIM_RESULT_PERMERROR, "key name too long");
    else
        memcpy(s->key_name, name.data, name.len + 1);
    buf_free(&name);
}

static void start_sig(struct dkim_verify *v, const struct header_field *f)
{
    if (v->count == DKIM_VERIFY_MAX) {
        v->ignored++;
        return;
    }
    struct verify_sig *s = &v->sigs[v->count++];
    dkim_sig_init(&s->sig);
    buf_init(&s->reason);
    const char *colon = memchr(f->raw.data, ':', f->raw.len);
    size_t value_off = colon ? (size_t)(colon + 1 - f->raw.data) : f->raw.len;
    enum dkim_result result;
    if (f->truncated) {
        decide(s, DKIM_RESULT_NEUTRAL, "signature field too long");
        return;
    }
    if (dkim_sig_parse(f->raw.data + value_off, f->raw.len - value_off,
                       &s->sig, &result, &s->reason) != 0) {
        s->decided = 1;
        s->result = result;
        return;
    }
    check_early(v, s);
    if (s->decided)
        return;
    struct buf data = BUF_INIT;
    dkim_canon_header_data(&v->reader.hb, &s->sig.headers, s->sig.header_canon,
                           f->raw.data, f->raw.len,
                           value_off + s->sig.b_raw_start,
                           value_off + s->sig.b_raw_end, &data);
    unsigned len = 0;
    EVP_Digest(data.data, data.len, s->header_digest, &len, EVP_sha256(), NULL);
    buf_free(&data);
    dkim_body_init(&s->body, s->sig.body_canon, EVP_sha256(),
                   s->sig.has_length ? s->sig.length : UINT64_MAX);
    s->body_started = 1;
}

static void on_headers(void *ctx)
{
    struct dkim_verify *v = ctx;
    const struct header_block *hb = &v->reader.hb;
    for (size_t k = 0; k < hb->count; k++)
        if (strcasecmp(hb->fields[k].name, "DKIM-Signature") == 0)
            start_sig(v, &hb->fields[k]);
}

static void on_body(void *ctx, const char *data, size_t len)
{
    struct dkim_verify *v = ctx;
    for (size_t i = 0; i < v->count; i++)
        if (v->sigs[i].body_started)
            dkim_body_feed(&v->sigs[i].body, data, len);
}

struct dkim_verify *dkim_verify_new(time_t now)
{
    struct dkim_verify *v = xcalloc(1, sizeof(*v));
    v->now = now;
    dkim_reader_init(&v->reader, on_headers, on_body, v);
    return v;
}

void dkim_verify_free(struct dkim_verify *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->count; i++) {
        struct verify_sig *s = &v->sigs[i];
        dkim_sig_free(&s->sig);
        buf_free(&s->reason);
        dkim_body_free(&s->body);
        dkim_key_free(&s->key);
    }
    dkim_reader_free(&v->reader);
    free(v);
}

void dkim_verify_feed(struct dkim_verify *v, const char *data, size_t len)
{
    if (!v->ended)
        dkim_reader_feed(&v->reader, data, len);
}

int dkim_verify_headers_done(const struct dkim_verify *v)
{
    return v->reader.headers_done;
}

size_t dkim_verify_count(const struct dkim_verify *v)
{
    return v->count;
}

size_t dkim_verify_ignored(const struct dkim_verify *v)
{
    return v->ignored;
}

const char *dkim_verify_key_name(const struct dkim_verify *v, size_t i)
{
    if (i >= v->count || v->sigs[i].decided)
        return NULL;
    return v->sigs[i].key_name;
}

void dkim_verify_key_answer(struct dkim_verify *v, size_t i,
                            enum dns_status status, const char *const *txt,
                            const size_t *txt_len, size_t count)
{
    if (i >= v->count || v->sigs[i].decided)
        return;
    struct verify_sig *s = &v->sigs[i];
    dkim_key_free(&s->key);
    if (status == DNS_TEMPFAIL) {
        s->key_state = KEY_TEMPFAIL;
        return;
    }
    if (status == DNS_NOTFOUND || count == 0) {
        s->key_state = KEY_NOTFOUND;
        return;
    }
    /* Several records: the first that parses (RFC 6376 3.6.2.2 leaves
     * it undefined); when none does, the first one's reason. */
    struct buf why = BUF_INIT, later = BUF_INIT;
    s->key_state = KEY_BAD;
    for (size_t k = 0; k < count; k++) {
        if (dkim_key_parse(txt[k], txt_len[k], &s->key, k ? &later : &why) == 0) {
            s->key_state = KEY_FOUND;
            break;
        }
    }
    if (s->key_state == KEY_BAD)
        buf_set(&s->reason, why.data, why.len);
    buf_free(&why);
    buf_free(&later);
}

void dkim_verify_end(struct dkim_verify *v)
{
    if (v->ended)
        return;
    v->ended = 1;
    dkim_reader_end(&v->reader);
    for (size_t i = 0; i < v->count; i++) {
        struct verify_sig *s = &v->sigs[i];
        if (s->body_started)
            dkim_body_end(&s->body, s->body_digest, &s->body_digest_len);
    }
    /* The header section is no longer needed. */
    header_block_free(&v->reader.hb);
}

/* The key's own checks against the signature. */
static void check_key(struct verify_sig *s)
{
    const struct dkim_key *key = &s->key;
    enum dkim_key_type want = s->sig.alg == DKIM_ALG_ED25519_SHA256
                                  ? DKIM_KEY_ED25519
                                  : DKIM_KEY_RSA;
    if (key->revoked)
        decide(s, DKIM_RESULT_PERMERROR, "key revoked");
    else if (key->type != want)
        decide(s, DKIM_RESULT_PERMERROR, "key type does not match a=");
    else if (!(key->hashes & DKIM_KEY_HASH_SHA256))
        decide(s, DKIM_RESULT_PERMERROR, "key does not allow sha256");
    else if (key->strict) {
        const char *at = strchr(buf_cstr(&s->sig.identity), '@');
        if (strcasecmp(at + 1, s->sig.domain) != 0)
            decide(s, DKIM_RESULT_PERMERROR, "key has t=s and i= is below d=");
    }
    if (!s->decided && key->type == DKIM_KEY_RSA &&
        key->bits < DKIM_RSA_MIN_BITS)
        decide(s, DKIM_RESULT_POLICY, "RSA key shorter than 1024 bits");
}

static void finish_sig(struct dkim_verify *v, struct verify_sig *s)
{
    if (!s->decided) {
        switch (s->key_state) {
        case KEY_UNASKED:
            decide(s, DKIM_RESULT_TEMPERROR, "key not looked up");
            break;
        case KEY_TEMPFAIL:
            decide(s, DKIM_RESULT_TEMPERROR, "key lookup failed");
            break;
        case KEY_NOTFOUND:
            decide(s, DKIM_RESULT_PERMERROR, "no key for signature");
            break;
        case KEY_BAD:
            s->decided = 1;
            s->result = DKIM_RESULT_PERMERROR;
            break;
        case KEY_FOUND:
            check_key(s);
            break;
        }
    }
    if (!s->decided) {
        if (s->sig.has_length && s->body.length < s->sig.length)
            decide(s, DKIM_RESULT_FAIL, "l= is longer than the body");
        else if (s->body_digest_len != s->sig.body_hash_len ||
                 memcmp(s->body_digest, s->sig.body_hash,
                        s->body_digest_len) != 0)
            decide(s, DKIM_RESULT_FAIL, "body hash did not verify");
        else if (!dkim_crypto_verify(s->sig.alg, s->key.pkey, s->header_digest,
                                     (const unsigned char *)s->sig.signature.data,
                                     s->sig.signature.len))
            decide(s, DKIM_RESULT_FAIL,
                   dkim_reader_damaged(&v->reader)
                       ? "signature did not verify (header over limits)"
                       : "signature did not verify");
        else
            decide(s, DKIM_RESULT_PASS, "");
    }
    struct dkim_verify_result *r = &s->out;
    r->result = s->result;
    r->reason = buf_cstr(&s->reason);
    r->domain = s->sig.domain;
    r->selector = s->sig.selector;
    r->identity = buf_cstr(&s->sig.identity);
    r->algorithm = s->sig.domain[0] ? dkim_alg_name(s->sig.alg) : "";
    r->b = buf_cstr(&s->sig.b_text);
    r->key_bits = s->key.pkey ? s->key.bits : 0;
    r->testing = s->key_state == KEY_FOUND && s->key.testing;
}

void dkim_verify_finish(struct dkim_verify *v)
{
    dkim_verify_end(v);
    if (v->finished)
        return;
    v->finished = 1;
    for (size_t i = 0; i < v->count; i++)
        finish_sig(v, &v->sigs[i]);
}

const struct dkim_verify_result *dkim_verify_result(const struct dkim_verify *v,
                                                    size_t i)
{
    return i < v->count && v->finished ? &v->sigs[i].out : NULL;
}
