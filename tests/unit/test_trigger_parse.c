/* test_trigger_parse.c: qmgr's trigger reader (lib/queue/trigger_parse). */
#include <string.h>

#include "base/buf.h"
#include "queue/trigger_parse.h"
#include "unit.h"

static void collect(void *ctx, char request, const char *arg)
{
    struct buf *out = ctx;
    buf_append_char(out, request);
    if (arg)
        buf_appendf(out, "(%s)", arg);
    buf_append_char(out, ' ');
}

static const char *parse(struct buf *out, const char *data, size_t len)
{
    buf_reset(out);
    trigger_parse(data, len, collect, out);
    return out->data ? out->data : "";
}

static void test_single_letters(void)
{
    struct buf out = BUF_INIT;
    CHECK_STR(parse(&out, "FA", 2), "F A ");
    CHECK_STR(parse(&out, "W", 1), "W ");
    CHECK_STR(parse(&out, "x", 1), "x "); /* unknown: qmgr ignores it */
    buf_free(&out);
}

static void test_arguments(void)
{
    struct buf out = BUF_INIT;
    CHECK_STR(parse(&out, "Sexample.org\nA", 14), "S(example.org) A ");
    CHECK_STR(parse(&out, "Q6FQ2P1K0A3Bz4K2J\n", 18), "Q(6FQ2P1K0A3Bz4K2J) ");
    /* no LF: dropped */
    CHECK_STR(parse(&out, "AQabc", 5), "A ");
    /* empty, space, control character: dropped, parsing goes on */
    CHECK_STR(parse(&out, "S\nA", 3), "A ");
    CHECK_STR(parse(&out, "Sa b\nA", 6), "A ");
    CHECK_STR(parse(&out, "Sa\x01\nD", 5), "D ");
    /* a NUL inside is not printable either */
    CHECK_STR(parse(&out, "Sa\0b\nF", 6), "F ");
    buf_free(&out);
}

static void test_long_argument(void)
{
    struct buf out = BUF_INIT, in = BUF_INIT;
    buf_append_char(&in, 'S');
    for (int i = 0; i < 255; i++)
        buf_append_char(&in, 'a');
    buf_append_str(&in, "\nA");
    parse(&out, in.data, in.len);
    CHECK(out.len == 1 + 2 + 255 + 1 + 2); /* S(a...a) A */
    buf_reset(&in);
    buf_append_char(&in, 'S');
    for (int i = 0; i < 256; i++)
        buf_append_char(&in, 'a');
    buf_append_str(&in, "\nA");
    CHECK_STR(parse(&out, in.data, in.len), "A ");
    buf_free(&out);
    buf_free(&in);
}

int main(void)
{
    UNIT_RUN(test_single_letters);
    UNIT_RUN(test_arguments);
    UNIT_RUN(test_long_argument);
    return unit_summary();
}
