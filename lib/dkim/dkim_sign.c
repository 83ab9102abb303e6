/* dkim_sign.c: the streaming DKIM signer (see dkim_sign.h). */
#include "dkim/dkim_sign.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <openssl/pem.h>

#include "base/base64.h"
#include "base/mem.h"
#include "dkim/dkim_canon.h"
#include "dkim/dkim_crypto.h"
#include "dkim/dkim_reader.h"
#include "dkim/dkim_sig.h"

const char *const DKIM_SIGN_HEADERS[] = {
    "From", "Reply-To", "Subject", "Date", "To", "Cc", "Resent-Date",
    "Resent-From", "Resent-Sender", "Resent-To", "Resent-Cc", "In-Reply-To",
    "References", "List-Id", "List-Help", "List-Unsubscribe",
    "List-Subscribe", "List-Post", "List-Owner", "List-Archive",
    "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
    NULL};

#define FOLD_COLUMN 76
/* 24 names of 10 instances and an over-signed From fit DKIM_SIG_HEADERS_MAX. */
#define SIGN_INSTANCES_MAX 10

struct dkim_signer {
    struct dkim_sign_params params;
    const struct dkim_sign_key *keys[DKIM_SIGN_KEYS_MAX];
    const char *selectors[DKIM_SIGN_KEYS_MAX];
    size_t key_count;
    struct dkim_reader reader;
    struct dkim_body body;
    int body_started, ended;
    int fed;           /* some byte was fed */
    int starts_folded; /* the first byte is a space or tab */
    unsigned char body_hash[EVP_MAX_MD_SIZE];
    unsigned body_hash_len;
};

/* ---- keys ---- */

int dkim_sign_key_load(const char *text, size_t len, struct dkim_sign_key *key,
                       struct buf *err)
{
    memset(key, 0, sizeof(*key));
    struct buf seed = BUF_INIT;
    size_t n = len;
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' ||
                     text[n - 1] == ' '))
        n--;
    if (memmem(text, len, "-----BEGIN", 10) == NULL) {
        if (base64_decode(text, n, &seed) == 0 && seed.len == 32)
            key->pkey = EVP_PKEY_new_raw_private_key(
                EVP_PKEY_ED25519, NULL, (const unsigned char *)seed.data, 32);
    } else {
        BIO *bio = BIO_new_mem_buf(text, (int)len);
        if (bio != NULL)
            key->pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    buf_free(&seed);
    if (key->pkey == NULL) {
        buf_set_str(err, "not a PEM private key or an Ed25519 seed");
        return -1;
    }
    if (EVP_PKEY_is_a(key->pkey, "ED25519")) {
        key->alg = DKIM_ALG_ED25519_SHA256;
    } else if (EVP_PKEY_is_a(key->pkey, "RSA") &&
               EVP_PKEY_get_bits(key->pkey) >= DKIM_SIGN_RSA_MIN_BITS) {
        key->alg = DKIM_ALG_RSA_SHA256;
    } else {
        buf_set_str(err, "not an Ed25519 key or an RSA key of 1024 bits or more");
        dkim_sign_key_free(key);
        return -1;
    }
    return 0;
}

void dkim_sign_key_free(struct dkim_sign_key *key)
{
    EVP_PKEY_free(key->pkey);
    key->pkey = NULL;
}

/* ---- streaming ---- */

void dkim_sign_params_init(struct dkim_sign_params *params)
{
    memset(params, 0, sizeof(*params));
    params->header_canon = params->body_canon = DKIM_CANON_RELAXED;
    params->eol = "\r\n";
}

static void on_headers(void *ctx)
{
    struct dkim_signer *s = ctx;
    dkim_body_init(&s->body, s->params.body_canon, EVP_sha256(), UINT64_MAX);
    s->body_started = 1;
}

static void on_body(void *ctx, const char *data, size_t len)
{
    struct dkim_signer *s = ctx;
    dkim_body_feed(&s->body, data, len);
}

struct dkim_signer *dkim_signer_new(const struct dkim_sign_params *params,
                                    const struct dkim_sign_key *const *keys,
                                    const char *const *selectors,
                                    size_t key_count, struct buf *err)
{
    if (key_count == 0 || key_count > DKIM_SIGN_KEYS_MAX) {
        buf_set_str(err, "one to four keys");
        return NULL;
    }
    if (params->domain == NULL ||
        !dkim_domain_syntax_ok(params->domain, strlen(params->domain))) {
        buf_set_str(err, "bad signing domain");
        return NULL;
    }
    for (size_t i = 0; i < key_count; i++) {
        const char *sel = selectors && selectors[i] ? selectors[i] : params->selector;
        if (sel == NULL || !dkim_domain_syntax_ok(sel, strlen(sel))) {
            buf_set_str(err, "bad selector");
            return NULL;
        }
        if (keys[i] == NULL || keys[i]->pkey == NULL) {
            buf_set_str(err, "no key");
            return NULL;
        }
    }
    if (params->identity) {
        const char *at = strchr(params->identity, '@');
        size_t dl = strlen(params->domain), il = at ? strlen(at + 1) : 0;
        if (at == NULL || il < dl ||
            strcasecmp(at + 1 + il - dl, params->domain) != 0 ||
            (il > dl && at[1 + il - dl - 1] != '.')) {
            buf_set_str(err, "i= is not within d=");
            return NULL;
        }
    }
    struct dkim_signer *s = xcalloc(1, sizeof(*s));
    s->params = *params;
    if (s->params.eol == NULL)
        s->params.eol = "\r\n";
    s->key_count = key_count;
    for (size_t i = 0; i < key_count; i++) {
        s->keys[i] = keys[i];
        s->selectors[i] = selectors && selectors[i] ? selectors[i] : params->selector;
    }
    dkim_reader_init(&s->reader, on_headers, on_body, s);
    return s;
}

void dkim_signer_free(struct dkim_signer *s)
{
    if (s == NULL)
        return;
    dkim_reader_free(&s->reader);
    dkim_body_free(&s->body);
    free(s);
}

void dkim_signer_feed(struct dkim_signer *s, const char *data, size_t len)
{
    if (!s->fed && len > 0) {
        s->fed = 1;
        s->starts_folded = data[0] == ' ' || data[0] == '\t';
    }
    if (!s->ended)
        dkim_reader_feed(&s->reader, data, len);
}

static void end_message(struct dkim_signer *s)
{
    if (s->ended)
        return;
    s->ended = 1;
    dkim_reader_end(&s->reader);
    dkim_body_end(&s->body, s->body_hash, &s->body_hash_len);
}

/* ---- the header field ---- */

/* Signs the field raw[0..len) (lines joined by "\n") whose b= value is
 * [b_start, b_end), with the fields names selects: b64 gets b=. */
static int sign_raw(struct dkim_signer *s, const struct dkim_sign_key *key,
                    const struct strlist *names, enum dkim_canon canon,
                    const char *raw, size_t len, size_t b_start, size_t b_end,
                    struct buf *b64, struct buf *err)
{
    struct buf data = BUF_INIT, sig = BUF_INIT;
    dkim_canon_header_data(&s->reader.hb, names, canon, raw, len, b_start,
                           b_end, &data);
    unsigned char digest[DKIM_DIGEST_LEN];
    unsigned dlen = 0;
    EVP_Digest(data.data, data.len, digest, &dlen, EVP_sha256(), NULL);
    int rc = dkim_crypto_sign(key->alg, key->pkey, digest, &sig);
    if (rc == 0) {
        buf_reset(b64);
        base64_encode(sig.data, sig.len, b64);
    } else {
        buf_set_str(err, "signing failed");
    }
    buf_free(&data);
    buf_free(&sig);
    return rc;
}

/* Appends a token, folding before it when the line would pass
 * FOLD_COLUMN; `space` puts a space before it otherwise. */
static void fold_add(struct buf *raw, size_t *col, const char *token,
                     int space)
{
    size_t n = strlen(token);
    if (*col + (space ? 1 : 0) + n > FOLD_COLUMN) {
        buf_append_str(raw, "\n\t");
        *col = 8;
    } else if (space) {
        buf_append_char(raw, ' ');
        (*col)++;
    }
    buf_append_str(raw, token);
    *col += n;
}

/* Adds name `count` times, lower case. */
static void add_name(struct strlist *names, const char *name, size_t count)
{
    char *lower = xstrdup(name);
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    for (size_t k = 0; k < count; k++)
        strlist_add(names, lower);
    free(lower);
}

/* The names to sign: From first, once more than it appears; then each
 * present field of the list once per instance (the last
 * SIGN_INSTANCES_MAX of them), while h= stays within what verifiers
 * accept (DKIM_SIG_HEADERS_MAX). */
static void signed_names(const struct dkim_signer *s, struct strlist *names)
{
    const char *const *list = s->params.headers ? s->params.headers
                                                : DKIM_SIGN_HEADERS;
    size_t from = header_count(&s->reader.hb, "From");
    add_name(names, "from", (from < SIGN_INSTANCES_MAX ? from : SIGN_INSTANCES_MAX) + 1);
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcasecmp(list[i], "From") == 0)
            continue;
        size_t count = header_count(&s->reader.hb, list[i]);
        if (count > SIGN_INSTANCES_MAX)
            count = SIGN_INSTANCES_MAX;
        if (names->count + count > DKIM_SIG_HEADERS_MAX)
            break;
        add_name(names, list[i], count);
    }
}

static void append_eol(struct buf *out, const char *raw, size_t len,
                       const char *eol)
{
    for (size_t i = 0; i < len; i++) {
        if (raw[i] == '\n')
            buf_append_str(out, eol);
        else
            buf_append_char(out, raw[i]);
    }
    buf_append_str(out, eol);
}

static int make_field(struct dkim_signer *s, size_t k, struct buf *out,
                      struct buf *err)
{
    const struct dkim_sign_params *p = &s->params;
    const struct dkim_sign_key *key = s->keys[k];
    struct buf raw = BUF_INIT, tok = BUF_INIT, b64 = BUF_INIT;
    struct strlist names;
    strlist_init(&names);
    signed_names(s, &names);
    size_t col = 0;
    buf_append_str(&raw, "DKIM-Signature:");
    col = raw.len;
    fold_add(&raw, &col, "v=1;", 1);
    buf_set_str(&tok, "a=");
    buf_appendf(&tok, "%s;", dkim_alg_name(key->alg));
    fold_add(&raw, &col, buf_cstr(&tok), 1);
    buf_reset(&tok);
    buf_appendf(&tok, "c=%s/%s;", dkim_canon_name(p->header_canon),
                dkim_canon_name(p->body_canon));
    fold_add(&raw, &col, buf_cstr(&tok), 1);
    buf_reset(&tok);
    buf_appendf(&tok, "d=%s;", p->domain);
    fold_add(&raw, &col, buf_cstr(&tok), 1);
    buf_reset(&tok);
    buf_appendf(&tok, "s=%s;", s->selectors[k]);
    fold_add(&raw, &col, buf_cstr(&tok), 1);
    if (p->identity) {
        buf_reset(&tok);
        buf_appendf(&tok, "i=%s;", p->identity);
        fold_add(&raw, &col, buf_cstr(&tok), 1);
    }
    if (p->timestamp) {
        buf_reset(&tok);
        buf_appendf(&tok, "t=%lld;", (long long)p->timestamp);
        fold_add(&raw, &col, buf_cstr(&tok), 1);
    }
    if (p->expiration) {
        buf_reset(&tok);
        buf_appendf(&tok, "x=%lld;", (long long)p->expiration);
        fold_add(&raw, &col, buf_cstr(&tok), 1);
    }
    for (size_t i = 0; i < names.count; i++) {
        buf_reset(&tok);
        buf_appendf(&tok, "%s%s%s", i == 0 ? "h=" : ":", names.items[i],
                    i + 1 == names.count ? ";" : "");
        fold_add(&raw, &col, buf_cstr(&tok), i == 0);
    }
    buf_set_str(&tok, "bh=");
    base64_encode(s->body_hash, s->body_hash_len, &tok);
    buf_append_char(&tok, ';');
    fold_add(&raw, &col, buf_cstr(&tok), 1);
    fold_add(&raw, &col, "b=", 1);
    size_t b_start = raw.len;
    int rc = sign_raw(s, key, &names, p->header_canon, raw.data, raw.len,
                      b_start, b_start, &b64, err);
    if (rc == 0) {
        /* b= itself is not hashed: fold it freely. */
        for (size_t off = 0; off < b64.len;) {
            size_t room = col < FOLD_COLUMN ? FOLD_COLUMN - col : 0;
            if (room == 0) {
                buf_append_str(&raw, "\n\t");
                col = 8;
                continue;
            }
            size_t n = b64.len - off < room ? b64.len - off : room;
            buf_append(&raw, b64.data + off, n);
            off += n;
            col += n;
        }
        append_eol(out, raw.data, raw.len, p->eol);
    }
    strlist_free(&names);
    buf_free(&raw);
    buf_free(&tok);
    buf_free(&b64);
    return rc;
}

int dkim_signer_finish(struct dkim_signer *s, struct buf *out, struct buf *err)
{
    end_message(s);
    if (dkim_reader_damaged(&s->reader)) {
        /* What was cut would be signed as cut: no verifier would agree. */
        buf_set_str(err, "header section over limits, not signed");
        return -1;
    }
    if (s->starts_folded) {
        /* It would continue the field put on top of it. */
        buf_set_str(err, "message begins with whitespace, not signed");
        return -1;
    }
    for (size_t k = 0; k < s->key_count; k++)
        if (make_field(s, k, out, err) != 0)
            return -1;
    return 0;
}

int dkim_signer_sign_field(struct dkim_signer *s, size_t k, const char *field,
                           size_t len, struct buf *b64, struct buf *err)
{
    end_message(s);
    if (k >= s->key_count) {
        buf_set_str(err, "no such key");
        return -1;
    }
    struct buf raw = BUF_INIT;
    for (size_t i = 0; i < len; i++)
        if (!(field[i] == '\r' && i + 1 < len && field[i + 1] == '\n'))
            buf_append_char(&raw, field[i]);
    while (raw.len > 0 && raw.data[raw.len - 1] == '\n')
        raw.len--;
    const char *colon = memchr(raw.data, ':', raw.len);
    size_t off = colon ? (size_t)(colon + 1 - raw.data) : raw.len;
    struct dkim_sig sig;
    dkim_sig_init(&sig);
    enum dkim_result result;
    int rc = dkim_sig_parse(raw.data + off, raw.len - off, &sig, &result, err);
    if (rc == 0 && (sig.body_hash_len != s->body_hash_len ||
                    memcmp(sig.body_hash, s->body_hash, s->body_hash_len) != 0)) {
        buf_set_str(err, "bh= differs from the body's hash");
        rc = -1;
    }
    if (rc == 0)
        rc = sign_raw(s, s->keys[k], &sig.headers, sig.header_canon, raw.data,
                      raw.len, off + sig.b_raw_start, off + sig.b_raw_end, b64,
                      err);
    dkim_sig_free(&sig);
    buf_free(&raw);
    return rc;
}
