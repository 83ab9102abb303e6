/* test_backoff.c: retry timing of deferred mail (lib/queue/backoff). */
#include <stdint.h>

#include "queue/backoff.h"
#include "unit.h"

static void test_delay_clamped(void)
{
    /* young message: minimal backoff */
    CHECK_INT(backoff_delay(1000, 990, 300, 4000), 300);
    /* age between: the age itself (doubling) */
    CHECK_INT(backoff_delay(2000, 1000, 300, 4000), 1000);
    /* old message: maximal backoff */
    CHECK_INT(backoff_delay(100000, 1000, 300, 4000), 4000);
    /* a clock that went backwards */
    CHECK_INT(backoff_delay(500, 1000, 300, 4000), 300);
    /* max below min: min wins */
    CHECK_INT(backoff_delay(100000, 1000, 300, 100), 300);
}

static void test_delay_doubles(void)
{
    /* retried when due, each interval is about twice the last */
    long arrival = 0, now = 0, last = 0;
    for (int i = 0; i < 5; i++) {
        long delay = backoff_delay(now, arrival, 10, 1000);
        if (i > 0)
            CHECK(delay >= last);
        if (i > 1 && delay < 1000)
            CHECK_INT(delay, 2 * last);
        last = delay;
        now += delay;
    }
    CHECK_INT(backoff_delay(now, arrival, 10, 1000), 160);
}

static void test_expired(void)
{
    CHECK_INT(backoff_expired(1000, 0, 999), 1);
    CHECK_INT(backoff_expired(1000, 0, 1000), 1);
    CHECK_INT(backoff_expired(1000, 0, 1001), 0);
    CHECK_INT(backoff_expired(1000, 999, 0), 1);   /* lifetime 0: at once */
    CHECK_INT(backoff_expired(500, 1000, 100), 0); /* clock went back */
}

static void test_warn_due(void)
{
    CHECK_INT(backoff_warn_due(1000, 0, 0, 0), 0); /* off */
    CHECK_INT(backoff_warn_due(1000, 0, 500, 0), 1);
    CHECK_INT(backoff_warn_due(1000, 0, 500, 1), 0); /* once only */
    CHECK_INT(backoff_warn_due(1000, 600, 500, 0), 0);
}

/* Limits up to INT_MAX seconds (the largest time main.cf takes), and
 * arrival times from a damaged queue file, never overflow. */
static void test_int_max_limits(void)
{
    const long big = 2147483647L;
    time_t now = 1796000000;
    CHECK_INT(backoff_delay(now, now - 10, big, big), big);
    CHECK_INT(backoff_delay(now, 0, 300, big), (long)now);
    CHECK_INT(backoff_expired(now, now - 100, big), 0);
    CHECK_INT(backoff_expired(now, now - big, big), 1);
    CHECK_INT(backoff_warn_due(now, now - 100, big, 0), 0);
    /* An arrival far in the past (the qfile field is 64-bit): the age
     * saturates instead of overflowing now - arrival. */
    time_t ancient = (time_t)((uint64_t)1 << 63); /* the smallest time_t */
    CHECK_INT(backoff_delay(now, ancient, 300, big), big);
    CHECK_INT(backoff_expired(now, ancient, big), 1);
    CHECK_INT(backoff_warn_due(now, ancient, big, 0), 1);
    /* And one far in the future: a clock that went backwards. */
    time_t future = (time_t)(((uint64_t)1 << 63) - 1);
    CHECK_INT(backoff_delay(now, future, 300, big), 300);
    CHECK_INT(backoff_expired(now, future, big), 0);
}

int main(void)
{
    UNIT_RUN(test_int_max_limits);
    UNIT_RUN(test_delay_clamped);
    UNIT_RUN(test_delay_doubles);
    UNIT_RUN(test_expired);
    UNIT_RUN(test_warn_due);
    return unit_summary();
}
