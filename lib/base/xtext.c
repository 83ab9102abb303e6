/* xtext.c: RFC 3461 xtext encoding and decoding (see xtext.h). */
#include "base/xtext.h"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int xtext_decode(const char *in, size_t len, struct buf *out, int flags)
{
    buf_reserve(out, len);
    size_t before = out->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '+') {
            int hi, lo;
            if (len - i < 3 || (hi = hex_digit(in[i + 1])) < 0 ||
                (lo = hex_digit(in[i + 2])) < 0)
                goto bad;
            c = (unsigned char)(hi * 16 + lo);
            if ((flags & XTEXT_REFUSE_CONTROL) && (c < 0x20 || c == 0x7f))
                goto bad;
            i += 2;
        } else if (c < '!' || c > '~' || c == '=') {
            goto bad;
        }
        buf_append_char(out, (char)c);
    }
    return 0;
bad:
    buf_truncate(out, before);
    return -1;
}

void xtext_encode(const char *in, size_t len, struct buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    buf_reserve(out, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c >= '!' && c <= '~' && c != '+' && c != '=') {
            buf_append_char(out, (char)c);
        } else {
            buf_append_char(out, '+');
            buf_append_char(out, hex[c >> 4]);
            buf_append_char(out, hex[c & 15]);
        }
    }
}
