/* rfc2047.c: encoded-word decoding to UTF-8 (see rfc2047.h). */
#include "message/rfc2047.h"

#include <string.h>
#include <strings.h>

#include "base/base64.h"
#include "message/charset_utf8.h"

/* Bytes decoded from words in one charset, waiting to be converted. */
struct pending {
    char charset[RFC2047_CHARSET_MAX + 1];
    struct buf bytes;
};

static void flush(struct pending *pd, struct buf *out)
{
    if (pd->charset[0] != '\0' && pd->bytes.len > 0 &&
        charset_to_utf8(pd->charset, pd->bytes.data, pd->bytes.len, out) < 0)
        charset_append_utf8(out, pd->bytes.data, pd->bytes.len);
    pd->charset[0] = '\0';
    buf_reset(&pd->bytes);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void q_decode(const char *text, size_t len, struct buf *out)
{
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (text[i] == '_') {
            buf_append_char(out, ' ');
        } else if (text[i] == '=' && i + 2 < len &&
                   (hi = hexval(text[i + 1])) >= 0 &&
                   (lo = hexval(text[i + 2])) >= 0) {
            buf_append_char(out, (char)(hi * 16 + lo));
            i += 2;
        } else {
            buf_append_char(out, text[i]);
        }
    }
}

/* B: base64, padding added when the sender left it out. */
static int b_decode(const char *text, size_t len, struct buf *out)
{
    size_t before = out->len;
    char padded[4] = "===";
    if (base64_decode(text, len, out) == 0)
        return 0;
    buf_truncate(out, before);
    if (len % 4 != 0) {
        struct buf tmp = BUF_INIT;
        int ret;
        buf_append(&tmp, text, len);
        buf_append(&tmp, padded, 4 - len % 4);
        ret = base64_decode(tmp.data, tmp.len, out);
        buf_free(&tmp);
        if (ret == 0)
            return 0;
        buf_truncate(out, before);
    }
    return -1;
}

/* An encoded word at text[0..len)? Returns its length, with its parts. */
static size_t parse_word(const char *text, size_t len, const char **cs,
                         size_t *cs_len, char *enc, const char **data,
                         size_t *data_len)
{
    const char *p, *q, *end;
    if (len < 8 || text[0] != '=' || text[1] != '?')
        return 0;
    end = text + len;
    p = text + 2;
    q = p;
    while (q < end && *q != '?' && *q > ' ' && *q < 0x7f)
        q++;
    if (q >= end || *q != '?' || q == p)
        return 0;
    *cs = p;
    *cs_len = (size_t)(q - p);
    if (q + 3 > end || q[2] != '?')
        return 0;
    *enc = q[1];
    if (*enc != 'b' && *enc != 'B' && *enc != 'q' && *enc != 'Q')
        return 0;
    p = q + 3;
    for (q = p; q + 1 < end; q++) {
        if (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
            return 0;
        if (q[0] == '?' && q[1] == '=') {
            *data = p;
            *data_len = (size_t)(q - p);
            return (size_t)(q + 2 - text);
        }
    }
    return 0;
}

void rfc2047_decode(const char *text, size_t len, struct buf *out)
{
    struct pending pd;
    size_t i = 0, space_start = 0, space_len = 0;
    int after_word = 0;

    pd.charset[0] = '\0';
    buf_init(&pd.bytes);
    while (i < len) {
        const char *cs, *data;
        size_t cs_len, data_len, wlen;
        char enc, charset[RFC2047_CHARSET_MAX + 1];
        char c = text[i];

        if (c == '\r' || c == '\n') {
            i++;
            continue;
        }
        if (c == ' ' || c == '\t') {
            if (space_len == 0)
                space_start = i;
            space_len = i + 1 - space_start;
            i++;
            continue;
        }
        wlen = parse_word(text + i, len - i, &cs, &cs_len, &enc, &data,
                          &data_len);
        if (wlen > 0) {
            const char *star = memchr(cs, '*', cs_len);
            size_t before;
            if (star)
                cs_len = (size_t)(star - cs);
            if (cs_len > RFC2047_CHARSET_MAX)
                wlen = 0;
            else {
                memcpy(charset, cs, cs_len);
                charset[cs_len] = '\0';
            }
            if (wlen > 0) {
                /* white space between two words vanishes */
                if (!after_word && space_len > 0) {
                    flush(&pd, out);
                    charset_append_utf8(out, text + space_start, space_len);
                }
                if (strcasecmp(pd.charset, charset) != 0)
                    flush(&pd, out);
                before = pd.bytes.len;
                if (enc == 'q' || enc == 'Q') {
                    q_decode(data, data_len, &pd.bytes);
                } else if (b_decode(data, data_len, &pd.bytes) < 0) {
                    buf_truncate(&pd.bytes, before);
                    wlen = 0;
                }
                if (wlen > 0) {
                    memcpy(pd.charset, charset, cs_len + 1);
                    space_len = 0;
                    after_word = 1;
                    i += wlen;
                    continue;
                }
            }
        }
        /* plain text */
        flush(&pd, out);
        if (space_len > 0)
            charset_append_utf8(out, text + space_start, space_len);
        space_len = 0;
        after_word = 0;
        {
            size_t start = i;
            while (i < len && text[i] != ' ' && text[i] != '\t' &&
                   text[i] != '\r' && text[i] != '\n' &&
                   !(text[i] == '=' && i + 1 < len && text[i + 1] == '?' &&
                     i > start))
                i++;
            if (i == start)
                i++;
            charset_append_utf8(out, text + start, i - start);
        }
    }
    flush(&pd, out);
    if (space_len > 0)
        charset_append_utf8(out, text + space_start, space_len);
    buf_free(&pd.bytes);
}
