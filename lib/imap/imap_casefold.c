/* imap_casefold.c: i;unicode-casemap-like folding (see imap_casefold.h). */
#include "imap/imap_casefold.h"

#include <stdint.h>
#include <string.h>

#include "base/utf8.h"
#include "imap/imap_casefold_table.h"

static void append_cp(struct buf *out, unsigned cp)
{
    char s[3];
    if (cp < 0x80) {
        buf_append_char(out, (char)cp);
    } else if (cp < 0x800) {
        s[0] = (char)(0xc0 | (cp >> 6));
        s[1] = (char)(0x80 | (cp & 0x3f));
        buf_append(out, s, 2);
    } else {
        s[0] = (char)(0xe0 | (cp >> 12));
        s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        s[2] = (char)(0x80 | (cp & 0x3f));
        buf_append(out, s, 3);
    }
}

/* dst = src with a-z made A-Z; src is ASCII. Eight bytes at a time: a
 * byte's high bit is set by adding 0x80 - 'a' when it is >= 'a', and
 * by adding 0x80 - 'z' - 1 when it is > 'z'; no byte carries into the
 * next because none is above 0x7f. */
static void upper_ascii(char *dst, const unsigned char *src, size_t len)
{
    const uint64_t ones = 0x0101010101010101ull;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w, ge_a, gt_z;
        memcpy(&w, src + i, 8);
        ge_a = w + ones * (0x80 - 'a');
        gt_z = w + ones * (0x80 - 'z' - 1);
        w ^= ((ge_a & ~gt_z) & (ones * 0x80)) >> 2;
        memcpy(dst + i, &w, 8);
    }
    for (; i < len; i++)
        dst[i] = (char)(src[i] >= 'a' && src[i] <= 'z' ? src[i] - 32 : src[i]);
}

/* How many bytes at p are ASCII, eight at a time. */
static size_t ascii_run(const unsigned char *p, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w & 0x8080808080808080ull)
            break;
    }
    while (i < len && p[i] < 0x80)
        i++;
    return i;
}

static const struct imap_casefold_row *find_row(unsigned cp)
{
    size_t lo = 0, hi = sizeof(imap_casefold_rows) / sizeof(imap_casefold_rows[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (imap_casefold_rows[mid].cp == cp)
            return &imap_casefold_rows[mid];
        if (imap_casefold_rows[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void imap_casefold_append(struct buf *out, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;
    buf_reserve(out, len);
    while (i < len) {
        size_t run = ascii_run(p + i, len - i);
        if (run > 0) {
            buf_reserve(out, run);
            upper_ascii(out->data + out->len, p + i, run);
            out->len += run;
            out->data[out->len] = '\0';
            i += run;
        }
        if (i >= len)
            break;
        size_t n = utf8_sequence_len(p + i, len - i);
        if (n == 0) {
            buf_append_char(out, (char)p[i]);
            i++;
            continue;
        }
        unsigned cp;
        if (n == 2)
            cp = (unsigned)(p[i] & 0x1f) << 6 | (p[i + 1] & 0x3f);
        else if (n == 3)
            cp = (unsigned)(p[i] & 0x0f) << 12 | (unsigned)(p[i + 1] & 0x3f) << 6 |
                 (p[i + 2] & 0x3f);
        else
            cp = 0x10000; /* outside the table */
        const struct imap_casefold_row *row = cp <= 0xffff ? find_row(cp) : NULL;
        if (row == NULL) {
            buf_append(out, text + i, n);
        } else {
            for (int k = 0; k < IMAP_CASEFOLD_MAX && row->to[k]; k++)
                append_cp(out, row->to[k]);
        }
        i += n;
    }
}
