/* event.h: the event loop every many-session daemon runs on.
 *
 * One loop per process, on epoll. It watches file descriptors for read
 * and write readiness, runs one-shot and periodic timers (millisecond
 * resolution, kept in a binary heap so thousands of sessions each with
 * an idle timer cost O(log n) per change), and turns signals into
 * ordinary callbacks through a self-pipe.
 *
 * Timers are embedded by the caller (usually in its session struct), so
 * starting and stopping one never allocates and stopping one is always
 * safe: stopping a timer that already fired or was never started does
 * nothing. Callbacks may add, change and remove any fd or timer,
 * including their own; an event for an fd removed earlier in the same
 * round is not delivered.
 *
 * Signals use a self-pipe rather than signalfd on purpose: signalfd needs
 * the signal blocked, and a blocked mask survives fork+exec, so a child
 * spawned by the master would start with SIGTERM blocked. */
#ifndef POSTERN_EVENT_H
#define POSTERN_EVENT_H

#include <stddef.h>
#include <stdint.h>

struct event_loop;

/* Interest and readiness bits for fds. */
#define EVENT_READ 1u
#define EVENT_WRITE 2u
/* Reported (never requested): error or hang-up on the fd. It comes with
 * EVENT_READ when read interest is set, so a read sees the EOF/error. */
#define EVENT_ERROR 4u

typedef void (*event_fd_cb)(struct event_loop *loop, int fd, unsigned events,
                            void *ctx);
typedef void (*event_timer_cb)(struct event_loop *loop, void *ctx);
typedef void (*event_signal_cb)(struct event_loop *loop, int signo, void *ctx);

/* A timer. Embed it, call event_timer_init() once, then start/stop it as
 * often as needed. Treat the fields as private. */
struct event_timer {
    uint64_t due_ms;      /* monotonic deadline */
    uint64_t interval_ms; /* 0 = one-shot */
    size_t heap_index;    /* position in the heap; SIZE_MAX when idle */
    event_timer_cb cb;
    void *ctx;
};

/* Creates a loop; fatal when epoll is unavailable. */
struct event_loop *event_loop_new(void);
/* Frees the loop. Registered fds are not closed; signal handlers set up
 * through this loop are reset to their defaults. */
void event_loop_free(struct event_loop *loop);

/* Runs until event_loop_stop() is called or nothing is left to wait for
 * (no fd with interest, no pending timer). Returns 0, or -1 when epoll
 * fails (errno set). */
int event_loop_run(struct event_loop *loop);
/* Runs one round: waits at most timeout_ms (-1 = until something
 * happens) and dispatches what is ready. Returns the number of callbacks
 * run, or -1 on error. Useful in tests and in custom loops. */
int event_loop_once(struct event_loop *loop, int timeout_ms);
/* Makes event_loop_run() return after the current callback. */
void event_loop_stop(struct event_loop *loop);

/* The loop's cached monotonic clock in ms, refreshed once per round. */
uint64_t event_now_ms(struct event_loop *loop);

/* Watches fd with interest EVENT_READ and/or EVENT_WRITE (0 keeps it
 * registered but quiet). One registration per fd. Returns 0, or -1 with
 * errno (EEXIST when fd is already registered). */
int event_fd_add(struct event_loop *loop, int fd, unsigned interest,
                 event_fd_cb cb, void *ctx);
/* Gives a registered fd a new callback and interest with one epoll call
 * (what event_fd_remove and event_fd_add do with three); registers an
 * unknown fd. Returns 0, or -1 with errno (the fd is then unregistered). */
int event_fd_rebind(struct event_loop *loop, int fd, unsigned interest,
                    event_fd_cb cb, void *ctx);
/* Changes the interest of a registered fd. Returns 0 or -1 (errno). */
int event_fd_set(struct event_loop *loop, int fd, unsigned interest);
/* Stops watching fd (call before closing it). Safe on unknown fds. */
void event_fd_remove(struct event_loop *loop, int fd);
/* Number of registered fds. */
size_t event_fd_count(const struct event_loop *loop);

void event_timer_init(struct event_timer *timer, event_timer_cb cb, void *ctx);
/* (Re)starts a one-shot timer to fire after ms milliseconds. */
void event_timer_start(struct event_loop *loop, struct event_timer *timer,
                       uint64_t ms);
/* (Re)starts a periodic timer firing every ms milliseconds (ms > 0). */
void event_timer_start_periodic(struct event_loop *loop,
                                struct event_timer *timer, uint64_t ms);
/* Cancels the timer; a no-op when it is not pending. */
void event_timer_stop(struct event_loop *loop, struct event_timer *timer);
int event_timer_pending(const struct event_timer *timer);
/* Number of pending timers. */
size_t event_timer_count(const struct event_loop *loop);

/* Delivers signo to cb from the loop (not from signal context). Returns
 * 0 or -1 (errno). Only one loop per process should handle signals. */
int event_signal_add(struct event_loop *loop, int signo, event_signal_cb cb,
                     void *ctx);
/* Restores the default disposition of signo. */
void event_signal_remove(struct event_loop *loop, int signo);

#endif
