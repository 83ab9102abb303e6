/* mime_decode.c: Content-Transfer-Encoding decoders (see mime_decode.h). */
#include "message/mime_decode.h"

#include <string.h>
#include <strings.h>

#include "message/rfc822_lex.h"

enum mime_cte mime_cte_parse(const char *value, size_t len)
{
    struct rfc822_lex lx;
    struct buf token = BUF_INIT;
    enum mime_cte cte = MIME_CTE_UNKNOWN;
    int r;

    rfc822_lex_init(&lx, value, len);
    if (rfc822_lex_skip(&lx) == 0) {
        buf_free(&token);
        return MIME_CTE_IDENTITY; /* an empty field: as if absent */
    }
    r = rfc822_lex_token(&lx, &token);
    if (r == 0 || (r == 1 && rfc822_lex_skip(&lx) == 0)) {
        const char *t = buf_cstr(&token);
        if (strcasecmp(t, "7bit") == 0 || strcasecmp(t, "8bit") == 0 ||
            strcasecmp(t, "binary") == 0)
            cte = MIME_CTE_IDENTITY;
        else if (strcasecmp(t, "base64") == 0)
            cte = MIME_CTE_BASE64;
        else if (strcasecmp(t, "quoted-printable") == 0)
            cte = MIME_CTE_QP;
    }
    buf_free(&token);
    return cte;
}

enum mime_cte mime_part_cte(const struct mime_tree *tree,
                            const struct mime_part *part)
{
    size_t len;
    const char *value = mime_part_field(tree, part, MIME_FIELD_ENCODING, &len);
    return value ? mime_cte_parse(value, len) : MIME_CTE_IDENTITY;
}

static const signed char b64_value[256] = {
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,
    ['G'] = 7,  ['H'] = 8,  ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12,
    ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
    ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
    ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
    ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
    ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
    ['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
    ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
}; /* value + 1; 0 = not in the alphabet */

int mime_base64_decode_body(const char *text, size_t len, struct buf *out)
{
    unsigned long acc = 0;
    int bits = 0;

    buf_reserve(out, len / 4 * 3 + 3);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        int v = b64_value[c];
        if (v == 0) {
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
                continue;
            if (c == '=')
                return 0; /* padding: the data ends here */
            return -1;
        }
        acc = (acc << 6) | (unsigned long)(v - 1);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf_append_char(out, (char)((acc >> bits) & 0xff));
        }
    }
    return 0;
}

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

int mime_qp_decode_body(const char *text, size_t len, struct buf *out)
{
    size_t pos = 0;
    int ret = 0;
    buf_reserve(out, len);
    while (pos < len) {
        const char *lf = memchr(text + pos, '\n', len - pos);
        size_t end = lf ? (size_t)(lf - text) : len;
        size_t line_end = end;
        int soft = 0;
        if (line_end > pos && text[line_end - 1] == '\r')
            line_end--;
        while (line_end > pos &&
               (text[line_end - 1] == ' ' || text[line_end - 1] == '\t'))
            line_end--;
        if (line_end > pos && text[line_end - 1] == '=') {
            soft = 1;
            line_end--;
        }
        for (size_t i = pos; i < line_end; i++) {
            int hi, lo;
            if (text[i] == '=' && i + 2 < line_end &&
                (hi = hex_digit(text[i + 1])) >= 0 &&
                (lo = hex_digit(text[i + 2])) >= 0) {
                buf_append_char(out, (char)(hi << 4 | lo));
                i += 2;
            } else {
                if (text[i] == '=')
                    ret = -1;
                buf_append_char(out, text[i]);
            }
        }
        if (lf != NULL && !soft)
            buf_append(out, "\r\n", 2);
        pos = lf ? end + 1 : len;
    }
    return ret;
}

int mime_decode_body(enum mime_cte cte, const char *text, size_t len,
                     struct buf *out)
{
    switch (cte) {
    case MIME_CTE_IDENTITY:
        buf_append(out, text, len);
        return 0;
    case MIME_CTE_BASE64:
        return mime_base64_decode_body(text, len, out);
    case MIME_CTE_QP:
        return mime_qp_decode_body(text, len, out);
    case MIME_CTE_UNKNOWN:
        break;
    }
    return -1;
}
