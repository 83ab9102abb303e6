/* dkim_canon.c: simple and relaxed canonicalization (see dkim_canon.h). */
#include "dkim/dkim_canon.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static void canon_relaxed(const char *raw, size_t len, struct buf *out)
{
    const char *colon = memchr(raw, ':', len);
    size_t name_len = colon ? (size_t)(colon - raw) : len;
    while (name_len > 0 && is_wsp(raw[name_len - 1]))
        name_len--;
    for (size_t i = 0; i < name_len; i++) {
        char c = raw[i];
        buf_append_char(out, (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c);
    }
    buf_append_char(out, ':');
    if (colon != NULL) {
        int wsp = 0, started = 0;
        for (const char *p = colon + 1; p < raw + len; p++) {
            if (*p == '\n' || *p == '\r') /* unfold */
                continue;
            if (is_wsp(*p)) {
                wsp = 1;
                continue;
            }
            if (wsp && started)
                buf_append_char(out, ' ');
            buf_append_char(out, *p);
            wsp = 0;
            started = 1;
        }
    }
    buf_append(out, "\r\n", 2);
}

void dkim_canon_header(enum dkim_canon canon, const char *raw, size_t len,
                       struct buf *out)
{
    if (canon == DKIM_CANON_RELAXED) {
        canon_relaxed(raw, len, out);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (raw[i] == '\n')
            buf_append(out, "\r\n", 2);
        else
            buf_append_char(out, raw[i]);
    }
    buf_append(out, "\r\n", 2);
}

void dkim_canon_signed_headers(const struct header_block *hb,
                               const struct strlist *names,
                               enum dkim_canon canon, struct buf *out)
{
    /* taken[k]: field k was used by an earlier name of the list. */
    unsigned char *taken = hb->count ? calloc(hb->count, 1) : NULL;
    if (hb->count && taken == NULL)
        log_fatal("out of memory");
    for (size_t n = 0; n < names->count; n++) {
        for (size_t k = hb->count; k-- > 0;) {
            if (taken[k] || strcasecmp(hb->fields[k].name, names->items[n]) != 0)
                continue;
            taken[k] = 1;
            dkim_canon_header(canon, hb->fields[k].raw.data,
                              hb->fields[k].raw.len, out);
            break;
        }
    }
    free(taken);
}

void dkim_canon_header_data(const struct header_block *hb,
                            const struct strlist *names, enum dkim_canon canon,
                            const char *sig_raw, size_t sig_raw_len,
                            size_t b_start, size_t b_end, struct buf *out)
{
    dkim_canon_signed_headers(hb, names, canon, out);
    struct buf unsigned_sig = BUF_INIT;
    buf_append(&unsigned_sig, sig_raw, b_start);
    buf_append(&unsigned_sig, sig_raw + b_end, sig_raw_len - b_end);
    dkim_canon_header(canon, unsigned_sig.data, unsigned_sig.len, out);
    buf_truncate(out, out->len - 2); /* the CRLF */
    buf_free(&unsigned_sig);
}

/* ---- the body ---- */

static void flush(struct dkim_body *b)
{
    if (b->out_len > 0)
        EVP_DigestUpdate(b->md, b->out, b->out_len);
    b->out_len = 0;
}

static void emit(struct dkim_body *b, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (b->length++ >= b->limit)
            continue;
        if (b->out_len == sizeof(b->out))
            flush(b);
        b->out[b->out_len++] = (unsigned char)data[i];
    }
}

/* A byte of line content (not part of a line end). */
static void content(struct dkim_body *b, char c)
{
    if (b->canon == DKIM_CANON_RELAXED && is_wsp(c)) {
        b->wsp_pending = 1;
        return;
    }
    if (!b->line_started) {
        for (; b->empty_lines > 0; b->empty_lines--)
            emit(b, "\r\n", 2);
        b->line_started = 1;
        b->any_content = 1;
    }
    if (b->wsp_pending) {
        emit(b, " ", 1);
        b->wsp_pending = 0;
    }
    emit(b, &c, 1);
}

static void line_end(struct dkim_body *b)
{
    if (b->line_started)
        emit(b, "\r\n", 2);
    else
        b->empty_lines++;
    b->line_started = 0;
    b->wsp_pending = 0;
}

void dkim_body_init(struct dkim_body *body, enum dkim_canon canon,
                    const EVP_MD *md, uint64_t limit)
{
    memset(body, 0, sizeof(*body));
    body->canon = canon;
    body->limit = limit;
    body->md = EVP_MD_CTX_new();
    if (body->md == NULL || EVP_DigestInit_ex(body->md, md, NULL) != 1)
        log_fatal("dkim: cannot start a digest");
}

void dkim_body_feed(struct dkim_body *body, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (body->cr_pending) {
            body->cr_pending = 0;
            if (c == '\n') {
                line_end(body);
                continue;
            }
            content(body, '\r');
        }
        if (c == '\r')
            body->cr_pending = 1;
        else if (c == '\n')
            line_end(body);
        else
            content(body, c);
    }
}

void dkim_body_end(struct dkim_body *body, unsigned char *digest,
                   unsigned *digest_len)
{
    if (body->cr_pending) {
        body->cr_pending = 0;
        content(body, '\r');
    }
    /* A last line without line end gets one; whitespace alone (relaxed)
     * is an empty line and vanishes with the other trailing ones. */
    if (body->line_started)
        line_end(body);
    if (!body->any_content && body->canon == DKIM_CANON_SIMPLE)
        emit(body, "\r\n", 2);
    flush(body);
    EVP_DigestFinal_ex(body->md, digest, digest_len);
}

void dkim_body_free(struct dkim_body *body)
{
    EVP_MD_CTX_free(body->md);
    body->md = NULL;
}
