/* fsync_group.c: concurrent fsync of a group of files (fsync_group.h).
 *
 * A fixed pool of worker threads takes fds from a shared job; the caller
 * syncs too, then waits until every fd is done. One job runs at a time
 * (the agents are single-threaded; the lock makes it safe anyway). */
#include "base/fsync_group.h"

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "base/log.h"

/* Enough to overlap a typical multi-recipient request; more would only
 * queue in the device. */
#define WORKERS 7

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER;
static pthread_cond_t work_done = PTHREAD_COND_INITIALIZER;
static int started;

static struct {
    const int *fds;
    int *errs;
    size_t count;
    size_t next;    /* next fd to hand out */
    size_t pending; /* fds not finished */
} job;

/* Takes the next fd of the job and syncs it; call with lock held. 0 when
 * there was none. */
static int sync_one_locked(void)
{
    if (job.next >= job.count)
        return 0;
    size_t i = job.next++;
    pthread_mutex_unlock(&lock);
    int rc = fsync(job.fds[i]);
    int err = rc < 0 ? errno : 0;
    pthread_mutex_lock(&lock);
    job.errs[i] = err;
    if (--job.pending == 0)
        pthread_cond_signal(&work_done);
    return 1;
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (job.next >= job.count)
            pthread_cond_wait(&work_ready, &lock);
        sync_one_locked();
    }
    return NULL;
}

static void start_workers(void)
{
    for (int i = 0; i < WORKERS; i++) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* fsync needs little stack. */
        pthread_attr_setstacksize(&attr, 64 * 1024);
        if (pthread_create(&t, &attr, worker, NULL) != 0)
            log_warn("fsync_group: cannot start a thread; syncing in fewer");
        pthread_attr_destroy(&attr);
    }
    started = 1;
}

int fsync_group(const int *fds, int *errs, size_t count)
{
    int result = 0;
    if (count == 1) {
        errs[0] = fsync(fds[0]) < 0 ? errno : 0;
        return errs[0] ? -1 : 0;
    }
    if (count == 0)
        return 0;
    pthread_mutex_lock(&job_lock);
    pthread_mutex_lock(&lock);
    if (!started)
        start_workers();
    job.fds = fds;
    job.errs = errs;
    job.count = count;
    job.next = 0;
    job.pending = count;
    pthread_cond_broadcast(&work_ready);
    while (sync_one_locked())
        ;
    while (job.pending > 0)
        pthread_cond_wait(&work_done, &lock);
    job.fds = NULL;
    job.errs = NULL;
    job.count = job.next = 0;
    pthread_mutex_unlock(&lock);
    pthread_mutex_unlock(&job_lock);
    for (size_t i = 0; i < count; i++)
        if (errs[i])
            result = -1;
    return result;
}
