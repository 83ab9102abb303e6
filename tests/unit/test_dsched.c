/* test_dsched.c: the delivery scheduler's concurrency limits and
 * fairness (lib/queue/dsched). */
#include <stdio.h>
#include <string.h>

#include "queue/dsched.h"
#include "unit.h"

static void limits(void *ctx, const char *transport, int *tlimit, int *dlimit)
{
    (void)ctx;
    if (strcmp(transport, "local") == 0) {
        *tlimit = 3;
        *dlimit = 2;
    } else if (strcmp(transport, "zero") == 0) {
        *tlimit = 0; /* raised to 1 */
        *dlimit = 0;
    } else {
        *tlimit = 10;
        *dlimit = 4;
    }
}

static void test_dest_limit(void)
{
    struct dsched *s = dsched_new(limits, NULL);
    struct dsched_job jobs[10];
    for (int i = 0; i < 10; i++) {
        jobs[i].data = &jobs[i];
        dsched_enqueue(s, "virtual", "example.org", &jobs[i]);
    }
    CHECK_INT((int)dsched_queued(s), 10);
    struct dsched_job *run[10];
    int n = 0;
    while ((run[n] = dsched_next(s)))
        n++;
    CHECK_INT(n, 4); /* destination limit */
    CHECK_INT(dsched_running(s, "virtual", "example.org"), 4);
    CHECK(run[0] == &jobs[0] && run[3] == &jobs[3]); /* FIFO */
    dsched_done(s, run[1]);
    struct dsched_job *next = dsched_next(s);
    CHECK(next == &jobs[4]);
    CHECK(dsched_next(s) == NULL);
    CHECK_STR(dsched_job_transport(next), "virtual");
    CHECK_STR(dsched_job_dest(next), "example.org");
    dsched_free(s);
}

static void test_transport_limit(void)
{
    struct dsched *s = dsched_new(limits, NULL);
    struct dsched_job jobs[6];
    const char *dests[6] = {"a", "b", "c", "d", "a", "b"};
    for (int i = 0; i < 6; i++)
        dsched_enqueue(s, "local", dests[i], &jobs[i]);
    int n = 0;
    struct dsched_job *job, *first = NULL;
    while ((job = dsched_next(s))) {
        if (!first)
            first = job;
        n++;
    }
    CHECK_INT(n, 3); /* transport limit over all destinations */
    CHECK_INT(dsched_running(s, "local", NULL), 3);
    /* round robin: the first three are three different destinations */
    CHECK_INT(dsched_running(s, "local", "a"), 1);
    CHECK_INT(dsched_running(s, "local", "b"), 1);
    CHECK_INT(dsched_running(s, "local", "c"), 1);
    dsched_done(s, first);
    CHECK(dsched_next(s) != NULL);
    CHECK(dsched_next(s) == NULL);
    dsched_free(s);
}

static void test_round_robin_transports(void)
{
    struct dsched *s = dsched_new(limits, NULL);
    struct dsched_job a[3], b[3];
    for (int i = 0; i < 3; i++) {
        dsched_enqueue(s, "virtual", "x", &a[i]);
        dsched_enqueue(s, "smtp", "y", &b[i]);
    }
    struct dsched_job *j1 = dsched_next(s), *j2 = dsched_next(s);
    CHECK(j1 && j2);
    CHECK(strcmp(dsched_job_transport(j1), dsched_job_transport(j2)) != 0);
    dsched_free(s);
}

static void test_suspend_and_take(void)
{
    struct dsched *s = dsched_new(limits, NULL);
    struct dsched_job jobs[5];
    for (int i = 0; i < 5; i++)
        dsched_enqueue(s, "smtp", i % 2 ? "p" : "q", &jobs[i]);
    dsched_suspend(s, "smtp", 1);
    CHECK(dsched_next(s) == NULL);
    dsched_suspend(s, "smtp", 0);
    struct dsched_job *running = dsched_next(s);
    CHECK(running != NULL);
    struct dsched_job *list = dsched_take_all(s, "smtp");
    int n = 0;
    for (struct dsched_job *j = list; j; j = j->next)
        n++;
    CHECK_INT(n, 4);
    CHECK_INT((int)dsched_queued(s), 0);
    CHECK(dsched_next(s) == NULL);
    dsched_done(s, running);
    CHECK_INT(dsched_running(s, "smtp", NULL), 0);
    CHECK(dsched_take_all(s, "nosuch") == NULL);
    dsched_free(s);
}

static void test_minimum_limits(void)
{
    struct dsched *s = dsched_new(limits, NULL);
    struct dsched_job jobs[2];
    dsched_enqueue(s, "zero", "d", &jobs[0]);
    dsched_enqueue(s, "zero", "d", &jobs[1]);
    CHECK(dsched_next(s) != NULL);
    CHECK(dsched_next(s) == NULL);
    dsched_free(s);
}

static void test_many_destinations(void)
{
    /* one-recipient destinations come and go without piling up */
    struct dsched *s = dsched_new(limits, NULL);
    static struct dsched_job jobs[2000];
    char name[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof(name), "rcpt%d", i);
        dsched_enqueue(s, "virtual", name, &jobs[i]);
    }
    int done = 0;
    struct dsched_job *job;
    while (done < 2000) {
        int started = 0;
        struct dsched_job *batch[10];
        while (started < 10 && (job = dsched_next(s)))
            batch[started++] = job;
        CHECK(started > 0);
        if (!started)
            break;
        for (int i = 0; i < started; i++)
            dsched_done(s, batch[i]);
        done += started;
    }
    CHECK_INT(done, 2000);
    CHECK_INT((int)dsched_queued(s), 0);
    dsched_free(s);
}

/* ---- flow control ---- */

static uint64_t fake_now;
static uint64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

/* smtp: limit 4, initial 2, 1/concurrency both ways, 1 cohort, rate
 * back-off 10 s doubling to 40 s; slow: rate delay 2 s. */
static void flow(void *ctx, const char *transport, struct dsched_flow *f)
{
    (void)ctx;
    f->initial = 2;
    f->positive = f->negative = -1;
    f->failed_cohort_limit = 1;
    if (strcmp(transport, "slow") == 0)
        f->rate_delay_ms = 2000;
    f->backoff_initial_ms = 10000;
    f->backoff_max_ms = 40000;
}

static struct dsched *flow_sched(void)
{
    struct dsched *s = dsched_new(limits, NULL);
    dsched_set_flow(s, flow, NULL);
    dsched_set_clock(s, fake_clock, NULL);
    fake_now = 1000000;
    return s;
}

static int start_all(struct dsched *s, struct dsched_job **run, int max)
{
    int n = 0;
    while (n < max && (run[n] = dsched_next(s)))
        n++;
    return n;
}

static void test_positive_feedback(void)
{
    struct dsched *s = flow_sched();
    static struct dsched_job jobs[20];
    for (int i = 0; i < 20; i++)
        dsched_enqueue(s, "smtp", "example.org", &jobs[i]);
    struct dsched_job *run[20];
    CHECK_INT(start_all(s, run, 20), 2); /* the initial window */
    /* 1/concurrency: two successes at window 2 open a third slot */
    CHECK(dsched_feedback(s, run[0], DSCHED_OK) == 0);
    dsched_done(s, run[0]);
    CHECK_INT(start_all(s, run, 20), 1);
    CHECK(dsched_feedback(s, run[0], DSCHED_OK) == 0);
    dsched_done(s, run[0]);
    struct dsched_dest_state st;
    CHECK(dsched_dest_state(s, "smtp", "example.org", &st) == 0);
    CHECK(st.window > 2.9 && st.window < 3.1);
    CHECK_INT(start_all(s, run, 20), 2); /* 1 still running + 2 = 3 */
    CHECK_INT(dsched_running(s, "smtp", "example.org"), 3);
    dsched_free(s);
}

static void test_failed_cohort_is_dead(void)
{
    struct dsched *s = flow_sched();
    static struct dsched_job jobs[10];
    for (int i = 0; i < 10; i++)
        dsched_enqueue(s, "smtp", "down.example", &jobs[i]);
    struct dsched_job *run[10];
    CHECK_INT(start_all(s, run, 10), 2);
    /* window 2: each failure is half a cohort */
    CHECK(dsched_feedback(s, run[0], DSCHED_FAILED) == 0);
    dsched_done(s, run[0]);
    struct dsched_dest_state st;
    CHECK(dsched_dest_state(s, "smtp", "down.example", &st) == 0);
    CHECK(st.window < 2.5);
    CHECK(dsched_feedback(s, run[1], DSCHED_FAILED) == 1);
    dsched_done(s, run[1]);
    struct dsched_job *left = dsched_take_dest(s, "smtp", "down.example");
    int n = 0;
    for (; left; left = left->next)
        n++;
    CHECK_INT(n, 8); /* ten queued, two started */
    CHECK_INT((int)dsched_queued(s), 0);
    dsched_free(s);
}

static void test_success_clears_cohorts(void)
{
    struct dsched *s = flow_sched();
    static struct dsched_job jobs[10];
    for (int i = 0; i < 10; i++)
        dsched_enqueue(s, "smtp", "flaky.example", &jobs[i]);
    struct dsched_job *run[10];
    CHECK_INT(start_all(s, run, 10), 2);
    CHECK(dsched_feedback(s, run[0], DSCHED_FAILED) == 0);
    CHECK(dsched_feedback(s, run[1], DSCHED_OK) == 0);
    dsched_done(s, run[0]);
    dsched_done(s, run[1]);
    CHECK_INT(start_all(s, run, 10), 2);
    CHECK(dsched_feedback(s, run[0], DSCHED_FAILED) == 0); /* not dead */
    dsched_free(s);
}

static void test_rate_limit_backoff(void)
{
    struct dsched *s = flow_sched();
    static struct dsched_job jobs[40];
    for (int i = 0; i < 40; i++)
        dsched_enqueue(s, "smtp", "big.example", &jobs[i]);
    struct dsched_job *run[40];
    CHECK_INT(start_all(s, run, 40), 2);
    CHECK(dsched_feedback(s, run[0], DSCHED_THROTTLED) == 0);
    dsched_done(s, run[0]);
    dsched_feedback(s, run[1], DSCHED_OK);
    dsched_done(s, run[1]);
    struct dsched_dest_state st;
    CHECK(dsched_dest_state(s, "smtp", "big.example", &st) == 0);
    CHECK_INT((int)st.window, 1);
    /* one success already cut the 10 s delay by 1/8 */
    CHECK_INT((int)st.delay_ms, 8750);
    CHECK(dsched_next(s) == NULL); /* nothing before the delay */
    uint64_t wait = dsched_wakeup_ms(s);
    CHECK(wait > 0 && wait <= 10000);
    fake_now += wait;
    struct dsched_job *job = dsched_next(s);
    CHECK(job != NULL);
    CHECK(dsched_next(s) == NULL); /* one at a time, one per delay */
    /* a second rate-limit reply doubles the delay, up to the maximum */
    dsched_feedback(s, job, DSCHED_THROTTLED);
    dsched_done(s, job);
    CHECK(dsched_dest_state(s, "smtp", "big.example", &st) == 0);
    CHECK_INT((int)st.delay_ms, 17500);
    for (int i = 0; i < 3; i++) {
        fake_now += dsched_wakeup_ms(s);
        job = dsched_next(s);
        CHECK(job != NULL);
        if (!job)
            break;
        dsched_feedback(s, job, DSCHED_THROTTLED);
        dsched_done(s, job);
    }
    CHECK(dsched_dest_state(s, "smtp", "big.example", &st) == 0);
    CHECK_INT((int)st.delay_ms, 40000);
    /* successes bring it down slowly, and then the window grows again */
    int starts = 0;
    while (starts < 30) {
        fake_now += dsched_wakeup_ms(s) == UINT64_MAX ? 0 : dsched_wakeup_ms(s);
        job = dsched_next(s);
        if (!job)
            break;
        starts++;
        dsched_feedback(s, job, DSCHED_OK);
        dsched_done(s, job);
        CHECK(dsched_dest_state(s, "smtp", "big.example", &st) == 0);
        if (st.delay_ms == 0)
            break;
    }
    CHECK_INT((int)st.delay_ms, 0);
    CHECK(starts > 20); /* about 28 successes from 40 s to under 1 s */
    fake_now += 2000; /* the last start's spacing */
    CHECK_INT(start_all(s, run, 40), 1); /* window 1, growing again */
    dsched_free(s);
}

static void test_backoff_outlives_queue(void)
{
    struct dsched *s = flow_sched();
    struct dsched_job a, b;
    dsched_enqueue(s, "smtp", "big.example", &a);
    CHECK(dsched_next(s) == &a);
    dsched_feedback(s, &a, DSCHED_THROTTLED);
    dsched_done(s, &a);
    struct dsched_dest_state st;
    CHECK(dsched_dest_state(s, "smtp", "big.example", &st) == 0);
    CHECK_INT((int)st.delay_ms, 10000);
    /* new mail for it still waits its turn */
    fake_now += 1000;
    dsched_enqueue(s, "smtp", "big.example", &b);
    CHECK(dsched_next(s) == NULL);
    fake_now += 9000;
    CHECK(dsched_next(s) == &b);
    dsched_free(s);
}

static void test_rate_delay(void)
{
    struct dsched *s = flow_sched();
    struct dsched_job jobs[3];
    for (int i = 0; i < 3; i++)
        dsched_enqueue(s, "slow", "example.org", &jobs[i]);
    struct dsched_job *run[3];
    CHECK_INT(start_all(s, run, 3), 1);
    dsched_feedback(s, run[0], DSCHED_OK);
    dsched_done(s, run[0]);
    CHECK(dsched_next(s) == NULL);
    CHECK_INT((int)dsched_wakeup_ms(s), 2000);
    fake_now += 1999;
    CHECK(dsched_next(s) == NULL);
    fake_now += 1;
    CHECK(dsched_next(s) == &jobs[1]);
    dsched_free(s);
}

static void test_dead_marks(void)
{
    struct dsched *s = flow_sched();
    dsched_set_dead(s, "smtp", "down.example", fake_now + 5000,
                    "connect to down.example: Connection refused");
    CHECK_STR(dsched_dead(s, "smtp", "down.example"),
              "connect to down.example: Connection refused");
    CHECK(dsched_dead(s, "smtp", "up.example") == NULL);
    struct dsched_job job;
    dsched_enqueue(s, "smtp", "down.example", &job);
    CHECK(dsched_next(s) == NULL); /* a dead destination starts nothing */
    fake_now += 5000;
    CHECK(dsched_dead(s, "smtp", "down.example") == NULL); /* expired */
    CHECK(dsched_next(s) == &job);
    dsched_done(s, &job);
    dsched_set_dead(s, "smtp", "down.example", fake_now + 5000, "x");
    dsched_forget_dead(s);
    CHECK(dsched_dead(s, "smtp", "down.example") == NULL);
    dsched_free(s);
}

int main(void)
{
    UNIT_RUN(test_dest_limit);
    UNIT_RUN(test_transport_limit);
    UNIT_RUN(test_round_robin_transports);
    UNIT_RUN(test_suspend_and_take);
    UNIT_RUN(test_minimum_limits);
    UNIT_RUN(test_many_destinations);
    UNIT_RUN(test_positive_feedback);
    UNIT_RUN(test_failed_cohort_is_dead);
    UNIT_RUN(test_success_clears_cohorts);
    UNIT_RUN(test_rate_limit_backoff);
    UNIT_RUN(test_backoff_outlives_queue);
    UNIT_RUN(test_rate_delay);
    UNIT_RUN(test_dead_marks);
    return unit_summary();
}
