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

/* Counts, for logs and tests: queued jobs overall; running jobs of a
 * transport, or of one of its destinations (dest non-NULL). */
size_t dsched_queued(const struct dsched *s);
int dsched_running(const struct dsched *s, const char *transport,
                   const char *dest);

#endif
