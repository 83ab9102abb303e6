/* bgjob.h: run blocking calls (resolver lookups) in worker threads and
 * get the result back in the event loop's thread.
 *
 * An event-mode daemon must never block its loop: one slow reverse DNS
 * lookup would stall every session of the process. A job's work
 * function runs in a worker thread and must touch only what the job
 * owns; its done function runs later in the loop's thread (from the
 * pool's wake-up pipe), where it may use everything again. */
#ifndef POSTERN_BGJOB_H
#define POSTERN_BGJOB_H

#include <stddef.h>

#include "base/event.h"

struct bgjob_pool;

typedef void (*bgjob_fn)(void *ctx);

/* Starts `threads` workers and registers the wake-up pipe with loop. */
struct bgjob_pool *bgjob_pool_new(struct event_loop *loop, int threads);
/* Runs the jobs still queued, reports every job, stops the workers. */
void bgjob_pool_free(struct bgjob_pool *pool);

/* Queues work(ctx) for a worker; done(ctx) follows in the loop. */
void bgjob_submit(struct bgjob_pool *pool, bgjob_fn work, bgjob_fn done,
                  void *ctx);

/* Jobs submitted and not yet reported. */
size_t bgjob_pending(const struct bgjob_pool *pool);

#endif
