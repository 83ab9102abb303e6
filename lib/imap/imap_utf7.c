/* imap_utf7.c: modified UTF-7 for mailbox names (see imap_utf7.h). */
#include "imap/imap_utf7.h"

#include <string.h>
#include <strings.h>

#include "base/utf8.h"

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == ',')
        return 63;
    return -1;
}

static void utf8_put(struct buf *out, unsigned long cp)
{
    char seq[4];
    size_t n;
    if (cp < 0x80) {
        seq[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        seq[0] = (char)(0xc0 | (cp >> 6));
        seq[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        seq[0] = (char)(0xe0 | (cp >> 12));
        seq[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        seq[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        seq[0] = (char)(0xf0 | (cp >> 18));
        seq[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        seq[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        seq[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    buf_append(out, seq, n);
}

/* Decodes the base64 run text[0..len) (between '&' and '-'). */
static int decode_run(const char *text, size_t len, struct buf *out)
{
    unsigned long bits = 0, high = 0;
    int nbits = 0;
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)text[i]);
        if (v < 0)
            return -1;
        bits = (bits << 6) | (unsigned)v;
        nbits += 6;
        if (nbits < 16)
            continue;
        nbits -= 16;
        unsigned long unit = (bits >> nbits) & 0xffff;
        bits &= (1UL << nbits) - 1;
        if (high) {
            if (unit < 0xdc00 || unit > 0xdfff)
                return -1;
            utf8_put(out, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
            high = 0;
        } else if (unit >= 0xd800 && unit <= 0xdbff) {
            high = unit;
        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
            return -1;
        } else if (unit >= 0x20 && unit <= 0x7e) {
            return -1; /* must represent itself */
        } else {
            utf8_put(out, unit);
        }
    }
    /* What is left must be padding: fewer than 6 bits, all zero. */
    if (high || nbits >= 6 || bits != 0)
        return -1;
    return 0;
}

int imap_utf7_decode(const char *text, size_t len, struct buf *out)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c > 0x7e)
            return -1;
        if (c != '&') {
            buf_append_char(out, (char)c);
            i++;
            continue;
        }
        const char *dash = memchr(text + i + 1, '-', len - i - 1);
        if (dash == NULL)
            return -1;
        size_t run = (size_t)(dash - (text + i + 1));
        if (run == 0)
            buf_append_char(out, '&');
        else if (decode_run(text + i + 1, run, out) != 0)
            return -1;
        i += run + 2;
    }
    return 0;
}

static void b64_flush(struct buf *out, unsigned long *bits, int *nbits)
{
    while (*nbits >= 6) {
        *nbits -= 6;
        buf_append_char(out, b64_chars[(*bits >> *nbits) & 0x3f]);
    }
}

int imap_utf7_encode(const char *utf8, size_t len, struct buf *out)
{
    unsigned long bits = 0;
    int nbits = 0, shifted = 0;
    size_t i = 0;
    if (!utf8_valid(utf8, len))
        return -1;
    while (i < len) {
        const unsigned char *s = (const unsigned char *)utf8 + i;
        size_t n = utf8_sequence_len(s, len - i);
        if (n == 1 && s[0] >= 0x20 && s[0] <= 0x7e) {
            if (shifted) {
                if (nbits > 0) {
                    bits <<= 6 - nbits;
                    nbits = 6;
                    b64_flush(out, &bits, &nbits);
                }
                bits = 0;
                nbits = 0;
                buf_append_char(out, '-');
                shifted = 0;
            }
            if (s[0] == '&')
                buf_append_str(out, "&-");
            else
                buf_append_char(out, (char)s[0]);
            i++;
            continue;
        }
        unsigned long cp;
        if (n == 1)
            cp = s[0];
        else if (n == 2)
            cp = ((s[0] & 0x1fUL) << 6) | (s[1] & 0x3f);
        else if (n == 3)
            cp = ((s[0] & 0x0fUL) << 12) | ((s[1] & 0x3fUL) << 6) | (s[2] & 0x3f);
        else
            cp = ((s[0] & 0x07UL) << 18) | ((s[1] & 0x3fUL) << 12) |
                 ((s[2] & 0x3fUL) << 6) | (s[3] & 0x3f);
        if (!shifted) {
            buf_append_char(out, '&');
            shifted = 1;
        }
        unsigned long units[2];
        int unit_count = 1;
        if (cp >= 0x10000) {
            units[0] = 0xd800 + ((cp - 0x10000) >> 10);
            units[1] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
            unit_count = 2;
        } else {
            units[0] = cp;
        }
        for (int u = 0; u < unit_count; u++) {
            bits = (bits << 16) | units[u];
            nbits += 16;
            b64_flush(out, &bits, &nbits);
            bits &= (1UL << nbits) - 1;
        }
        i += n;
    }
    if (shifted) {
        if (nbits > 0) {
            bits <<= 6 - nbits;
            nbits = 6;
            b64_flush(out, &bits, &nbits);
        }
        buf_append_char(out, '-');
    }
    return 0;
}

int imap_mailbox_name(const struct imap_arg *arg, int utf8_mode,
                      struct buf *out, const char **error)
{
    const char *name;
    size_t len;
    buf_reset(out);
    if (imap_arg_astring(arg, &name, &len) != 0) {
        *error = "Invalid mailbox name";
        return -1;
    }
    if (len == 0) {
        *error = "Empty mailbox name";
        return -1;
    }
    if (utf8_mode) {
        if (!utf8_valid(name, len)) {
            *error = "Mailbox name is not valid UTF-8";
            return -1;
        }
        buf_append(out, name, len);
    } else if (imap_utf7_decode(name, len, out) != 0) {
        buf_reset(out);
        *error = "Mailbox name is not valid modified UTF-7";
        return -1;
    }
    if (out->len > IMAP_MAILBOX_NAME_MAX) {
        buf_reset(out);
        *error = "Mailbox name too long";
        return -1;
    }
    for (size_t i = 0; i < out->len; i++) {
        unsigned char c = (unsigned char)out->data[i];
        if (c < 0x20 || c == 0x7f) {
            buf_reset(out);
            *error = "Control characters in mailbox name";
            return -1;
        }
    }
    /* U+0080..U+009F (C1 controls) are refused too. */
    for (size_t i = 0; i + 1 < out->len; i++)
        if ((unsigned char)out->data[i] == 0xc2 &&
            (unsigned char)out->data[i + 1] < 0xa0) {
            buf_reset(out);
            *error = "Control characters in mailbox name";
            return -1;
        }
    if (out->len == 5 && strncasecmp(out->data, "INBOX", 5) == 0)
        memcpy(out->data, "INBOX", 5);
    *error = NULL;
    return 0;
}
