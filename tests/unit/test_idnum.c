/* test_idnum.c: strict uid/gid parsing (lib/base/idnum.c): only plain
 * decimal numbers in [minimum, 2^32 - 2] are ids. */
#include "base/idnum.h"
#include "unit.h"

static void test_plain_numbers(void)
{
    unsigned long id = 7;
    CHECK_INT(idnum_parse("5000", 100, &id), IDNUM_OK);
    CHECK_INT(id, 5000);
    CHECK_INT(idnum_parse("100", 100, &id), IDNUM_OK);
    CHECK_INT(id, 100);
    CHECK_INT(idnum_parse("0010", 1, &id), IDNUM_OK); /* decimal, not octal */
    CHECK_INT(id, 10);
    CHECK_INT(idnum_parse("4294967294", 1, &id), IDNUM_OK);
    CHECK_INT(id, 4294967294LL);
}

static void test_out_of_range(void)
{
    unsigned long id = 7;
    /* 2^32 would be uid 0 after a cast to uid_t; 2^32 - 1 is (uid_t)-1. */
    CHECK_INT(idnum_parse("4294967296", 1, &id), IDNUM_TOO_LARGE);
    CHECK_INT(idnum_parse("4294967295", 1, &id), IDNUM_TOO_LARGE);
    CHECK_INT(idnum_parse("18446744073709551616", 1, &id), IDNUM_TOO_LARGE);
    CHECK_INT(idnum_parse("99999999999999999999999999999999", 1, &id),
              IDNUM_TOO_LARGE);
    CHECK_INT(idnum_parse("99", 100, &id), IDNUM_TOO_SMALL);
    CHECK_INT(idnum_parse("0", 1, &id), IDNUM_TOO_SMALL);
    CHECK_INT(idnum_parse("000", 1, &id), IDNUM_TOO_SMALL);
    CHECK_INT(id, 7); /* untouched on failure */
}

static void test_malformed(void)
{
    unsigned long id = 7;
    const char *bad[] = {"",    "-1",  "+5",     " 5",   "5 ",  "5x",
                         "1e3", "0x10", "5\n",   "\t5", "5.0", "--1",
                         "-0",  "٥",    "99999999999999999999x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (idnum_parse(bad[i], 1, &id) != IDNUM_MALFORMED) {
            printf("#   \"%s\" was not refused as malformed\n", bad[i]);
            CHECK(0);
        }
    }
    CHECK_INT(idnum_parse(NULL, 1, &id), IDNUM_MALFORMED);
    CHECK_INT(id, 7);
}

static void test_result_text(void)
{
    CHECK_STR(idnum_result_text(IDNUM_MALFORMED),
              "is not a plain decimal number");
    CHECK_STR(idnum_result_text(IDNUM_TOO_LARGE), "is above 4294967294");
}

int main(void)
{
    UNIT_RUN(test_plain_numbers);
    UNIT_RUN(test_out_of_range);
    UNIT_RUN(test_malformed);
    UNIT_RUN(test_result_text);
    return unit_summary();
}
