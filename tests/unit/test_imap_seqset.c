/* test_imap_seqset.c: unit tests for lib/imap/imap_seqset: parsing
 * (ranges, "*", "$"), the refusals (0, junk, too many ranges, numbers
 * over 32 bits), resolving and merging, membership and formatting. */
#include <string.h>

#include "base/buf.h"
#include "imap/imap_seqset.h"
#include "unit.h"

/* Parses and formats back; "(error)" on failure. */
static const char *parse_format(const char *text, size_t max, struct buf *out)
{
    struct imap_seqset set;
    const char *error;
    imap_seqset_init(&set);
    buf_reset(out);
    if (imap_seqset_parse(text, strlen(text), max, &set, &error) != 0)
        return "(error)";
    imap_seqset_format(&set, out);
    imap_seqset_free(&set);
    return out->data;
}

static void test_parse(void)
{
    struct buf out = BUF_INIT;
    CHECK_STR(parse_format("1", 10, &out), "1");
    CHECK_STR(parse_format("1:4,7,9:*", 10, &out), "1:4,7,9:*");
    CHECK_STR(parse_format("*:4", 10, &out), "4:*");
    CHECK_STR(parse_format("7:3", 10, &out), "3:7");
    CHECK_STR(parse_format("*", 10, &out), "*");
    CHECK_STR(parse_format("$", 10, &out), "$");
    CHECK_STR(parse_format("4294967294", 10, &out), "4294967294");
    buf_free(&out);
}

static void test_parse_bad(void)
{
    struct buf out = BUF_INIT;
    const char *bad[] = {"", "0", "1:0", "0:*", "1,", ",1", "1,,2", "1:",
                         ":1", "1:2:3", "a", "1 2", "-1", "$,1", "4294967296",
                         "99999999999999999999", "1:*5", "**"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *got = parse_format(bad[i], 10, &out);
        if (strcmp(got, "(error)") != 0) {
            printf("#   \"%s\" parsed as \"%s\"\n", bad[i], got);
            unit_case_failed = 1;
        }
    }
    CHECK_STR(parse_format("1,2,3", 3, &out), "1,2,3");
    CHECK_STR(parse_format("1,2,3,4", 3, &out), "(error)");
    struct imap_seqset set;
    const char *error = NULL;
    imap_seqset_init(&set);
    CHECK(imap_seqset_parse("0", 1, 10, &set, &error) == -1);
    CHECK_STR(error, "Invalid sequence set: 0 is not a message number");
    buf_free(&out);
}

static void test_resolve(void)
{
    struct imap_seqset set;
    struct buf out = BUF_INIT;
    const char *error;
    imap_seqset_init(&set);
    const char *text = "9:*,1:3,2:5,7,*";
    CHECK(imap_seqset_parse(text, strlen(text), 100, &set, &error) == 0);
    imap_seqset_resolve(&set, 12);
    imap_seqset_format(&set, &out);
    CHECK_STR(out.data, "1:5,7,9:12");
    CHECK(imap_seqset_contains(&set, 1));
    CHECK(imap_seqset_contains(&set, 5));
    CHECK(!imap_seqset_contains(&set, 6));
    CHECK(imap_seqset_contains(&set, 7));
    CHECK(!imap_seqset_contains(&set, 8));
    CHECK(imap_seqset_contains(&set, 12));
    CHECK(!imap_seqset_contains(&set, 13));

    /* UID 5:* with the highest UID 3 still includes 3 (RFC 9051). */
    CHECK(imap_seqset_parse("5:*", 3, 100, &set, &error) == 0);
    imap_seqset_resolve(&set, 3);
    buf_reset(&out);
    imap_seqset_format(&set, &out);
    CHECK_STR(out.data, "3:5");

    /* An empty mailbox: "*" means nothing. */
    CHECK(imap_seqset_parse("1,*", 3, 100, &set, &error) == 0);
    imap_seqset_resolve(&set, 0);
    buf_reset(&out);
    imap_seqset_format(&set, &out);
    CHECK_STR(out.data, "1");
    imap_seqset_free(&set);
    buf_free(&out);
}

static void test_looks_like(void)
{
    CHECK(imap_seqset_looks_like("1:*", 3));
    CHECK(imap_seqset_looks_like("$", 1));
    CHECK(!imap_seqset_looks_like("ALL", 3));
    CHECK(!imap_seqset_looks_like("", 0));
    CHECK(!imap_seqset_looks_like("$1", 2));
}

/* 10000 ranges are accepted by default; one more is refused. */
static void test_many_ranges(void)
{
    struct buf text = BUF_INIT;
    struct imap_seqset set;
    const char *error;
    imap_seqset_init(&set);
    for (int i = 1; i <= IMAP_SEQSET_MAX_RANGES; i++)
        buf_appendf(&text, "%s%d", i > 1 ? "," : "", i * 2);
    CHECK(imap_seqset_parse(text.data, text.len, IMAP_SEQSET_MAX_RANGES, &set,
                            &error) == 0);
    CHECK_INT(set.count, IMAP_SEQSET_MAX_RANGES);
    buf_append_str(&text, ",1");
    CHECK(imap_seqset_parse(text.data, text.len, IMAP_SEQSET_MAX_RANGES, &set,
                            &error) == -1);
    CHECK_STR(error, "Too many ranges in sequence set");
    CHECK(set.ranges == NULL && set.count == 0);
    imap_seqset_free(&set);
    buf_free(&text);
}

int main(void)
{
    UNIT_RUN(test_parse);
    UNIT_RUN(test_parse_bad);
    UNIT_RUN(test_resolve);
    UNIT_RUN(test_looks_like);
    UNIT_RUN(test_many_ranges);
    return unit_summary();
}
