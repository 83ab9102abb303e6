/* test_alias_file.c: unit tests for lib/tables/alias_file: aliases(5) parsing,
 * value and :include: splitting, and the errors that name file and line. */
#include "unit.h"

#include "tables/alias_file.h"
#include "base/buf.h"
#include "base/str.h"

static int collect(void *ctx, const char *name, const char *value, int line,
                   struct buf *err)
{
    (void)err;
    buf_appendf(ctx, "%d|%s|%s\n", line, name, value);
    return 0;
}

static int parse(const char *text, struct buf *out, struct buf *err)
{
    buf_reset(out);
    buf_reset(err);
    return alias_file_parse("aliases", text, strlen(text), collect, out, err);
}

static void test_parse(void)
{
    struct buf out = BUF_INIT, err = BUF_INIT;
    CHECK_INT(parse("# c\n\nPostmaster: root\nroot : a,\n  b\n"
                    "\t, c\n# inside\n\"John Doe\": john\n",
                    &out, &err),
              0);
    CHECK_STR(out.data, "3|postmaster|root\n4|root|a, b , c\n"
                        "8|john doe|john\n");
    /* CR LF files and a last line without newline. */
    CHECK_INT(parse("a: b\r\nc: d", &out, &err), 0);
    CHECK_STR(out.data, "1|a|b\n2|c|d\n");
    buf_free(&out);
    buf_free(&err);
}

static void test_errors(void)
{
    struct buf out = BUF_INIT, err = BUF_INIT;
    CHECK_INT(parse("a: b\nno colon\n", &out, &err), -1);
    CHECK_STR(err.data, "aliases, line 2: need name:value pair");
    CHECK_INT(parse("  a: b\n", &out, &err), -1);
    CHECK_STR(err.data, "aliases, line 1: continuation line without an entry");
    CHECK_INT(parse("a:\n", &out, &err), -1);
    CHECK_STR(err.data, "aliases, line 1: no value for a");
    CHECK_INT(parse(": x\n", &out, &err), -1);
    CHECK_STR(err.data, "aliases, line 1: empty name");
    CHECK_INT(parse("\"a: b\n", &out, &err), -1);
    CHECK_STR(err.data, "aliases, line 1: unterminated quoted name");
    CHECK_INT(
        alias_file_parse("aliases", "a: b\nc: \0d\n", 11, collect, &out, &err),
        -1);
    buf_free(&out);
    buf_free(&err);
}

static void test_split(void)
{
    struct strlist items;
    strlist_init(&items);
    CHECK_INT(
        alias_value_split("a, \"|/bin/x -a, b\" ,,/f , :include:/i", &items),
        0);
    CHECK_INT(items.count, 4);
    if (items.count == 4) {
        CHECK_STR(items.items[0], "a");
        CHECK_STR(items.items[1], "|/bin/x -a, b");
        CHECK_STR(items.items[2], "/f");
        CHECK_STR(items.items[3], ":include:/i");
    }
    strlist_free(&items);
    strlist_init(&items);
    CHECK_INT(alias_value_split("a, \"open", &items), -1);
    CHECK_INT(items.count, 1);
    strlist_free(&items);
    strlist_init(&items);
    const char *inc = "# list\nalice\n  # more\nbob, carol\n\"|cmd a\"\n";
    CHECK_INT(alias_include_split(inc, strlen(inc), &items), 0);
    CHECK_INT(items.count, 4);
    if (items.count == 4) {
        CHECK_STR(items.items[1], "bob");
        CHECK_STR(items.items[3], "|cmd a");
    }
    strlist_free(&items);
}

int main(void)
{
    UNIT_RUN(test_parse);
    UNIT_RUN(test_errors);
    UNIT_RUN(test_split);
    return unit_summary();
}
