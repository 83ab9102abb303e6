/* test_event.c: unit tests for lib/base/event (fds, timers, signals). */
#include "unit.h"

#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "base/event.h"

struct fd_state {
    int reads;
    int writes;
    int errors;
    char last;
};

static void on_pipe(struct event_loop *loop, int fd, unsigned events, void *ctx)
{
    struct fd_state *st = ctx;
    if (events & EVENT_READ) {
        char c;
        if (read(fd, &c, 1) == 1)
            st->last = c;
        st->reads++;
    }
    if (events & EVENT_WRITE)
        st->writes++;
    if (events & EVENT_ERROR)
        st->errors++;
}

static void test_fd_read_write_interest(void)
{
    struct event_loop *loop = event_loop_new();
    int p[2];
    CHECK(pipe(p) == 0);
    struct fd_state rd = {0}, wr = {0};
    CHECK(event_fd_add(loop, p[0], EVENT_READ, on_pipe, &rd) == 0);
    CHECK(event_fd_add(loop, p[0], EVENT_READ, on_pipe, &rd) == -1);
    CHECK(event_fd_add(loop, p[1], EVENT_WRITE, on_pipe, &wr) == 0);
    CHECK_INT(event_fd_count(loop), 2);
    /* Nothing to read yet; the write end is writable. */
    event_loop_once(loop, 0);
    CHECK_INT(rd.reads, 0);
    CHECK_INT(wr.writes, 1);
    /* Quiet the writer: interest 0 means no callbacks. */
    CHECK(event_fd_set(loop, p[1], 0) == 0);
    CHECK(write(p[1], "x", 1) == 1);
    event_loop_once(loop, 100);
    CHECK_INT(rd.reads, 1);
    CHECK_INT(rd.last, 'x');
    CHECK_INT(wr.writes, 1);
    /* Closing the write end: the reader sees READ (EOF) with no data. */
    event_fd_remove(loop, p[1]);
    close(p[1]);
    rd.last = 0;
    event_loop_once(loop, 100);
    CHECK_INT(rd.reads, 2);
    CHECK_INT(rd.last, 0);
    event_fd_remove(loop, p[0]);
    event_fd_remove(loop, p[0]); /* harmless */
    CHECK_INT(event_fd_count(loop), 0);
    close(p[0]);
    event_loop_free(loop);
}

/* A quiet fd whose peer hung up must not wake the loop forever. */
static void test_quiet_fd_hangup_does_not_spin(void)
{
    struct event_loop *loop = event_loop_new();
    int p[2];
    CHECK(pipe(p) == 0);
    struct fd_state st = {0};
    CHECK(event_fd_add(loop, p[0], 0, on_pipe, &st) == 0);
    close(p[1]);
    CHECK_INT(event_loop_once(loop, 50), 0);
    CHECK_INT(st.reads + st.errors, 0);
    CHECK(event_fd_set(loop, p[0], EVENT_READ) == 0);
    CHECK_INT(event_loop_once(loop, 50), 1);
    CHECK_INT(st.reads, 1);
    event_fd_remove(loop, p[0]);
    close(p[0]);
    event_loop_free(loop);
}

struct remover {
    int fds[2];
    int calls;
};

static void on_remove_other(struct event_loop *loop, int fd, unsigned events,
                            void *ctx)
{
    struct remover *r = ctx;
    r->calls++;
    /* Remove both fds: the other one's pending event must not run. */
    event_fd_remove(loop, r->fds[0]);
    event_fd_remove(loop, r->fds[1]);
}

static void test_remove_during_dispatch(void)
{
    struct event_loop *loop = event_loop_new();
    int a[2], b[2];
    CHECK(pipe(a) == 0 && pipe(b) == 0);
    CHECK(write(a[1], "1", 1) == 1 && write(b[1], "2", 1) == 1);
    struct remover r = {{a[0], b[0]}, 0};
    event_fd_add(loop, a[0], EVENT_READ, on_remove_other, &r);
    event_fd_add(loop, b[0], EVENT_READ, on_remove_other, &r);
    event_loop_once(loop, 100);
    CHECK_INT(r.calls, 1);
    close(a[0]), close(a[1]), close(b[0]), close(b[1]);
    event_loop_free(loop);
}

struct timer_log {
    int order[16];
    int count;
};

struct tagged_timer {
    struct event_timer timer;
    struct timer_log *log;
    int tag;
};

static void on_tagged(struct event_loop *loop, void *ctx)
{
    struct tagged_timer *t = ctx;
    if (t->log->count < 16)
        t->log->order[t->log->count++] = t->tag;
}

/* rebind: one registration, a new callback; unknown fds are added; a
 * closed fd is refused, as by add. */
static void test_rebind(void)
{
    struct event_loop *loop = event_loop_new();
    int p[2];
    CHECK(pipe(p) == 0);
    struct fd_state first = {0}, second = {0};
    CHECK(event_fd_rebind(loop, p[0], EVENT_READ, on_pipe, &first) == 0);
    CHECK_INT(event_fd_count(loop), 1);
    CHECK(write(p[1], "a", 1) == 1);
    event_loop_once(loop, 100);
    CHECK_INT(first.reads, 1);
    CHECK(event_fd_rebind(loop, p[0], EVENT_READ, on_pipe, &second) == 0);
    CHECK_INT(event_fd_count(loop), 1);
    CHECK(write(p[1], "b", 1) == 1);
    event_loop_once(loop, 100);
    CHECK_INT(first.reads, 1);
    CHECK_INT(second.reads, 1);
    CHECK_INT(second.last, 'b');
    /* to quiet and back */
    CHECK(event_fd_rebind(loop, p[0], 0, on_pipe, &first) == 0);
    CHECK(write(p[1], "c", 1) == 1);
    CHECK_INT(event_loop_once(loop, 0), 0);
    CHECK(event_fd_rebind(loop, p[0], EVENT_READ, on_pipe, &first) == 0);
    event_loop_once(loop, 100);
    CHECK_INT(first.reads, 2);
    CHECK_INT(first.last, 'c');
    event_fd_remove(loop, p[0]);
    close(p[0]);
    close(p[1]);
    CHECK(event_fd_rebind(loop, p[0], EVENT_READ, on_pipe, &first) == -1);
    CHECK(event_fd_add(loop, p[0], EVENT_READ, on_pipe, &first) == -1);
    CHECK_INT(event_fd_count(loop), 0);
    event_loop_free(loop);
}

static void test_timers_fire_in_order_and_cancel(void)
{
    struct event_loop *loop = event_loop_new();
    struct timer_log log = {{0}, 0};
    struct tagged_timer t[5];
    static const int delays[5] = {40, 10, 30, 20, 50};
    for (int i = 0; i < 5; i++) {
        t[i].log = &log;
        t[i].tag = i;
        event_timer_init(&t[i].timer, on_tagged, &t[i]);
        event_timer_start(loop, &t[i].timer, (uint64_t)delays[i]);
    }
    CHECK_INT(event_timer_count(loop), 5);
    event_timer_stop(loop, &t[2].timer); /* 30 ms: cancelled */
    event_timer_stop(loop, &t[2].timer); /* twice is fine */
    CHECK(!event_timer_pending(&t[2].timer));
    event_timer_start(loop, &t[4].timer, 5); /* restart earlier */
    uint64_t start = event_now_ms(loop);
    CHECK_INT(event_loop_run(loop), 0); /* returns when no timer is left */
    CHECK(event_now_ms(loop) - start >= 40);
    CHECK_INT(log.count, 4);
    CHECK_INT(log.order[0], 4);
    CHECK_INT(log.order[1], 1);
    CHECK_INT(log.order[2], 3);
    CHECK_INT(log.order[3], 0);
    CHECK_INT(event_timer_count(loop), 0);
    event_loop_free(loop);
}

struct periodic_state {
    struct event_timer timer;
    int ticks;
};

static void on_tick(struct event_loop *loop, void *ctx)
{
    struct periodic_state *st = ctx;
    if (++st->ticks == 3)
        event_timer_stop(loop, &st->timer);
}

static void test_periodic_timer(void)
{
    struct event_loop *loop = event_loop_new();
    struct periodic_state st = {.ticks = 0};
    event_timer_init(&st.timer, on_tick, &st);
    event_timer_start_periodic(loop, &st.timer, 10);
    uint64_t start = event_now_ms(loop);
    event_loop_run(loop);
    CHECK_INT(st.ticks, 3);
    CHECK(event_now_ms(loop) - start >= 30);
    CHECK(event_now_ms(loop) - start < 1000);
    event_loop_free(loop);
}

/* Many timers: the heap keeps order under random inserts and removals. */
static uint64_t last_fired;
static int fired, out_of_order;
static void on_heap_timer(struct event_loop *loop, void *ctx)
{
    struct event_timer *t = ctx;
    if (t->due_ms < last_fired)
        out_of_order++;
    last_fired = t->due_ms;
    fired++;
}

static void test_many_timers_heap(void)
{
    struct event_loop *loop = event_loop_new();
    enum { N = 5000 };
    struct event_timer *timers = calloc(N, sizeof(*timers));
    uint32_t seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        event_timer_init(&timers[i], on_heap_timer, &timers[i]);
        event_timer_start(loop, &timers[i], (seed >> 8) % 40);
    }
    int kept = N;
    for (int i = 0; i < N; i += 3) {
        event_timer_stop(loop, &timers[i]);
        kept--;
    }
    CHECK_INT(event_timer_count(loop), kept);
    last_fired = 0;
    fired = out_of_order = 0;
    event_loop_run(loop);
    CHECK_INT(fired, kept);
    CHECK_INT(out_of_order, 0);
    free(timers);
    event_loop_free(loop);
}

static void on_stop(struct event_loop *loop, void *ctx)
{
    (*(int *)ctx)++;
    event_loop_stop(loop);
}

static void test_stop(void)
{
    struct event_loop *loop = event_loop_new();
    int calls = 0;
    struct event_timer a, b;
    event_timer_init(&a, on_stop, &calls);
    event_timer_init(&b, on_stop, &calls);
    event_timer_start(loop, &a, 1);
    event_timer_start(loop, &b, 200);
    event_loop_run(loop);
    CHECK_INT(calls, 1);
    CHECK(event_timer_pending(&b));
    event_timer_stop(loop, &b);
    event_loop_free(loop);
}

static void on_signal(struct event_loop *loop, int signo, void *ctx)
{
    *(int *)ctx = signo;
    event_loop_stop(loop);
}

static void test_signals(void)
{
    struct event_loop *loop = event_loop_new();
    int got = 0;
    CHECK(event_signal_add(loop, SIGUSR1, on_signal, &got) == 0);
    /* Signal handlers alone do not keep the loop alive; add a guard. */
    struct event_timer guard;
    int guard_calls = 0;
    event_timer_init(&guard, on_stop, &guard_calls);
    event_timer_start(loop, &guard, 2000);
    kill(getpid(), SIGUSR1);
    event_loop_run(loop);
    CHECK_INT(got, SIGUSR1);
    CHECK_INT(guard_calls, 0);
    event_timer_stop(loop, &guard);
    event_signal_remove(loop, SIGUSR1);
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    CHECK(sa.sa_handler == SIG_DFL);
    event_loop_free(loop);
}

int main(void)
{
    UNIT_RUN(test_fd_read_write_interest);
    UNIT_RUN(test_quiet_fd_hangup_does_not_spin);
    UNIT_RUN(test_remove_during_dispatch);
    UNIT_RUN(test_rebind);
    UNIT_RUN(test_timers_fire_in_order_and_cancel);
    UNIT_RUN(test_periodic_timer);
    UNIT_RUN(test_many_timers_heap);
    UNIT_RUN(test_stop);
    UNIT_RUN(test_signals);
    return unit_summary();
}
