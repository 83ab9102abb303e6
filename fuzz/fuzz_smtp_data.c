/* fuzz_smtp_data.c: fuzz target for lib/smtp/smtp_data, the DATA scanner
 * that stands between SMTP smuggling and the queue.
 *
 * The first byte picks the mode (reject or normalize bare newlines) and
 * a split pattern; the rest is the client's data. The scanner runs over
 * the whole input at once and again with the input arriving in small
 * reads, and both runs must agree on the final event and, when it is
 * the end of data, on every output byte and on how much input it took:
 * a server's view of where a message ends must not depend on TCP
 * segmentation. Further properties:
 * END only right after "\r\n.\r\n" (or ".\r\n" at the very start); in
 * reject mode no bare CR or LF before the end is ever accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "smtp/smtp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
    struct buf out;
    int last_event;
    size_t used;
};

static void scan(const char *in, size_t size, int reject, unsigned pattern,
                 size_t piece_max, struct run *r)
{
    struct smtp_data_scanner sc;
    smtp_data_init(&sc, reject);
    buf_init(&r->out);
    size_t pos = 0, have = pattern ? 0 : size;
    unsigned step = 0;
    r->last_event = SMTP_DATA_NEED_MORE;
    for (;;) {
        struct smtp_data_piece piece;
        enum smtp_data_event ev =
            smtp_data_next(&sc, in + pos, have - pos, piece_max, &piece);
        if (ev == SMTP_DATA_NEED_MORE) {
            if (have == size)
                break;
            size_t grow = 1 + ((pattern >> (step++ % 8)) & 7);
            have = have + grow > size ? size : have + grow;
            continue;
        }
        r->last_event = ev;
        if (ev != SMTP_DATA_PIECE) {
            if (ev == SMTP_DATA_END)
                pos += piece.consumed;
            break;
        }
        if (piece.consumed == 0 || piece.consumed > have - pos)
            abort();
        buf_append(&r->out, piece.data, piece.len);
        if (piece.eol)
            buf_append(&r->out, piece.crlf ? "\r\n" : "\n", piece.crlf ? 2 : 1);
        pos += piece.consumed;
    }
    r->used = pos;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int reject = data[0] & 1;
    unsigned pattern = (data[0] >> 1) | 1u;
    size_t piece_max = 3 + (data[0] >> 4);
    const char *in = (const char *)data + 1;
    size_t len = size - 1;

    struct run whole, split;
    scan(in, len, reject, 0, piece_max, &whole);
    scan(in, len, reject, pattern, piece_max, &split);
    /* The same verdict. At the end of data, the same bytes and the same
     * input used. When the input simply ran out, one run's output is a
     * prefix of the other's (a partial line may be held back). After a
     * bare-newline error the server discards everything anyway. */
    if (whole.last_event != split.last_event)
        abort();
    const char *a = whole.out.data ? whole.out.data : "";
    const char *b = split.out.data ? split.out.data : "";
    if (whole.last_event == SMTP_DATA_END &&
        (whole.used != split.used || whole.out.len != split.out.len ||
         memcmp(a, b, whole.out.len) != 0))
        abort();
    if (whole.last_event == SMTP_DATA_NEED_MORE) {
        size_t n =
            whole.out.len < split.out.len ? whole.out.len : split.out.len;
        if (memcmp(a, b, n) != 0)
            abort();
    }
    if (whole.last_event == SMTP_DATA_END) {
        size_t u = whole.used;
        if (u < 3 || memcmp(in + u - 3, ".\r\n", 3) != 0)
            abort();
        if (u > 3 && (u < 5 || memcmp(in + u - 5, "\r\n", 2) != 0))
            abort();
    }
    if (reject) {
        /* Everything accepted before the end has only CR LF pairs. */
        size_t limit = whole.used;
        for (size_t i = 0; i < limit; i++) {
            if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
                abort();
            if (in[i] == '\r' && (i + 1 >= len || in[i + 1] != '\n'))
                abort();
        }
    }
    buf_free(&whole.out);
    buf_free(&split.out);
    return 0;
}
