/* fuzz_mime_downgrade.c: fuzz target for lib/message/mime_downgrade, the
 * 8BITMIME downgrade of the smtp client. Two invariants:
 *   1. the input as a whole message, fed in chunks of a size taken from
 *      the first byte, with a hold limit from the second: every output
 *      line with an 8-bit byte is a line of the input that has the shape
 *      of a header line ("Name:" or a continuation), left alone, and the
 *      output is not larger than the bound the
 *      header promises;
 *   2. the input as the body of a single text part declared 8bit: the
 *      output body is 7-bit, in lines of at most 76 characters, and
 *      quoted-printable decoding gives back the input (line ends made
 *      CRLF). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "message/mime_downgrade.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(const char *msg, size_t len, size_t chunk, size_t hold,
                struct buf *out)
{
    struct mime_downgrade *md = mime_downgrade_new(hold);
    for (size_t off = 0; off < len; off += chunk)
        mime_downgrade_input(md, msg + off,
                             len - off < chunk ? len - off : chunk, out);
    mime_downgrade_finish(md, out);
    mime_downgrade_free(md);
}

static int has_8bit(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] >= 0x80)
            return 1;
    return 0;
}

/* "Name:" (printable, no colon, up to 256) or a continuation line. */
static int header_shaped(const char *p, size_t len)
{
    if (len > 0 && (p[0] == ' ' || p[0] == '\t'))
        return 1;
    size_t n = 0;
    while (n < len && n <= 256 && p[n] > ' ' && p[n] < 0x7f && p[n] != ':')
        n++;
    return n > 0 && n < len && p[n] == ':';
}

static void check_whole_message(const char *input, size_t size, size_t chunk,
                                size_t hold)
{
    struct buf out = BUF_INIT;
    buf_init(&out);
    run(input, size, chunk, hold, &out);
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += input[i] == '\n';
    if (out.len > size * 4 + lines * 64 + 64)
        abort();
    const char *p = out.data, *end = out.data + out.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (has_8bit(p, len) &&
            (!header_shaped(p, len) || !memmem(input, size, p, len)))
            abort(); /* 8-bit output that is not an input header line */
        p += (nl ? (size_t)(nl - p) + 1 : len);
        if (!nl)
            break;
    }
    buf_free(&out);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void check_single_part(const char *input, size_t size, size_t chunk)
{
    static const char header[] = "Content-Type: text/plain; charset=utf-8\r\n"
                                 "Content-Transfer-Encoding: 8bit\r\n\r\n";
    static const char new_header[] =
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "MIME-Version: 1.0\r\n\r\n";
    struct buf msg = BUF_INIT, out = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
    buf_init(&msg);
    buf_init(&out);
    buf_init(&want);
    buf_init(&got);
    buf_append(&msg, header, sizeof(header) - 1);
    buf_append(&msg, input, size);
    run(msg.data, msg.len, chunk, 0, &out);
    if (out.len < sizeof(new_header) - 1 ||
        memcmp(out.data, new_header, sizeof(new_header) - 1) != 0)
        abort();
    const char *body = out.data + sizeof(new_header) - 1;
    size_t body_len = out.len - (sizeof(new_header) - 1), column = 0;
    for (size_t i = 0; i < body_len; i++) {
        unsigned char c = (unsigned char)body[i];
        if (c >= 0x80)
            abort();
        if (c == '\n')
            column = 0;
        else if (c != '\r' && ++column > MIME_DOWNGRADE_QP_LINE)
            abort();
        if (c == '\r' && (i + 1 >= body_len || body[i + 1] != '\n'))
            abort(); /* no bare CR survives encoding */
    }
    /* What the body should decode to: each LF-ended line without one CR
     * before its LF, ended with CRLF. */
    for (size_t i = 0; i < size; i++) {
        if (input[i] == '\n') {
            if (i > 0 && input[i - 1] == '\r') /* part of the line end */
                buf_truncate(&want, want.len - 1);
            buf_append(&want, "\r\n", 2);
            continue;
        }
        buf_append_char(&want, input[i]);
    }
    for (size_t i = 0; i < body_len; i++) {
        if (body[i] == '=' && i + 2 < body_len && body[i + 1] == '\r' &&
            body[i + 2] == '\n') {
            i += 2;
        } else if (body[i] == '=' && i + 2 < body_len &&
                   hexval(body[i + 1]) >= 0 && hexval(body[i + 2]) >= 0) {
            buf_append_char(
                &got, (char)(hexval(body[i + 1]) * 16 + hexval(body[i + 2])));
            i += 2;
        } else {
            buf_append_char(&got, body[i]);
        }
    }
    if (got.len != want.len || memcmp(got.data, want.data, got.len) != 0)
        abort();
    buf_free(&msg);
    buf_free(&out);
    buf_free(&want);
    buf_free(&got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t chunk = (size_t)data[0] % 64 + 1;
    size_t hold = data[1] < 128 ? 64 + (size_t)data[1] * 16 : 0;
    const char *input = (const char *)data + 2;
    size -= 2;
    check_whole_message(input, size, chunk, hold);
    check_whole_message(input, size, size ? size : 1, 0);
    check_single_part(input, size, chunk);
    return 0;
}
