/* utf8.c: UTF-8 well-formedness (see utf8.h). */
#include "base/utf8.h"

size_t utf8_sequence_len(const unsigned char *text, size_t avail)
{
    unsigned char c = text[0];
    size_t need;
    unsigned min;
    unsigned code;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2, min = 0x80, code = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3, min = 0x800, code = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4, min = 0x10000, code = c & 0x07;
    } else {
        return 0; /* a continuation byte, C0/C1 (overlong), F5..FF */
    }
    if (avail < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((text[i] & 0xc0) != 0x80)
            return 0;
        code = (code << 6) | (text[i] & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
        return 0;
    return need;
}

int utf8_valid(const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t pos = 0;
    while (pos < len) {
        size_t step = utf8_sequence_len(p + pos, len - pos);
        if (step == 0)
            return 0;
        pos += step;
    }
    return 1;
}
