/* event.c: epoll loop with a timer heap and self-pipe signals (event.h). */
#include "base/event.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeconv.h"

#define EVENT_BATCH 256
#define EVENT_NSIG 65

struct fd_slot {
    event_fd_cb cb;
    void *ctx;
    unsigned interest;
    int registered;
    int in_epoll;
    /* Bumped at each add so a stale epoll event for a reused fd number
     * (removed and re-added within one round) is recognised and dropped. */
    uint32_t generation;
};

struct signal_slot {
    event_signal_cb cb;
    void *ctx;
};

struct event_loop {
    int epoll_fd;
    struct fd_slot *fds;
    size_t fd_cap;
    size_t fd_count;
    struct event_timer **heap;
    size_t heap_len, heap_cap;
    uint64_t now_ms;
    int stopped;
    struct signal_slot signals[EVENT_NSIG];
    int signal_count;
};

/* The self-pipe is process-wide: a signal handler cannot know the loop. */
static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t sig_pending[EVENT_NSIG];

static uint64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct event_loop *event_loop_new(void)
{
    struct event_loop *loop = xcalloc(1, sizeof(*loop));
    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epoll_fd < 0)
        log_fatal("epoll_create1: %s", strerror(errno));
    loop->now_ms = clock_ms();
    return loop;
}

void event_loop_free(struct event_loop *loop)
{
    if (!loop)
        return;
    for (int signo = 1; signo < EVENT_NSIG; signo++)
        if (loop->signals[signo].cb)
            event_signal_remove(loop, signo);
    for (size_t i = 0; i < loop->heap_len; i++)
        loop->heap[i]->heap_index = SIZE_MAX;
    close(loop->epoll_fd);
    free(loop->fds);
    free(loop->heap);
    free(loop);
}

uint64_t event_now_ms(struct event_loop *loop)
{
    return loop->now_ms;
}

void event_loop_stop(struct event_loop *loop)
{
    loop->stopped = 1;
}

/* ---- file descriptors ---- */

static uint32_t epoll_bits(unsigned interest)
{
    uint32_t bits = 0;
    if (interest & EVENT_READ)
        bits |= EPOLLIN | EPOLLRDHUP;
    if (interest & EVENT_WRITE)
        bits |= EPOLLOUT;
    return bits;
}

/* An fd with no interest is taken out of epoll entirely: epoll reports
 * hang-ups regardless of interest, and a quiet fd that hung up would
 * otherwise wake the loop forever. */
static int slot_sync(struct event_loop *loop, int fd, unsigned interest)
{
    struct fd_slot *slot = &loop->fds[fd];
    if (interest == 0) {
        if (slot->in_epoll &&
            epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL) < 0 &&
            errno != EBADF && errno != ENOENT)
            return -1;
        slot->in_epoll = 0;
        return 0;
    }
    struct epoll_event ev = {0};
    ev.events = epoll_bits(interest);
    ev.data.u64 = (uint64_t)(unsigned)fd | ((uint64_t)slot->generation << 32);
    if (epoll_ctl(loop->epoll_fd,
                  slot->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0)
        return -1;
    slot->in_epoll = 1;
    return 0;
}

int event_fd_add(struct event_loop *loop, int fd, unsigned interest,
                 event_fd_cb cb, void *ctx)
{
    /* epoll_ctl checks the fd itself; only a quiet registration, which
     * makes no epoll call, needs a check of its own. */
    if (fd < 0 || (interest == 0 && fcntl(fd, F_GETFD) < 0)) {
        errno = EBADF;
        return -1;
    }
    if ((size_t)fd >= loop->fd_cap) {
        size_t cap = loop->fd_cap ? loop->fd_cap : 64;
        while (cap <= (size_t)fd)
            cap *= 2;
        loop->fds = xreallocarray(loop->fds, cap, sizeof(*loop->fds));
        memset(loop->fds + loop->fd_cap, 0,
               (cap - loop->fd_cap) * sizeof(*loop->fds));
        loop->fd_cap = cap;
    }
    struct fd_slot *slot = &loop->fds[fd];
    if (slot->registered) {
        errno = EEXIST;
        return -1;
    }
    slot->generation++;
    slot->in_epoll = 0;
    if (slot_sync(loop, fd, interest) < 0)
        return -1;
    slot->cb = cb;
    slot->ctx = ctx;
    slot->interest = interest;
    slot->registered = 1;
    loop->fd_count++;
    return 0;
}

int event_fd_set(struct event_loop *loop, int fd, unsigned interest)
{
    if (fd < 0 || (size_t)fd >= loop->fd_cap || !loop->fds[fd].registered) {
        errno = ENOENT;
        return -1;
    }
    struct fd_slot *slot = &loop->fds[fd];
    if (slot->interest == interest)
        return 0;
    if (slot_sync(loop, fd, interest) < 0)
        return -1;
    slot->interest = interest;
    return 0;
}

int event_fd_rebind(struct event_loop *loop, int fd, unsigned interest,
                    event_fd_cb cb, void *ctx)
{
    if (fd < 0 || (size_t)fd >= loop->fd_cap || !loop->fds[fd].registered)
        return event_fd_add(loop, fd, interest, cb, ctx);
    struct fd_slot *slot = &loop->fds[fd];
    /* A new generation, as remove and add would give: an event of this
     * round fetched for the old callback is dropped (level-triggered
     * epoll reports it again to the new one). */
    slot->generation++;
    if (slot_sync(loop, fd, interest) < 0) {
        event_fd_remove(loop, fd);
        return -1;
    }
    slot->cb = cb;
    slot->ctx = ctx;
    slot->interest = interest;
    return 0;
}

void event_fd_remove(struct event_loop *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->fd_cap || !loop->fds[fd].registered)
        return;
    /* The fd may already be closed (EBADF); the slot is cleared anyway. */
    if (loop->fds[fd].in_epoll)
        epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
    loop->fds[fd].in_epoll = 0;
    loop->fds[fd].registered = 0;
    loop->fds[fd].cb = NULL;
    loop->fd_count--;
}

size_t event_fd_count(const struct event_loop *loop)
{
    return loop->fd_count;
}

/* ---- timers: a binary min-heap on due_ms ---- */

static void heap_place(struct event_loop *loop, size_t index,
                       struct event_timer *timer)
{
    loop->heap[index] = timer;
    timer->heap_index = index;
}

static void heap_up(struct event_loop *loop, size_t index)
{
    struct event_timer *timer = loop->heap[index];
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (loop->heap[parent]->due_ms <= timer->due_ms)
            break;
        heap_place(loop, index, loop->heap[parent]);
        index = parent;
    }
    heap_place(loop, index, timer);
}

static void heap_down(struct event_loop *loop, size_t index)
{
    struct event_timer *timer = loop->heap[index];
    for (;;) {
        size_t child = 2 * index + 1;
        if (child >= loop->heap_len)
            break;
        if (child + 1 < loop->heap_len &&
            loop->heap[child + 1]->due_ms < loop->heap[child]->due_ms)
            child++;
        if (timer->due_ms <= loop->heap[child]->due_ms)
            break;
        heap_place(loop, index, loop->heap[child]);
        index = child;
    }
    heap_place(loop, index, timer);
}

static void heap_remove(struct event_loop *loop, struct event_timer *timer)
{
    size_t index = timer->heap_index;
    struct event_timer *last = loop->heap[--loop->heap_len];
    timer->heap_index = SIZE_MAX;
    if (last == timer)
        return;
    heap_place(loop, index, last);
    heap_up(loop, index);
    heap_down(loop, last->heap_index);
}

void event_timer_init(struct event_timer *timer, event_timer_cb cb, void *ctx)
{
    memset(timer, 0, sizeof(*timer));
    timer->heap_index = SIZE_MAX;
    timer->cb = cb;
    timer->ctx = ctx;
}

static void heap_insert(struct event_loop *loop, struct event_timer *timer)
{
    if (loop->heap_len == loop->heap_cap) {
        loop->heap_cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
        loop->heap =
            xreallocarray(loop->heap, loop->heap_cap, sizeof(*loop->heap));
    }
    loop->heap_len++;
    heap_place(loop, loop->heap_len - 1, timer);
    heap_up(loop, loop->heap_len - 1);
}

static void timer_schedule(struct event_loop *loop, struct event_timer *timer,
                           uint64_t ms, uint64_t interval)
{
    if (timer->heap_index != SIZE_MAX)
        heap_remove(loop, timer);
    timer->due_ms = timeconv_add_ms(loop->now_ms, ms);
    timer->interval_ms = interval;
    heap_insert(loop, timer);
}

void event_timer_start(struct event_loop *loop, struct event_timer *timer,
                       uint64_t ms)
{
    timer_schedule(loop, timer, ms, 0);
}

void event_timer_start_periodic(struct event_loop *loop,
                                struct event_timer *timer, uint64_t ms)
{
    if (ms == 0)
        log_panic("event_timer_start_periodic: zero interval");
    timer_schedule(loop, timer, ms, ms);
}

void event_timer_stop(struct event_loop *loop, struct event_timer *timer)
{
    if (timer->heap_index != SIZE_MAX)
        heap_remove(loop, timer);
}

int event_timer_pending(const struct event_timer *timer)
{
    return timer->heap_index != SIZE_MAX;
}

size_t event_timer_count(const struct event_loop *loop)
{
    return loop->heap_len;
}

/* Fires due timers. Bounded by the number pending at entry, so a callback
 * that restarts its timer with 0 ms cannot starve fds. */
static int run_timers(struct event_loop *loop)
{
    int ran = 0;
    size_t budget = loop->heap_len;
    while (budget-- > 0 && loop->heap_len > 0 && !loop->stopped) {
        struct event_timer *timer = loop->heap[0];
        if (timer->due_ms > loop->now_ms)
            break;
        heap_remove(loop, timer);
        if (timer->interval_ms) {
            /* Keep the cadence, but never fire a burst to catch up. */
            uint64_t due = timeconv_add_ms(timer->due_ms, timer->interval_ms);
            timer->due_ms = due > loop->now_ms
                                ? due
                                : timeconv_add_ms(loop->now_ms,
                                                  timer->interval_ms);
            heap_insert(loop, timer);
        }
        timer->cb(loop, timer->ctx);
        ran++;
    }
    return ran;
}

/* ---- signals ---- */

static void signal_handler(int signo)
{
    int saved = errno;
    if (signo > 0 && signo < EVENT_NSIG)
        sig_pending[signo] = 1;
    char byte = (char)signo;
    ssize_t unused = write(sig_pipe[1], &byte, 1); /* EAGAIN: already woken */
    (void)unused;
    errno = saved;
}

static void signal_pipe_ready(struct event_loop *loop, int fd, unsigned events,
                              void *ctx)
{
    char drain[64];
    while (read(fd, drain, sizeof(drain)) > 0)
        ;
    for (int signo = 1; signo < EVENT_NSIG; signo++) {
        if (!sig_pending[signo])
            continue;
        sig_pending[signo] = 0;
        if (loop->signals[signo].cb)
            loop->signals[signo].cb(loop, signo, loop->signals[signo].ctx);
    }
}

int event_signal_add(struct event_loop *loop, int signo, event_signal_cb cb,
                     void *ctx)
{
    if (signo <= 0 || signo >= EVENT_NSIG) {
        errno = EINVAL;
        return -1;
    }
    if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
        return -1;
    if (loop->signal_count == 0) {
        if (event_fd_add(loop, sig_pipe[0], EVENT_READ, signal_pipe_ready,
                         NULL) < 0)
            return -1;
        loop->fd_count--; /* the pipe alone does not keep the loop running */
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = signal_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(signo, &sa, NULL) < 0)
        return -1;
    if (!loop->signals[signo].cb)
        loop->signal_count++;
    loop->signals[signo].cb = cb;
    loop->signals[signo].ctx = ctx;
    return 0;
}

void event_signal_remove(struct event_loop *loop, int signo)
{
    if (signo <= 0 || signo >= EVENT_NSIG || !loop->signals[signo].cb)
        return;
    signal(signo, SIG_DFL);
    loop->signals[signo].cb = NULL;
    if (--loop->signal_count == 0) {
        loop->fd_count++;
        event_fd_remove(loop, sig_pipe[0]);
    }
}

/* ---- running ---- */

int event_loop_once(struct event_loop *loop, int timeout_ms)
{
    struct epoll_event events[EVENT_BATCH];
    loop->now_ms = clock_ms();
    if (loop->heap_len > 0) {
        uint64_t due = loop->heap[0]->due_ms;
        uint64_t wait = due > loop->now_ms ? due - loop->now_ms : 0;
        if (wait > INT_MAX)
            wait = INT_MAX;
        if (timeout_ms < 0 || (uint64_t)timeout_ms > wait)
            timeout_ms = (int)wait;
    }
    int count = epoll_wait(loop->epoll_fd, events, EVENT_BATCH, timeout_ms);
    if (count < 0) {
        if (errno != EINTR)
            return -1;
        count = 0;
    }
    loop->now_ms = clock_ms();
    int ran = 0;
    for (int i = 0; i < count && !loop->stopped; i++) {
        int fd = (int)(uint32_t)events[i].data.u64;
        uint32_t generation = (uint32_t)(events[i].data.u64 >> 32);
        if ((size_t)fd >= loop->fd_cap)
            continue;
        struct fd_slot *slot = &loop->fds[fd];
        if (!slot->registered || slot->generation != generation)
            continue; /* removed (and maybe re-added) by an earlier callback */
        unsigned ready = 0;
        if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            ready |= slot->interest & EVENT_READ;
        if (events[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
            ready |= slot->interest & EVENT_WRITE;
        if (events[i].events & (EPOLLHUP | EPOLLERR))
            ready |= EVENT_ERROR;
        if ((ready & (EVENT_READ | EVENT_WRITE)) == 0)
            continue;
        slot->cb(loop, fd, ready, slot->ctx);
        ran++;
    }
    if (!loop->stopped)
        ran += run_timers(loop);
    return ran;
}

int event_loop_run(struct event_loop *loop)
{
    loop->stopped = 0;
    while (!loop->stopped && (loop->fd_count > 0 || loop->heap_len > 0)) {
        if (event_loop_once(loop, -1) < 0)
            return -1;
    }
    loop->stopped = 0;
    return 0;
}
