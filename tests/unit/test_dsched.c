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

int main(void)
{
    UNIT_RUN(test_dest_limit);
    UNIT_RUN(test_transport_limit);
    UNIT_RUN(test_round_robin_transports);
    UNIT_RUN(test_suspend_and_take);
    UNIT_RUN(test_minimum_limits);
    UNIT_RUN(test_many_destinations);
    return unit_summary();
}
