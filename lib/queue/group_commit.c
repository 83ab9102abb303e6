/* group_commit.c: queue file commit in I/O threads (group_commit.h).
 *
 * Jobs move through three lists under one mutex: todo (waiting for a
 * thread to fdatasync and rename), synced (renamed, waiting for a
 * directory fsync) and done (durable or failed, waiting for the loop).
 * A thread that finishes a rename becomes the syncer when nobody is
 * syncing: it takes the whole synced list, fsyncs each distinct directory
 * once, and moves the batch to done. Renames that land while a sync runs
 * wait for the next one, since the running fsync may not cover them.
 *
 * A thread does not start a directory sync while other threads are still
 * between their fdatasync and rename: it leaves the sync to the last of
 * them, so one directory fsync covers them all (under load each message
 * had nearly one of its own). The wait is bounded: once as many files
 * wait as there are threads, the sync starts anyway, so a steady stream
 * of new files cannot hold it back. A lone message never waits. */
#include "base/fsync_dir.h"
#include "queue/group_commit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"

struct gc_job {
    struct qfile_writer *writer;
    const char *dir;
    group_commit_done_fn done;
    void *ctx;
    int status;
    struct buf err;
    struct gc_job *next;
};

struct gc_list {
    struct gc_job *head, *tail;
};

struct group_commit {
    struct event_loop *loop;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct gc_list todo, synced, done;
    int syncing;
    int in_flight;       /* jobs between todo and synced */
    size_t synced_count; /* jobs in the synced list */
    int stopping;
    int threads;
    pthread_t *tids;
    int pipe_rd, pipe_wr;
    int pipe_armed; /* a byte is in the pipe and not yet read */
    size_t pending;
};

static void list_push(struct gc_list *l, struct gc_job *job)
{
    job->next = NULL;
    if (l->tail)
        l->tail->next = job;
    else
        l->head = job;
    l->tail = job;
}

static struct gc_job *list_pop(struct gc_list *l)
{
    struct gc_job *job = l->head;
    if (job) {
        l->head = job->next;
        if (!l->head)
            l->tail = NULL;
        job->next = NULL;
    }
    return job;
}

static struct gc_job *list_take_all(struct gc_list *l)
{
    struct gc_job *head = l->head;
    l->head = l->tail = NULL;
    return head;
}

/* With the lock held: moves a chain to done and wakes the loop. */
static void finish_chain(struct group_commit *gc, struct gc_job *chain)
{
    while (chain) {
        struct gc_job *next = chain->next;
        list_push(&gc->done, chain);
        chain = next;
    }
    if (!gc->pipe_armed) {
        gc->pipe_armed = 1;
        char byte = 'x';
        (void)!write(gc->pipe_wr, &byte, 1);
    }
}

static void sync_batch(struct gc_job *batch)
{
    /* Each distinct directory once (batches are small; a quadratic scan
     * of a handful of names costs nothing next to an fsync). */
    for (struct gc_job *job = batch; job; job = job->next) {
        if (job->status != 0)
            continue;
        int seen = 0;
        for (struct gc_job *prev = batch; prev != job; prev = prev->next)
            if (prev->status == 0 && strcmp(prev->dir, job->dir) == 0) {
                seen = 1;
                break;
            }
        if (seen)
            continue;
        struct buf err = BUF_INIT;
        if (fsync_dir(job->dir, &err) < 0) {
            for (struct gc_job *j = job; j; j = j->next)
                if (j->status == 0 && strcmp(j->dir, job->dir) == 0) {
                    j->status = -1;
                    buf_append_str(&j->err, buf_cstr(&err));
                }
        }
        buf_free(&err);
    }
}

static void *gc_thread(void *arg)
{
    struct group_commit *gc = arg;
    pthread_mutex_lock(&gc->lock);
    for (;;) {
        struct gc_job *job = list_pop(&gc->todo);
        if (job) {
            gc->in_flight++;
            pthread_mutex_unlock(&gc->lock);
            if (qfile_writer_finish(job->writer, &job->err) < 0 ||
                qfile_writer_commit(job->writer, &job->err) < 0)
                job->status = -1;
            pthread_mutex_lock(&gc->lock);
            gc->in_flight--;
            if (job->status != 0) {
                finish_chain(gc, job); /* then maybe the sync's turn */
            } else {
                list_push(&gc->synced, job);
                gc->synced_count++;
            }
        }
        if (!gc->syncing && gc->synced.head &&
            (gc->in_flight == 0 || gc->synced_count >= (size_t)gc->threads)) {
            gc->syncing = 1;
            struct gc_job *batch = list_take_all(&gc->synced);
            gc->synced_count = 0;
            pthread_mutex_unlock(&gc->lock);
            sync_batch(batch);
            pthread_mutex_lock(&gc->lock);
            gc->syncing = 0;
            finish_chain(gc, batch);
            /* Renames that arrived meanwhile need another sync. */
            if (gc->synced.head)
                pthread_cond_signal(&gc->wake);
            continue;
        }
        if (job)
            continue;
        if (gc->stopping)
            break;
        pthread_cond_wait(&gc->wake, &gc->lock);
    }
    pthread_mutex_unlock(&gc->lock);
    return NULL;
}

static void gc_drain(struct group_commit *gc)
{
    pthread_mutex_lock(&gc->lock);
    char scratch[64];
    while (read(gc->pipe_rd, scratch, sizeof(scratch)) > 0)
        ;
    gc->pipe_armed = 0;
    struct gc_job *chain = list_take_all(&gc->done);
    pthread_mutex_unlock(&gc->lock);
    while (chain) {
        struct gc_job *next = chain->next;
        gc->pending--;
        chain->done(chain->ctx, chain->status, buf_cstr(&chain->err));
        buf_free(&chain->err);
        free(chain);
        chain = next;
    }
}

static void gc_on_pipe(struct event_loop *loop, int fd, unsigned events,
                       void *ctx)
{
    (void)loop;
    (void)fd;
    (void)events;
    gc_drain(ctx);
}

struct group_commit *group_commit_new(struct event_loop *loop, int threads)
{
    struct group_commit *gc = xcalloc(1, sizeof(*gc));
    gc->loop = loop;
    pthread_mutex_init(&gc->lock, NULL);
    pthread_cond_init(&gc->wake, NULL);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
        log_fatal("group_commit: pipe: %m");
    gc->pipe_rd = fds[0];
    gc->pipe_wr = fds[1];
    if (event_fd_add(loop, gc->pipe_rd, EVENT_READ, gc_on_pipe, gc) < 0)
        log_fatal("group_commit: event_fd_add: %m");
    if (threads < 1)
        threads = 1;
    gc->threads = threads;
    gc->tids = xcalloc((size_t)threads, sizeof(*gc->tids));
    for (int i = 0; i < threads; i++) {
        int rc = pthread_create(&gc->tids[i], NULL, gc_thread, gc);
        if (rc != 0) {
            errno = rc;
            log_fatal("group_commit: pthread_create: %m");
        }
    }
    return gc;
}

void group_commit_free(struct group_commit *gc)
{
    if (gc == NULL)
        return;
    pthread_mutex_lock(&gc->lock);
    gc->stopping = 1;
    pthread_cond_broadcast(&gc->wake);
    pthread_mutex_unlock(&gc->lock);
    for (int i = 0; i < gc->threads; i++)
        pthread_join(gc->tids[i], NULL);
    gc_drain(gc);
    event_fd_remove(gc->loop, gc->pipe_rd);
    close(gc->pipe_rd);
    close(gc->pipe_wr);
    pthread_cond_destroy(&gc->wake);
    pthread_mutex_destroy(&gc->lock);
    free(gc->tids);
    free(gc);
}

void group_commit_submit(struct group_commit *gc, struct qfile_writer *w,
                         const char *dir, group_commit_done_fn done, void *ctx)
{
    struct gc_job *job = xcalloc(1, sizeof(*job));
    job->writer = w;
    job->dir = dir;
    job->done = done;
    job->ctx = ctx;
    buf_init(&job->err);
    gc->pending++;
    pthread_mutex_lock(&gc->lock);
    list_push(&gc->todo, job);
    pthread_cond_signal(&gc->wake);
    pthread_mutex_unlock(&gc->lock);
}

size_t group_commit_pending(const struct group_commit *gc)
{
    return gc->pending;
}
