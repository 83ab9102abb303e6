/* dsched.h: the delivery scheduler's data structure: per-transport and
 * per-destination concurrency limits over queues of jobs.
 *
 * qmgr enqueues each delivery job under a transport name ("virtual") and
 * a destination ("example.org", or a recipient for transports that
 * deliver one recipient at a time) and asks for the next job it may
 * start. A job may start when its transport has fewer than its
 * transport limit in flight and its destination fewer than its
 * destination limit. Transports take turns, and so do the destinations
 * of one transport (round robin), so one busy domain cannot starve the
 * others. Everything is O(1) per operation: destinations that may start
 * a job are kept on a ready ring, and destinations are found by hash.
 *
 * Jobs are embedded by the caller (struct dsched_job in its own struct),
 * so the scheduler never allocates per job. It reads no configuration:
 * limits come from a callback when a transport is first seen. Pure data
 * structure, unit-tested in tests/unit/test_dsched.c. */
#ifndef POSTERN_DSCHED_H
#define POSTERN_DSCHED_H

#include <stddef.h>
#include <stdint.h>

struct dsched;
struct dsched_dest;

/* A job, embedded in the caller's struct. Only `data` is the caller's. */
struct dsched_job {
    struct dsched_job *next;  /* private: queue link */
    struct dsched_dest *dest; /* private: set by dsched_enqueue */
    void *data;               /* the caller's */
};

/* Called once per transport name to learn its limits: how many jobs may
 * run at once over all its destinations, and per destination (both
 * at least 1; smaller values are raised to 1). */
typedef void (*dsched_limits_fn)(void *ctx, const char *transport,
                                 int *transport_limit, int *dest_limit);

struct dsched *dsched_new(dsched_limits_fn limits, void *ctx);
/* Frees the scheduler. Queued jobs are the caller's and are not freed. */
void dsched_free(struct dsched *s);

/* Queues job at the tail of its destination's queue. */
void dsched_enqueue(struct dsched *s, const char *transport, const char *dest,
                    struct dsched_job *job);
/* The next job that may start, counted as running from now on; NULL
 * when none may start (nothing queued, or every queue at its limit). */
struct dsched_job *dsched_next(struct dsched *s);
/* A job returned by dsched_next has finished: frees its slot. */
void dsched_done(struct dsched *s, struct dsched_job *job);

/* The names a queued or running job was filed under. */
const char *dsched_job_transport(const struct dsched_job *job);
const char *dsched_job_dest(const struct dsched_job *job);

/* A suspended transport starts no job (its queued jobs wait). */
void dsched_suspend(struct dsched *s, const char *transport, int suspended);
/* Removes every queued (not running) job of transport and returns them
 * as a list linked through job->next, in no particular order. */
struct dsched_job *dsched_take_all(struct dsched *s, const char *transport);

/* ---- flow control per destination ----
 *
 * Postfix's destination concurrency feedback, and a back-off of our own
 * for destinations that say they are rate-limiting us (docs/qmgr.md,
 * "Flow control per destination"). A destination's window starts at
 * `initial` (at most the destination limit); each job that reaches the
 * destination adds `positive` to a counter and the window grows by one
 * each time the counter reaches 1; each job that cannot reach it
 * (connection or handshake failure) adds `negative` to another and the
 * window shrinks by one (never below 1). A negative feedback value -N stands for
 * Postfix's "N/concurrency": N divided by the window at that moment. Failures also
 * count cohorts, 1/window each: a destination whose failed cohorts reach
 * `failed_cohort_limit` is dead (dsched_feedback says so; the caller
 * defers its mail). A success clears both failure counters.
 *
 * `rate_delay_ms` (Postfix's *_destination_rate_delay) spaces job starts
 * to one destination and makes its concurrency 1. A THROTTLED outcome
 * (the destination answered with a rate-limit reply) sets the window to
 * 1 at once and a delay between job starts of `backoff_initial_ms`,
 * doubled by each further THROTTLED up to `backoff_max_ms`; each job
 * that then reaches the destination cuts the delay by 1/8, and below one
 * second it ends and the window grows again from 1. A destination under
 * back-off is kept while idle, so the back-off outlives its queue; it is
 * forgotten after 4 x backoff_max_ms without any outcome. */
struct dsched_flow {
    int initial;                 /* starting window; >= 1 */
    double positive, negative;   /* per job; -N: N/window */
    double failed_cohort_limit;  /* 0: never dead */
    uint64_t rate_delay_ms;      /* 0: none */
    uint64_t backoff_initial_ms; /* 0: no rate-limit back-off */
    uint64_t backoff_max_ms;
};

/* Called once per transport, after the limits, with flow preset to "no
 * feedback" (initial = the destination limit, no delays). */
typedef void (*dsched_flow_fn)(void *ctx, const char *transport,
                               struct dsched_flow *flow);
void dsched_set_flow(struct dsched *s, dsched_flow_fn fn, void *ctx);

/* The clock for delays, in milliseconds (default: CLOCK_MONOTONIC). */
void dsched_set_clock(struct dsched *s, uint64_t (*now_ms)(void *ctx),
                      void *ctx);

enum dsched_outcome {
    DSCHED_OK,        /* the job reached its destination */
    DSCHED_FAILED,    /* it could not (connection or handshake failure) */
    DSCHED_THROTTLED, /* the destination said it is rate-limiting us */
};

/* Feeds a running job's outcome back to its destination (call before
 * dsched_done). Returns 1 when the destination is now dead: its failed
 * cohorts reached the limit. The caller then takes its queued jobs with
 * dsched_take_dest and defers them. */
int dsched_feedback(struct dsched *s, struct dsched_job *job,
                    enum dsched_outcome outcome);

/* Removes every queued (not running) job of one destination, as a list
 * linked through job->next. */
struct dsched_job *dsched_take_dest(struct dsched *s, const char *transport,
                                    const char *dest);

/* Marks a destination dead until until_ms (dsched's clock), with the
 * reason its mail is deferred with (copied). A dead destination starts
 * no jobs and is kept while idle so the mark lasts. */
void dsched_set_dead(struct dsched *s, const char *transport,
                     const char *dest, uint64_t until_ms, const char *reason);
/* The reason when the destination is dead now, else NULL (an expired
 * mark is cleared here). */
const char *dsched_dead(struct dsched *s, const char *transport,
                        const char *dest);
/* Forgets every dead mark (postqueue -f). */
void dsched_forget_dead(struct dsched *s);
/* Now on dsched's clock, in milliseconds. */
uint64_t dsched_now_ms(const struct dsched *s);

/* Milliseconds until a destination held back by a delay may start its
 * next job; UINT64_MAX when none is waiting on a delay. */
uint64_t dsched_wakeup_ms(struct dsched *s);

/* A destination's flow state, for logs and tests. 0, or -1 when the
 * destination is unknown. */
struct dsched_dest_state {
    double window;
    uint64_t delay_ms; /* between job starts: rate delay or back-off */
    int running;
    size_t queued;
};
int dsched_dest_state(struct dsched *s, const char *transport,
                      const char *dest, struct dsched_dest_state *out);

/* Counts, for logs and tests: queued jobs overall; running jobs of a
 * transport, or of one of its destinations (dest non-NULL). */
size_t dsched_queued(const struct dsched *s);
int dsched_running(const struct dsched *s, const char *transport,
                   const char *dest);

#endif
