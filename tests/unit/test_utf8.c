/* test_utf8.c: unit tests for lib/base/utf8, the one UTF-8 check shared
 * by addresses (message/), SQL table keys (tables/) and postmap. */
#include "unit.h"

#include "base/utf8.h"
#include "tables/sql_expand.h"

#define VALID(s) utf8_valid(s, sizeof(s) - 1)

static void test_valid(void)
{
    CHECK(VALID(""));
    CHECK(VALID("plain"));
    CHECK(VALID("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80")); /* é € 😀 */
    CHECK(VALID("\xc2\x80"));                             /* U+0080 */
    CHECK(VALID("\xef\xbf\xbf"));                         /* U+FFFF */
    CHECK(VALID("\xf4\x8f\xbf\xbf"));                     /* U+10FFFF */
    CHECK(utf8_valid("a\0b", 3)); /* NUL is ASCII here */
}

static void test_malformed(void)
{
    CHECK(!VALID("\xc3"));             /* cut short */
    CHECK(!VALID("\xe2\x82"));
    CHECK(!VALID("a\xf0\x9f\x98"));
    CHECK(!VALID("\x80"));             /* a lone continuation byte */
    CHECK(!VALID("\xc0\x80"));         /* overlong NUL */
    CHECK(!VALID("\xc1\xbf"));         /* overlong */
    CHECK(!VALID("\xe0\x80\x80"));     /* overlong */
    CHECK(!VALID("\xf0\x80\x80\x80")); /* overlong */
    CHECK(!VALID("\xed\xa0\x80"));     /* surrogate U+D800 */
    CHECK(!VALID("\xed\xbf\xbf"));     /* surrogate U+DFFF */
    CHECK(!VALID("\xf4\x90\x80\x80")); /* past U+10FFFF */
    CHECK(!VALID("\xf5\x80\x80\x80"));
    CHECK(!VALID("\xff"));
    CHECK(!VALID("\xc3\x28"));         /* second byte not a continuation */
}

static void test_sequence_len(void)
{
    const unsigned char euro[] = "\xe2\x82\xac";
    CHECK_INT(utf8_sequence_len(euro, 3), 3);
    CHECK_INT(utf8_sequence_len(euro, 2), 0); /* never reads past avail */
    CHECK_INT(utf8_sequence_len((const unsigned char *)"x", 1), 1);
}

/* SQL keys take the same rule, plus no NUL and not empty. */
static void test_sql_keys(void)
{
    CHECK(sql_key_usable("j\xc3\xb6rg@example.com", 16));
    CHECK(!sql_key_usable("j\xc3@example.com", 14));
    CHECK(!sql_key_usable("\xed\xa0\x80", 3));
    CHECK(!sql_key_usable("a\0b", 3));
    CHECK(!sql_key_usable("", 0));
}

int main(void)
{
    UNIT_RUN(test_valid);
    UNIT_RUN(test_malformed);
    UNIT_RUN(test_sequence_len);
    UNIT_RUN(test_sql_keys);
    return unit_summary();
}
