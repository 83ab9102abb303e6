/* base64.c: RFC 4648 base64 encoding and strict decoding (see
 * base64.h). */
#include "base/base64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(const void *data, size_t len, struct buf *out)
{
    const unsigned char *in = data;
    char quad[4];
    buf_append(out, "", 0);
    for (size_t i = 0; i < len; i += 3) {
        unsigned long group = (unsigned long)in[i] << 16;
        if (i + 1 < len)
            group |= (unsigned long)in[i + 1] << 8;
        if (i + 2 < len)
            group |= in[i + 2];
        quad[0] = alphabet[(group >> 18) & 63];
        quad[1] = alphabet[(group >> 12) & 63];
        quad[2] = i + 1 < len ? alphabet[(group >> 6) & 63] : '=';
        quad[3] = i + 2 < len ? alphabet[group & 63] : '=';
        buf_append(out, quad, 4);
    }
}

static int value_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int base64_decode(const char *text, size_t len, struct buf *out)
{
    buf_append(out, "", 0);
    if (len % 4 != 0)
        return -1;
    for (size_t i = 0; i < len; i += 4) {
        int last = i + 4 == len;
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)text[i + k];
            if (c == '=' && last && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad > 0 || (v[k] = value_of(c)) < 0)
                return -1; /* a letter after '=', or not base64 */
        }
        unsigned long group = ((unsigned long)v[0] << 18) |
                              ((unsigned long)v[1] << 12) |
                              ((unsigned long)v[2] << 6) | (unsigned long)v[3];
        char bytes[3] = {(char)(group >> 16), (char)(group >> 8), (char)group};
        buf_append(out, bytes, (size_t)(3 - pad));
    }
    return 0;
}
