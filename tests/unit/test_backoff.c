/* test_backoff.c: retry timing of deferred mail (lib/queue/backoff). */
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

int main(void)
{
    UNIT_RUN(test_delay_clamped);
    UNIT_RUN(test_delay_doubles);
    UNIT_RUN(test_expired);
    UNIT_RUN(test_warn_due);
    return unit_summary();
}
