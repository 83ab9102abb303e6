/* test_imap_reader.c: unit tests for lib/imap/imap_reader, the
 * incremental IMAP command reader: tokens (atoms, quoted strings,
 * literals of every kind, lists, NIL), continuations, the limits and
 * their responses, resynchronizing after errors, and the same events
 * whatever the input's split into reads. */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "imap/imap_reader.h"
#include "unit.h"

/* Feeds input in pieces of `step` bytes (0: all at once) and writes one
 * line per event to out: "CMD tag NAME args", "+", "ERR response" (with
 * " close" when the reader gave up), "LINE text". */
static void run_reader(struct imap_reader *r, const char *input, size_t len,
                       size_t step, struct buf *out)
{
    size_t pos = 0;
    buf_reset(out);
    while (pos < len) {
        size_t avail = step && len - pos > step ? step : len - pos;
        size_t piece_end = pos + avail;
        while (pos < piece_end) {
            size_t used = 0;
            enum imap_reader_event ev =
                imap_reader_feed(r, input + pos, piece_end - pos, &used);
            pos += used;
            switch (ev) {
            case IMAP_READER_MORE:
                break;
            case IMAP_READER_CONTINUE:
                buf_append_str(out, "+\n");
                break;
            case IMAP_READER_COMMAND:
                buf_appendf(out, "CMD %s %s", r->command.tag,
                            r->command.name);
                if (r->command.arg_count) {
                    buf_append_char(out, ' ');
                    imap_args_describe(r->command.args, r->command.arg_count,
                                       out);
                }
                buf_append_char(out, '\n');
                break;
            case IMAP_READER_ERROR:
                buf_appendf(out, "ERR %s%s\n", r->error.response.data,
                            r->error.close ? " close" : "");
                if (r->error.close)
                    return;
                break;
            case IMAP_READER_LINE:
                buf_appendf(out, "LINE %s\n", r->line.data);
                break;
            }
            if (ev == IMAP_READER_MORE && used == 0)
                break;
        }
    }
}

/* Runs input whole and byte by byte with default limits (or `limits`)
 * and checks both give `expected`. */
static void expect_limits(const struct imap_reader_limits *limits,
                          const char *input, size_t len, const char *expected,
                          int line)
{
    struct buf out = BUF_INIT;
    size_t steps[] = {0, 1, 3, 7};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        struct imap_reader r;
        imap_reader_init(&r, limits);
        run_reader(&r, input, len, steps[i], &out);
        if (strcmp(out.data, expected) != 0) {
            printf("#   line %d, step %zu: got:\n%s#   expected:\n%s", line,
                   steps[i], out.data, expected);
            unit_case_failed = 1;
        }
        imap_reader_free(&r);
    }
    buf_free(&out);
}
#define EXPECT(input, expected) \
    expect_limits(NULL, input, strlen(input), expected, __LINE__)
#define EXPECT_L(limits, input, expected) \
    expect_limits(limits, input, strlen(input), expected, __LINE__)

static void test_simple_commands(void)
{
    EXPECT("a1 NOOP\r\n", "CMD a1 NOOP\n");
    EXPECT("a1 noop\r\nA2 capability\n", "CMD a1 NOOP\nCMD A2 CAPABILITY\n");
    EXPECT("\r\n\r\nx LOGOUT\r\n", "CMD x LOGOUT\n");
    EXPECT("a LOGIN joe \"se cr\\\"et\\\\\"\r\n",
           "CMD a LOGIN joe \"se cr\"et\\x5c\"\n");
    EXPECT("t]1 SELECT INBOX\r\n", "CMD t]1 SELECT INBOX\n");
}

static void test_lists_and_nil(void)
{
    EXPECT("a FETCH 1:* (FLAGS UID (X (Y)) ())\r\n",
           "CMD a FETCH 1:* (FLAGS UID (X (Y)) ())\n");
    EXPECT("a X NIL nil \"NIL\"\r\n", "CMD a X NIL nil \"NIL\"\n");
    EXPECT("a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To)]<0.100> FLAGS)\r\n",
           "CMD a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To) ]<0.100> FLAGS)\n");

    struct imap_reader r;
    struct buf out = BUF_INIT;
    imap_reader_init(&r, NULL);
    const char *in = "a X (a \"b\" (c) NIL)\r\n";
    run_reader(&r, in, strlen(in), 0, &out);
    CHECK_INT(r.command.arg_count, 1);
    const struct imap_arg *list = &r.command.args[0];
    CHECK_INT(list->type, IMAP_ARG_LIST);
    CHECK_INT(list->count, 4);
    CHECK_INT(list->list[0].type, IMAP_ARG_ATOM);
    CHECK_INT(list->list[1].type, IMAP_ARG_QUOTED);
    CHECK_INT(list->list[2].type, IMAP_ARG_LIST);
    CHECK_INT(list->list[2].count, 1);
    CHECK_STR(list->list[2].list[0].str, "c");
    CHECK_INT(list->list[3].type, IMAP_ARG_NIL);
    imap_reader_free(&r);
    buf_free(&out);
}

static void test_literals(void)
{
    EXPECT("a LOGIN {3}\r\njoe {6}\r\nsecret\r\n",
           "+\n+\nCMD a LOGIN {3}joe {6}secret\n");
    EXPECT("a LOGIN {0}\r\n {2}\r\n\r\n\r\n", "+\n+\nCMD a LOGIN {0} {2}\\x0d\\x0a\n");
    /* Without LITERAL+, {n+} is refused and its bytes skipped. */
    EXPECT("a LOGIN {3+}\r\nb c\r\nb NOOP\r\n",
           "ERR a BAD Non-synchronizing literals are not supported\n"
           "CMD b NOOP\n");
    struct imap_reader_limits plus;
    imap_reader_limits_default(&plus);
    plus.nonsync_max = IMAP_NONSYNC_LITERAL_PLUS;
    EXPECT_L(&plus, "a LOGIN {3+}\r\njoe {6+}\r\nsecret\r\n",
             "CMD a LOGIN {3}joe {6}secret\n");
    /* Literal data is bytes, never commands, even when it looks like one. */
    EXPECT_L(&plus, "a X {10+}\r\nb LOGOUT\r\n\r\n",
             "CMD a X {10}b LOGOUT\\x0d\\x0a\n");
}

static void test_literal8_and_nul(void)
{
    const char in[] = "a APPEND INBOX ~{3}\r\nA\0B\r\n";
    expect_limits(NULL, in, sizeof(in) - 1,
                  "+\nCMD a APPEND INBOX ~{3}A\\x00B\n", __LINE__);
    const char bad[] = "a APPEND INBOX {3}\r\nA\0B\r\nb NOOP\r\n";
    expect_limits(NULL, bad, sizeof(bad) - 1,
                  "+\nERR a BAD NUL in literal (use literal8)\nCMD b NOOP\n",
                  __LINE__);
    EXPECT("a X ~abc\r\n", "CMD a X ~abc\n");
}

static void test_literal_minus(void)
{
    struct imap_reader_limits minus;
    imap_reader_limits_default(&minus);
    minus.nonsync_max = IMAP_NONSYNC_LITERAL_MINUS;
    EXPECT_L(&minus, "a X {4096+}\r\n", "");
    /* 4097 bytes non-synchronizing under LITERAL-: refused, skipped. */
    struct buf in = BUF_INIT;
    buf_append_str(&in, "a APPEND INBOX {4097+}\r\n");
    for (int i = 0; i < 4097; i++)
        buf_append_char(&in, i % 50 == 0 ? '\n' : 'x');
    buf_append_str(&in, "\r\nb NOOP\r\n");
    expect_limits(&minus, in.data, in.len,
                  "ERR a BAD [TOOBIG] Non-synchronizing literal too big\n"
                  "CMD b NOOP\n",
                  __LINE__);
    buf_free(&in);
}

static void test_literal_too_big(void)
{
    /* Refused before the client sends a byte: no continuation. */
    EXPECT("a LOGIN {65537}\r\nb NOOP\r\n",
           "ERR a BAD [TOOBIG] Literal too big\nCMD b NOOP\n");
    EXPECT("a APPEND INBOX {10240001}\r\nb NOOP\r\n",
           "ERR a NO [TOOBIG] Message too large\nCMD b NOOP\n");
    EXPECT("a APPEND INBOX {99999999999999999999}\r\nb NOOP\r\n",
           "ERR a NO [TOOBIG] Message too large\nCMD b NOOP\n");
    EXPECT("a LOGIN {99999999999999999999}\r\nb NOOP\r\n",
           "ERR a BAD [TOOBIG] Literal too big\nCMD b NOOP\n");
    /* A non-synchronizing one too big to discard: the reader gives up. */
    struct imap_reader_limits plus;
    imap_reader_limits_default(&plus);
    plus.nonsync_max = IMAP_NONSYNC_LITERAL_PLUS;
    EXPECT_L(&plus, "a APPEND INBOX {99999999999+}\r\nb NOOP\r\n",
             "ERR a BAD [TOOBIG] Literal too big close\n");
    EXPECT_L(&plus, "a APPEND INBOX {99999999999999999999+}\r\nb NOOP\r\n",
             "ERR a BAD [TOOBIG] Literal too big close\n");
    /* MULTIAPPEND: the sum counts. */
    plus.append_max = 10;
    EXPECT_L(&plus, "a APPEND A {6+}\r\n123456 {5}\r\nb NOOP\r\n",
             "ERR a NO [TOOBIG] Message too large\nCMD b NOOP\n");
}

static void test_line_limits(void)
{
    struct imap_reader_limits small;
    imap_reader_limits_default(&small);
    small.line_max = 20;
    small.command_max = 30;
    small.nonsync_max = IMAP_NONSYNC_LITERAL_PLUS;
    EXPECT_L(&small, "a SEARCH 1234567890123456789\r\nb NOOP\r\n",
             "ERR a BAD Command line too long\nCMD b NOOP\n");
    /* Each line segment between literals counts by itself... */
    EXPECT_L(&small, "a X 123456 {2+}\r\nab 12345678\r\n",
             "CMD a X 123456 {2}ab 12345678\n");
    /* ...the whole command against command_max. */
    EXPECT_L(&small, "a X 123456 {2+}\r\nab 12345678 {2+}\r\nab 1234\r\nb NOOP\r\n",
             "ERR a BAD Command too long\nCMD b NOOP\n");
    /* A long line that ends in {n+}: its literal is still skipped. */
    EXPECT_L(&small, "a X 1234567890123456789 {9+}\r\nc LOGOUT\r\nb NOOP\r\n",
             "ERR a BAD Command line too long\nCMD b NOOP\n");
}

static void test_depth(void)
{
    struct buf in = BUF_INIT;
    buf_append_str(&in, "a SEARCH ");
    for (int i = 0; i < 33; i++)
        buf_append_char(&in, '(');
    buf_append_str(&in, "ALL");
    for (int i = 0; i < 33; i++)
        buf_append_char(&in, ')');
    buf_append_str(&in, "\r\nb NOOP\r\n");
    expect_limits(NULL, in.data, in.len,
                  "ERR a BAD Too deep nesting of parentheses\nCMD b NOOP\n",
                  __LINE__);
    buf_reset(&in);
    buf_append_str(&in, "a SEARCH ");
    for (int i = 0; i < 32; i++)
        buf_append_char(&in, '(');
    buf_append_str(&in, "ALL");
    for (int i = 0; i < 32; i++)
        buf_append_char(&in, ')');
    buf_append_str(&in, "\r\n");
    struct imap_reader r;
    struct buf out = BUF_INIT;
    imap_reader_init(&r, NULL);
    run_reader(&r, in.data, in.len, 0, &out);
    CHECK(strncmp(out.data, "CMD a SEARCH ((((", 17) == 0);
    imap_reader_free(&r);
    buf_free(&out);
    buf_free(&in);
}

static void test_syntax_errors(void)
{
    EXPECT("a SELECT \"INBOX\r\nb NOOP\r\n",
           "ERR a BAD Invalid character in quoted string\nCMD b NOOP\n");
    EXPECT("a X (b\r\nb NOOP\r\n", "ERR a BAD Missing ')'\nCMD b NOOP\n");
    EXPECT("a X b)\r\nb NOOP\r\n", "ERR a BAD Unexpected ')'\nCMD b NOOP\n");
    EXPECT("a X \"b\"c\r\nb NOOP\r\n",
           "ERR a BAD Missing space after argument\nCMD b NOOP\n");
    EXPECT("a X \"\\n\"\r\nb NOOP\r\n",
           "ERR a BAD Invalid escape in quoted string\nCMD b NOOP\n");
    EXPECT("a X {3} b\r\nb NOOP\r\n",
           "ERR a BAD A literal must end the line\nCMD b NOOP\n");
    EXPECT("a X {}\r\nb NOOP\r\n", "ERR a BAD Invalid literal size\nCMD b NOOP\n");
    EXPECT("a\r\nb NOOP\r\n", "ERR a BAD Missing command name\nCMD b NOOP\n");
    EXPECT(" NOOP\r\nb NOOP\r\n", "ERR * BAD Missing tag\nCMD b NOOP\n");
    EXPECT("a+ NOOP\r\nb NOOP\r\n", "ERR * BAD Invalid tag\nCMD b NOOP\n");
    EXPECT("a X  b\r\nb NOOP\r\n", "ERR a BAD Double space in command\nCMD b NOOP\n");
    EXPECT("a X b\rc\r\nb NOOP\r\n", "ERR a BAD CR without LF\nCMD b NOOP\n");
    EXPECT("a X b\r\r\nb NOOP\r\n", "ERR a BAD CR without LF\nCMD b NOOP\n");
    EXPECT("a\r\r\nb NOOP\r\n", "ERR * BAD CR without LF\nCMD b NOOP\n");
    EXPECT("a X \"\xff\"\r\nb NOOP\r\n",
           "ERR a BAD Invalid UTF-8 in quoted string\nCMD b NOOP\n");
    EXPECT("a X \"\xc3\xa9\"\r\n", "CMD a X \"\\xc3\\xa9\"\n");
    /* A sync literal after an error gets no continuation. */
    EXPECT("a X (b {3}\r\nb NOOP\r\nc NOOP\r\n",
           "+\nERR a BAD Missing space after argument\nCMD c NOOP\n");
}

/* An error skips the rest of the line, including a trailing {n+}. */
static void test_resync_skips_nonsync_literal(void)
{
    EXPECT("a X b) {8+}\r\nc LOGOUT\r\nb NOOP\r\n",
           "ERR a BAD Unexpected ')'\nCMD b NOOP\n");
    EXPECT("a X b) {8}\r\nb NOOP\r\n", "ERR a BAD Unexpected ')'\nCMD b NOOP\n");
}

static void test_line_mode(void)
{
    struct imap_reader r;
    struct buf out = BUF_INIT;
    imap_reader_init(&r, NULL);
    const char *in = "a AUTHENTICATE PLAIN\r\n";
    run_reader(&r, in, strlen(in), 0, &out);
    CHECK_STR(out.data, "CMD a AUTHENTICATE PLAIN\n");
    imap_reader_expect_line(&r);
    in = "AGpvZQBzZWNyZXQ=\r\nb NOOP\r\n";
    run_reader(&r, in, strlen(in), 1, &out);
    CHECK_STR(out.data, "LINE AGpvZQBzZWNyZXQ=\nCMD b NOOP\n");
    imap_reader_free(&r);
    buf_free(&out);
}

static void test_idle_memory(void)
{
    struct imap_reader r;
    struct buf out = BUF_INIT;
    imap_reader_init(&r, NULL);
    CHECK(imap_reader_idle(&r));
    const char *in = "a LOGIN {5}\r\n";
    run_reader(&r, in, strlen(in), 0, &out);
    CHECK(!imap_reader_idle(&r));
    in = "abcde x\r\n";
    run_reader(&r, in, strlen(in), 0, &out);
    CHECK(imap_reader_idle(&r));
    imap_reader_trim(&r);
    CHECK(r.arena.cap == 0 && r.pending == NULL && r.tree == NULL);
    in = "b NOOP\r\n";
    run_reader(&r, in, strlen(in), 0, &out);
    CHECK_STR(out.data, "CMD b NOOP\n");
    imap_reader_free(&r);
    buf_free(&out);
}

int main(void)
{
    UNIT_RUN(test_simple_commands);
    UNIT_RUN(test_lists_and_nil);
    UNIT_RUN(test_literals);
    UNIT_RUN(test_literal8_and_nul);
    UNIT_RUN(test_literal_minus);
    UNIT_RUN(test_literal_too_big);
    UNIT_RUN(test_line_limits);
    UNIT_RUN(test_depth);
    UNIT_RUN(test_syntax_errors);
    UNIT_RUN(test_resync_skips_nonsync_literal);
    UNIT_RUN(test_line_mode);
    UNIT_RUN(test_idle_memory);
    return unit_summary();
}
