/* bgjob.c: worker threads for blocking calls (see bgjob.h). Two lists
 * under one mutex: queued jobs and finished ones; a byte in a pipe wakes
 * the loop when the finished list becomes non-empty. */
#include "base/bgjob.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"

struct bgjob {
    bgjob_fn work, done;
    void *ctx;
    struct bgjob *next;
};

struct bgjob_pool {
    struct event_loop *loop;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct bgjob *queued_head, *queued_tail;
    struct bgjob *done_head, *done_tail;
    int stopping;
    int threads;
    pthread_t *tids;
    int pipe_rd, pipe_wr;
    int armed;
    size_t pending;
};

static void *bgjob_thread(void *arg)
{
    struct bgjob_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        struct bgjob *job = p->queued_head;
        if (job == NULL) {
            if (p->stopping)
                break;
            pthread_cond_wait(&p->wake, &p->lock);
            continue;
        }
        p->queued_head = job->next;
        if (p->queued_head == NULL)
            p->queued_tail = NULL;
        pthread_mutex_unlock(&p->lock);
        job->work(job->ctx);
        pthread_mutex_lock(&p->lock);
        job->next = NULL;
        if (p->done_tail)
            p->done_tail->next = job;
        else
            p->done_head = job;
        p->done_tail = job;
        if (!p->armed) {
            p->armed = 1;
            (void)!write(p->pipe_wr, "x", 1);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void bgjob_drain(struct bgjob_pool *p)
{
    pthread_mutex_lock(&p->lock);
    char scratch[64];
    while (read(p->pipe_rd, scratch, sizeof(scratch)) > 0)
        ;
    p->armed = 0;
    struct bgjob *job = p->done_head;
    p->done_head = p->done_tail = NULL;
    pthread_mutex_unlock(&p->lock);
    while (job) {
        struct bgjob *next = job->next;
        p->pending--;
        job->done(job->ctx);
        free(job);
        job = next;
    }
}

static void bgjob_on_pipe(struct event_loop *loop, int fd, unsigned events,
                          void *ctx)
{
    (void)loop;
    (void)fd;
    (void)events;
    bgjob_drain(ctx);
}

struct bgjob_pool *bgjob_pool_new(struct event_loop *loop, int threads)
{
    struct bgjob_pool *p = xcalloc(1, sizeof(*p));
    p->loop = loop;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
        log_fatal("bgjob: pipe: %m");
    p->pipe_rd = fds[0];
    p->pipe_wr = fds[1];
    if (event_fd_add(loop, p->pipe_rd, EVENT_READ, bgjob_on_pipe, p) < 0)
        log_fatal("bgjob: event_fd_add: %m");
    p->threads = threads < 1 ? 1 : threads;
    p->tids = xcalloc((size_t)p->threads, sizeof(*p->tids));
    for (int i = 0; i < p->threads; i++) {
        int rc = pthread_create(&p->tids[i], NULL, bgjob_thread, p);
        if (rc != 0) {
            errno = rc;
            log_fatal("bgjob: pthread_create: %m");
        }
    }
    return p;
}

void bgjob_pool_free(struct bgjob_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->threads; i++)
        pthread_join(p->tids[i], NULL);
    bgjob_drain(p);
    event_fd_remove(p->loop, p->pipe_rd);
    close(p->pipe_rd);
    close(p->pipe_wr);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p->tids);
    free(p);
}

void bgjob_submit(struct bgjob_pool *p, bgjob_fn work, bgjob_fn done, void *ctx)
{
    struct bgjob *job = xcalloc(1, sizeof(*job));
    job->work = work;
    job->done = done;
    job->ctx = ctx;
    p->pending++;
    pthread_mutex_lock(&p->lock);
    if (p->queued_tail)
        p->queued_tail->next = job;
    else
        p->queued_head = job;
    p->queued_tail = job;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

size_t bgjob_pending(const struct bgjob_pool *p)
{
    return p->pending;
}
