/* test_sched.c: the delivery scheduler's concurrency limits and
 * fairness (lib/sched). */
#include <stdio.h>
#include <string.h>

#include "sched.h"
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
    struct sched *s = sched_new(limits, NULL);
    struct sched_job jobs[10];
    for (int i = 0; i < 10; i++) {
        jobs[i].data = &jobs[i];
        sched_enqueue(s, "virtual", "example.org", &jobs[i]);
    }
    CHECK_INT((int)sched_queued(s), 10);
    struct sched_job *run[10];
    int n = 0;
    while ((run[n] = sched_next(s)))
        n++;
    CHECK_INT(n, 4); /* destination limit */
    CHECK_INT(sched_running(s, "virtual", "example.org"), 4);
    CHECK(run[0] == &jobs[0] && run[3] == &jobs[3]); /* FIFO */
    sched_done(s, run[1]);
    struct sched_job *next = sched_next(s);
    CHECK(next == &jobs[4]);
    CHECK(sched_next(s) == NULL);
    CHECK_STR(sched_job_transport(next), "virtual");
    CHECK_STR(sched_job_dest(next), "example.org");
    sched_free(s);
}

static void test_transport_limit(void)
{
    struct sched *s = sched_new(limits, NULL);
    struct sched_job jobs[6];
    const char *dests[6] = {"a", "b", "c", "d", "a", "b"};
    for (int i = 0; i < 6; i++)
        sched_enqueue(s, "local", dests[i], &jobs[i]);
    int n = 0;
    struct sched_job *job, *first = NULL;
    while ((job = sched_next(s))) {
        if (!first)
            first = job;
        n++;
    }
    CHECK_INT(n, 3); /* transport limit over all destinations */
    CHECK_INT(sched_running(s, "local", NULL), 3);
    /* round robin: the first three are three different destinations */
    CHECK_INT(sched_running(s, "local", "a"), 1);
    CHECK_INT(sched_running(s, "local", "b"), 1);
    CHECK_INT(sched_running(s, "local", "c"), 1);
    sched_done(s, first);
    CHECK(sched_next(s) != NULL);
    CHECK(sched_next(s) == NULL);
    sched_free(s);
}

static void test_round_robin_transports(void)
{
    struct sched *s = sched_new(limits, NULL);
    struct sched_job a[3], b[3];
    for (int i = 0; i < 3; i++) {
        sched_enqueue(s, "virtual", "x", &a[i]);
        sched_enqueue(s, "smtp", "y", &b[i]);
    }
    struct sched_job *j1 = sched_next(s), *j2 = sched_next(s);
    CHECK(j1 && j2);
    CHECK(strcmp(sched_job_transport(j1), sched_job_transport(j2)) != 0);
    sched_free(s);
}

static void test_suspend_and_take(void)
{
    struct sched *s = sched_new(limits, NULL);
    struct sched_job jobs[5];
    for (int i = 0; i < 5; i++)
        sched_enqueue(s, "smtp", i % 2 ? "p" : "q", &jobs[i]);
    sched_suspend(s, "smtp", 1);
    CHECK(sched_next(s) == NULL);
    sched_suspend(s, "smtp", 0);
    struct sched_job *running = sched_next(s);
    CHECK(running != NULL);
    struct sched_job *list = sched_take_all(s, "smtp");
    int n = 0;
    for (struct sched_job *j = list; j; j = j->next)
        n++;
    CHECK_INT(n, 4);
    CHECK_INT((int)sched_queued(s), 0);
    CHECK(sched_next(s) == NULL);
    sched_done(s, running);
    CHECK_INT(sched_running(s, "smtp", NULL), 0);
    CHECK(sched_take_all(s, "nosuch") == NULL);
    sched_free(s);
}

static void test_minimum_limits(void)
{
    struct sched *s = sched_new(limits, NULL);
    struct sched_job jobs[2];
    sched_enqueue(s, "zero", "d", &jobs[0]);
    sched_enqueue(s, "zero", "d", &jobs[1]);
    CHECK(sched_next(s) != NULL);
    CHECK(sched_next(s) == NULL);
    sched_free(s);
}

static void test_many_destinations(void)
{
    /* one-recipient destinations come and go without piling up */
    struct sched *s = sched_new(limits, NULL);
    static struct sched_job jobs[2000];
    char name[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof(name), "rcpt%d", i);
        sched_enqueue(s, "virtual", name, &jobs[i]);
    }
    int done = 0;
    struct sched_job *job;
    while (done < 2000) {
        int started = 0;
        struct sched_job *batch[10];
        while (started < 10 && (job = sched_next(s)))
            batch[started++] = job;
        CHECK(started > 0);
        if (!started)
            break;
        for (int i = 0; i < started; i++)
            sched_done(s, batch[i]);
        done += started;
    }
    CHECK_INT(done, 2000);
    CHECK_INT((int)sched_queued(s), 0);
    sched_free(s);
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
