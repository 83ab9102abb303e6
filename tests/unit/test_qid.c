/* test_qid.c: unit tests for lib/queue/qid (queue id making and checking). */
#include "unit.h"

#include <stdint.h>

#include "queue/qid.h"

static void test_qid_make_shape(void)
{
    char id[QID_BUF_SIZE];
    qid_make(id, 0, 0, 0);
    CHECK_STR(id, "00000000000z0");
    qid_make(id, 1700000000, 123456, 35);
    CHECK(qid_valid(id));
    CHECK_INT(id[11], 'z');
    CHECK_INT(id[12], 'Z'); /* inode 35 is one base-36 digit */
    CHECK_INT(strlen(id), 13);
    qid_make(id, 78364164095ull, 999999, UINT64_MAX);
    CHECK(qid_valid(id));
    CHECK_INT(strlen(id), 11 + 1 + 13);
    CHECK(strlen(id) <= QID_MAX_LEN);
}

static void test_qid_time_round_trip(void)
{
    char id[QID_BUF_SIZE];
    uint64_t sec = 0;
    uint32_t usec = 0;
    qid_make(id, 1763860000, 654321, 4242424242ull);
    CHECK_INT(qid_time(id, &sec, &usec), 0);
    CHECK_INT(sec, 1763860000);
    CHECK_INT(usec, 654321);
    CHECK_INT(qid_time("4Pxrb21Wgpz9cQl", &sec, &usec), -1); /* Postfix */
    CHECK_INT(qid_time("ABC", &sec, &usec), -1);
    CHECK_INT(qid_time("00000000000zab", &sec, &usec), -1);
}

static void test_qid_sorts_by_time(void)
{
    char early[QID_BUF_SIZE], late[QID_BUF_SIZE], later[QID_BUF_SIZE];
    qid_make(early, 1700000000, 999999, 99999999);
    qid_make(late, 1700000001, 0, 1);
    qid_make(later, 1700000001, 10, 1);
    CHECK(strcmp(early, late) < 0);
    CHECK(strcmp(late, later) < 0);
}

static void test_qid_new_unique(void)
{
    char a[QID_BUF_SIZE], b[QID_BUF_SIZE], c[QID_BUF_SIZE];
    qid_new(a, 1234);
    qid_new(b, 1235);
    CHECK(qid_valid(a));
    CHECK(qid_valid(b));
    CHECK(strcmp(a + 12, "YA") == 0); /* 1234 = 34*36 + 10 */
    CHECK(strcmp(a, b) != 0);
    qid_new(c, 0); /* random in place of an inode */
    CHECK(qid_valid(c));
    CHECK(strlen(c) > 12);
}

static void test_qid_valid_rejects(void)
{
    CHECK(qid_valid("A"));
    CHECK(qid_valid("4Pxrb21Wgpz9cQl"));
    CHECK(qid_valid("1234567890123456789012345678901"));   /* 31 */
    CHECK(!qid_valid("12345678901234567890123456789012")); /* 32 */
    CHECK(!qid_valid(NULL));
    CHECK(!qid_valid(""));
    CHECK(!qid_valid("."));
    CHECK(!qid_valid(".."));
    CHECK(!qid_valid("../etc/passwd"));
    CHECK(!qid_valid("ABC/DEF"));
    CHECK(!qid_valid(".tmp123"));
    CHECK(!qid_valid("ABC DEF"));
    CHECK(!qid_valid("ABC\n"));
    CHECK(!qid_valid("ABC-DEF"));
    CHECK(!qid_valid("AB\xc3\xa9"));
}

int main(void)
{
    UNIT_RUN(test_qid_make_shape);
    UNIT_RUN(test_qid_time_round_trip);
    UNIT_RUN(test_qid_sorts_by_time);
    UNIT_RUN(test_qid_new_unique);
    UNIT_RUN(test_qid_valid_rejects);
    return unit_summary();
}
