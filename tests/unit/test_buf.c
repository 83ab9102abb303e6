/* test_buf.c: unit tests for lib/base/buf, lib/base/str and lib/base/mem. */
#include "unit.h"

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"

static void test_buf_append_and_grow(void)
{
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 1000; i++)
        buf_append(&b, "ab", 2);
    CHECK_INT(b.len, 2000);
    CHECK_INT(b.data[2000], 0);
    buf_appendf(&b, "%d-%s", 42, "x");
    CHECK(str_has_suffix(buf_cstr(&b), "ab42-x"));
    buf_free(&b);
}

static void test_buf_binary_and_consume(void)
{
    struct buf b = BUF_INIT;
    buf_append(&b, "a\0b\0c", 5);
    CHECK_INT(b.len, 5);
    buf_consume(&b, 2);
    CHECK_INT(b.len, 3);
    CHECK(memcmp(b.data, "b\0c", 3) == 0);
    buf_truncate(&b, 1);
    CHECK_STR(buf_cstr(&b), "b");
    buf_consume(&b, 10);
    CHECK_INT(b.len, 0);
    char *owned = buf_detach(&b);
    CHECK_STR(owned, "");
    free(owned);
}

static void test_buf_long_format(void)
{
    struct buf b = BUF_INIT;
    char big[300];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    buf_appendf(&b, "[%s]", big);
    CHECK_INT(b.len, 301);
    CHECK_INT(b.data[300], ']');
    buf_free(&b);
}

static void test_str_split_list(void)
{
    struct strlist list;
    strlist_init(&list);
    str_split_list(" a, b  c,,d\tinline:{x=1, y=2} e", &list);
    CHECK_INT(list.count, 6);
    CHECK_STR(list.items[0], "a");
    CHECK_STR(list.items[3], "d");
    CHECK_STR(list.items[4], "inline:{x=1, y=2}");
    CHECK_STR(list.items[5], "e");
    strlist_free(&list);
}

static void test_str_helpers(void)
{
    char text[] = "  MiXeD Case \n";
    CHECK_STR(str_lower(str_trim(text)), "mixed case");
    long value;
    CHECK_INT(str_to_long("123", &value), 0);
    CHECK_INT(value, 123);
    CHECK_INT(str_to_long("12x", &value), -1);
    CHECK_INT(str_to_long("", &value), -1);
    CHECK_INT(str_to_long("99999999999999999999999", &value), -1);
    char small[4];
    CHECK_INT(str_copy(small, "abcdef", sizeof(small)), 6);
    CHECK_STR(small, "abc");
    char *s = xasprintf("%s=%d", "n", 5);
    CHECK_STR(s, "n=5");
    free(s);
}

int main(void)
{
    UNIT_RUN(test_buf_append_and_grow);
    UNIT_RUN(test_buf_binary_and_consume);
    UNIT_RUN(test_buf_long_format);
    UNIT_RUN(test_str_split_list);
    UNIT_RUN(test_str_helpers);
    return unit_summary();
}
