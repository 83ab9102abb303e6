/* charset_utf8.c: MIME charsets to UTF-8 (see charset_utf8.h). */
#include "message/charset_utf8.h"

#include <errno.h>
#include <iconv.h>
#include <strings.h>

#include "base/utf8.h"

int charset_is_utf8(const char *charset)
{
    return strcasecmp(charset, "utf-8") == 0 ||
           strcasecmp(charset, "utf8") == 0 ||
           strcasecmp(charset, "us-ascii") == 0 ||
           strcasecmp(charset, "ascii") == 0;
}

void charset_append_utf8(struct buf *out, const char *text, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        /* runs of ASCII are copied at once */
        while (i < len && (unsigned char)text[i] < 0x80)
            i++;
        if (i > start)
            buf_append(out, text + start, i - start);
        if (i >= len)
            break;
        size_t n = utf8_sequence_len((const unsigned char *)text + i, len - i);
        if (n == 0) {
            buf_append_str(out, "\xef\xbf\xbd");
            i++;
        } else {
            buf_append(out, text + i, n);
            i += n;
        }
    }
}

int charset_to_utf8(const char *charset, const char *text, size_t len,
                    struct buf *out)
{
    iconv_t cd;
    char chunk[1024];
    char *src = (char *)text;
    size_t left = len;

    if (charset_is_utf8(charset)) {
        charset_append_utf8(out, text, len);
        return 0;
    }
    cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1)
        return -1;
    while (left > 0) {
        char *dst = chunk;
        size_t room = sizeof(chunk);
        size_t r = iconv(cd, &src, &left, &dst, &room);
        charset_append_utf8(out, chunk, (size_t)(dst - chunk));
        if (r == (size_t)-1) {
            if (errno == E2BIG)
                continue;
            /* an invalid or cut sequence: one replacement, go on */
            buf_append_str(out, "\xef\xbf\xbd");
            src++;
            left--;
            iconv(cd, NULL, NULL, NULL, NULL);
        }
    }
    iconv_close(cd);
    return 0;
}
