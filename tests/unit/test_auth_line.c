/* test_auth_line.c: unit tests for lib/auth/auth_line (splitting and
 * tab-escaping lines of Dovecot's auth protocol). */
#include "unit.h"

#include "auth/auth_line.h"
#include "base/buf.h"

static void test_split_fields(void)
{
    struct auth_line line = AUTH_LINE_INIT;
    const char *text = "AUTH\t1\tPLAIN\tservice=smtp\tsecured\tresp=AGEAYg==";
    CHECK_INT(auth_line_split(&line, text, strlen(text)), 0);
    CHECK_INT(line.count, 6);
    CHECK_STR(line.fields[0], "AUTH");
    CHECK_STR(line.fields[2], "PLAIN");
    CHECK_STR(auth_line_param(&line, 3, "service"), "smtp");
    CHECK_STR(auth_line_param(&line, 3, "secured"), "");
    CHECK_STR(auth_line_param(&line, 3, "resp"), "AGEAYg==");
    CHECK(auth_line_param(&line, 3, "serv") == NULL);
    CHECK(auth_line_param(&line, 3, "rip") == NULL);
    /* An empty line is one empty field; empty fields are kept. */
    CHECK_INT(auth_line_split(&line, "", 0), 0);
    CHECK_INT(line.count, 1);
    CHECK_STR(line.fields[0], "");
    CHECK_INT(auth_line_split(&line, "A\t\tB", 4), 0);
    CHECK_INT(line.count, 3);
    CHECK_STR(line.fields[1], "");
    auth_line_free(&line);
}

static void test_escape_round_trip(void)
{
    const char value[] = "a\tb\rc\nd\001e";
    struct buf out = BUF_INIT;
    buf_append_str(&out, "CMD");
    auth_line_add(&out, value);
    auth_line_add_param(&out, "user", "x\ty");
    CHECK_STR(buf_cstr(&out), "CMD\ta\001tb\001rc\001nd\0011e\tuser=x\001ty");
    struct auth_line line = AUTH_LINE_INIT;
    CHECK_INT(auth_line_split(&line, out.data, out.len), 0);
    CHECK_INT(line.count, 3);
    CHECK_STR(line.fields[1], value);
    CHECK_STR(auth_line_param(&line, 1, "user"), "x\ty");
    /* \001 before any other byte stands for that byte. */
    CHECK_INT(auth_line_split(&line, "a\001zb", 4), 0);
    CHECK_STR(line.fields[0], "azb");
    auth_line_free(&line);
    buf_free(&out);
}

static void test_refusals(void)
{
    struct auth_line line = AUTH_LINE_INIT;
    CHECK_INT(auth_line_split(&line, "a\001", 2), -1);     /* dangling */
    CHECK_INT(auth_line_split(&line, "a\0010b", 4), -1);   /* NUL */
    CHECK_INT(auth_line_split(&line, "a\0b", 3), -1);      /* raw NUL */
    CHECK_INT(auth_line_split(&line, "a\nb", 3), -1);      /* raw LF */
    struct buf big = BUF_INIT;
    for (int i = 0; i < AUTH_LINE_MAX_FIELDS; i++)
        buf_append_str(&big, "\tx");
    CHECK_INT(auth_line_split(&line, big.data, big.len), -1);
    CHECK_INT(auth_line_split(&line, big.data + 1, big.len - 1), 0);
    CHECK_INT(line.count, AUTH_LINE_MAX_FIELDS);
    buf_reset(&big);
    for (int i = 0; i <= AUTH_LINE_MAX; i++)
        buf_append_char(&big, 'x');
    CHECK_INT(auth_line_split(&line, big.data, big.len), -1);
    CHECK_INT(auth_line_split(&line, big.data, big.len - 1), 0);
    buf_free(&big);
    auth_line_free(&line);
}

int main(void)
{
    UNIT_RUN(test_split_fields);
    UNIT_RUN(test_escape_round_trip);
    UNIT_RUN(test_refusals);
    return unit_summary();
}
