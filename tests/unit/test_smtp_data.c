/* test_smtp_data.c: unit tests for lib/smtp/smtp_data, the DATA scanner:
 * dot-unstuffing, the only end of data, bare newlines in both modes,
 * long lines in pieces. */
#include <string.h>

#include "base/buf.h"
#include "smtp/smtp_data.h"
#include "unit.h"

/* Scans all of input; returns the last event, the output (pieces joined
 * with "\n" for each line end) and how much input was used. */
static enum smtp_data_event scan_step(const char *input, int reject,
                                      size_t piece, size_t step,
                                      struct buf *out, size_t *used)
{
    struct smtp_data_scanner sc;
    smtp_data_init(&sc, reject);
    size_t len = strlen(input), pos = 0, have = step ? 0 : len;
    buf_reset(out);
    for (;;) {
        struct smtp_data_piece p;
        enum smtp_data_event ev =
            smtp_data_next(&sc, input + pos, have - pos, piece, &p);
        if (ev == SMTP_DATA_NEED_MORE && have < len) {
            have = have + step > len ? len : have + step;
            continue;
        }
        if (ev == SMTP_DATA_PIECE) {
            buf_append(out, p.data, p.len);
            if (p.eol)
                buf_append_char(out, '\n');
            pos += p.consumed;
            continue;
        }
        if (ev == SMTP_DATA_END)
            pos += p.consumed;
        *used = pos;
        return ev;
    }
}

static enum smtp_data_event scan(const char *input, int reject, size_t piece,
                                 struct buf *out, size_t *used)
{
    return scan_step(input, reject, piece, 0, out, used);
}

static void test_end_and_unstuffing(void)
{
    struct buf out = BUF_INIT;
    size_t used;
    const char *in = "Subject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n";
    CHECK_INT(scan(in, 1, 1000, &out, &used), SMTP_DATA_END);
    CHECK_STR(out.data, "Subject: x\n\n.dot\n");
    CHECK_INT(used, strlen(in) - 6); /* QUIT is left for the server */
    CHECK_INT(scan(".\r\n", 1, 1000, &out, &used), SMTP_DATA_END);
    CHECK_INT(used, 3);
    CHECK_INT(scan("a\r\n.x\r\n", 1, 1000, &out, &used), SMTP_DATA_NEED_MORE);
    CHECK_STR(out.data, "a\nx\n");
    buf_free(&out);
}

static void test_bare_newlines_rejected(void)
{
    struct buf out = BUF_INIT;
    size_t used;
    CHECK_INT(scan("a\n.\n", 1, 1000, &out, &used), SMTP_DATA_BARE_LF);
    CHECK_INT(scan("a\r\n.\nMAIL", 1, 1000, &out, &used), SMTP_DATA_BARE_LF);
    CHECK_INT(scan("a\r.\rMAIL", 1, 1000, &out, &used), SMTP_DATA_BARE_CR);
    CHECK_INT(scan("a\r.\r\n", 1, 1000, &out, &used), SMTP_DATA_BARE_CR);
    /* A CR at the end of the input may still be followed by its LF. */
    CHECK_INT(scan("abc\r", 1, 1000, &out, &used), SMTP_DATA_NEED_MORE);
    buf_free(&out);
}

static void test_normalize_never_ends_early(void)
{
    struct buf out = BUF_INIT;
    size_t used;
    const char *cases[] = {"a\n.\nX\r\n.\r\n", "a\r\n.\nX\r\n.\r\n",
                           "a\n.\r\nX\r\n.\r\n", "a\r.\r\nX\r\n.\r\n"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        CHECK_INT(scan(cases[i], 0, 1000, &out, &used), SMTP_DATA_END);
        CHECK_INT(used, strlen(cases[i]));
        CHECK(strstr(out.data, "X\n") != NULL);
    }
    /* The lone dot that did not end the data is kept as sent. */
    scan("a\n.\nX\r\n.\r\n", 0, 1000, &out, &used);
    CHECK_STR(out.data, "a\n.\nX\n");
    buf_free(&out);
}

static void test_long_lines_in_pieces(void)
{
    struct buf out = BUF_INIT;
    size_t used;
    /* Input arriving a byte at a time: the line comes out in pieces,
     * unstuffed once, and the result is the same as all at once. */
    for (size_t step = 1; step <= 3; step++) {
        CHECK_INT(
            scan_step("..abcdefghij\r\n.x\r\n.\r\n", 1, 4, step, &out, &used),
            SMTP_DATA_END);
        CHECK_STR(out.data, ".abcdefghij\nx\n");
    }
    buf_free(&out);
}

int main(void)
{
    UNIT_RUN(test_end_and_unstuffing);
    UNIT_RUN(test_bare_newlines_rejected);
    UNIT_RUN(test_normalize_never_ends_early);
    UNIT_RUN(test_long_lines_in_pieces);
    return unit_summary();
}
