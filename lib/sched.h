/* sched.h: the delivery scheduler's data structure: per-transport and
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
 * Jobs are embedded by the caller (struct sched_job in its own struct),
 * so the scheduler never allocates per job. It reads no configuration:
 * limits come from a callback when a transport is first seen. Pure data
 * structure, unit-tested in tests/unit/test_sched.c. */
#ifndef POSTERN_SCHED_H
#define POSTERN_SCHED_H

#include <stddef.h>

struct sched;
struct sched_dest;

/* A job, embedded in the caller's struct. Only `data` is the caller's. */
struct sched_job {
    struct sched_job *next;  /* private: queue link */
    struct sched_dest *dest; /* private: set by sched_enqueue */
    void *data;              /* the caller's */
};

/* Called once per transport name to learn its limits: how many jobs may
 * run at once over all its destinations, and per destination (both
 * at least 1; smaller values are raised to 1). */
typedef void (*sched_limits_fn)(void *ctx, const char *transport,
                                int *transport_limit, int *dest_limit);

struct sched *sched_new(sched_limits_fn limits, void *ctx);
/* Frees the scheduler. Queued jobs are the caller's and are not freed. */
void sched_free(struct sched *s);

/* Queues job at the tail of its destination's queue. */
void sched_enqueue(struct sched *s, const char *transport, const char *dest,
                   struct sched_job *job);
/* The next job that may start, counted as running from now on; NULL
 * when none may start (nothing queued, or every queue at its limit). */
struct sched_job *sched_next(struct sched *s);
/* A job returned by sched_next has finished: frees its slot. */
void sched_done(struct sched *s, struct sched_job *job);

/* The names a queued or running job was filed under. */
const char *sched_job_transport(const struct sched_job *job);
const char *sched_job_dest(const struct sched_job *job);

/* A suspended transport starts no job (its queued jobs wait). */
void sched_suspend(struct sched *s, const char *transport, int suspended);
/* Removes every queued (not running) job of transport and returns them
 * as a list linked through job->next, in no particular order. */
struct sched_job *sched_take_all(struct sched *s, const char *transport);

/* Counts, for logs and tests: queued jobs overall; running jobs of a
 * transport, or of one of its destinations (dest non-NULL). */
size_t sched_queued(const struct sched *s);
int sched_running(const struct sched *s, const char *transport,
                  const char *dest);

#endif
