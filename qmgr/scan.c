/* scan.c: qmgr's queue scans. Disk is the truth: incoming/ holds new
 * mail, active/ what a predecessor was delivering when it stopped, and
 * deferred/ mail waiting for its retry time (the file's mtime). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "qmgr.h"

/* Temporary files of writers that crashed (".t..." in incoming/) are
 * removed after a day, as docs/queue-format.md asks. */
#define STALE_TEMP_AGE (24 * 3600)

void scan_remove_stale_temp(DIR *dir, const char *dir_path, const char *name,
                            const struct stat *st, time_t now)
{
    if (S_ISREG(st->st_mode) && now - st->st_mtime > STALE_TEMP_AGE &&
        unlinkat(dirfd(dir), name, 0) == 0)
        log_info("removed stale temporary file %s/%s", dir_path, name);
}

typedef void (*scan_fn)(const char *qid, const struct stat *st, void *ctx);

/* Calls fn for every queue file in queue; returns 0 when the whole
 * directory was seen, 1 when fn asked to stop (*stop set). */
static void scan_dir(enum queue_name queue, scan_fn fn, void *ctx,
                     const int *stop)
{
    struct buf path = BUF_INIT;
    queue_dir_path(&path, qmgr.queue_dir, queue);
    DIR *dir = opendir(path.data);
    if (!dir) {
        log_warn("open queue directory %s: %s", path.data, strerror(errno));
        buf_free(&path);
        return;
    }
    struct dirent *de;
    time_t now = time(NULL);
    while ((de = readdir(dir)) && !(stop && *stop)) {
        struct stat st;
        if (de->d_name[0] == '.') {
            if (queue == QUEUE_INCOMING && de->d_name[1] == 't' &&
                fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                scan_remove_stale_temp(dir, path.data, de->d_name, &st, now);
            continue;
        }
        if (!qid_valid(de->d_name)) {
            log_warn("%s/%s: not a queue file name; ignored", path.data,
                     de->d_name);
            continue;
        }
        if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue; /* gone meanwhile */
        if (!S_ISREG(st.st_mode)) {
            log_warn("%s/%s: not a regular file; ignored", path.data,
                     de->d_name);
            continue;
        }
        fn(de->d_name, &st, ctx);
    }
    closedir(dir);
    buf_free(&path);
}

static int active_full(void)
{
    return (long)qmgr.message_count >= qmgr.active_limit;
}

static struct event_timer incoming_retry_timer;
static int incoming_retry_init;

static void incoming_retry(struct event_loop *loop, void *ctx)
{
    (void)loop;
    (void)ctx;
    scan_incoming();
}

/* postsuper holds a file's lock: look at incoming/ again soon. */
static void retry_incoming_soon(void)
{
    if (!incoming_retry_init) {
        event_timer_init(&incoming_retry_timer, incoming_retry, NULL);
        incoming_retry_init = 1;
    }
    if (!event_timer_pending(&incoming_retry_timer))
        event_timer_start(qmgr.loop, &incoming_retry_timer, 1000);
}

/* Takes incoming/QID; 0 when taken (or gone, or already ours), 1 when
 * the active queue is full, -1 when another process holds its lock. */
static int take_one(const char *qid)
{
    if (msg_find(qid))
        return 0;
    if (active_full()) {
        qmgr.incoming_backlog = 1;
        return 1;
    }
    return msg_load(qid, QUEUE_INCOMING, 0) < 0 ? -1 : 0;
}

static void take_incoming(const char *qid, const struct stat *st, void *ctx)
{
    (void)st;
    int *stop = ctx;
    int rc = take_one(qid);
    if (rc > 0)
        *stop = 1;
    else if (rc < 0)
        qmgr.incoming_locked = 1;
}

void scan_incoming(void)
{
    int stop = 0;
    qmgr.incoming_backlog = 0;
    qmgr.incoming_locked = 0;
    scan_dir(QUEUE_INCOMING, take_incoming, &stop, &stop);
    if (qmgr.incoming_locked)
        retry_incoming_soon();
}

void scan_take_incoming(const char *qid)
{
    if (take_one(qid) < 0)
        retry_incoming_soon();
}

/* A file in active/ at start was being delivered by our predecessor.
 * Agents hold a shared flock on a queue file while they handle a
 * request; when one still does, a request of the dead qmgr is still
 * running, and sending the message again now could deliver it twice.
 * Such files are looked at again a moment later. */
static int predecessor_busy(const char *qid)
{
    struct buf path = BUF_INIT;
    int busy = 0;
    queue_path(&path, qmgr.queue_dir, QUEUE_ACTIVE, qid);
    int fd = open(path.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        if (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
            busy = 1;
        close(fd); /* releases the probe's lock */
    }
    buf_free(&path);
    return busy;
}

static struct event_timer active_retry_timer;
static int active_retry_init;

static void active_retry(struct event_loop *loop, void *ctx)
{
    (void)loop;
    (void)ctx;
    scan_active();
}

static void take_active(const char *qid, const struct stat *st, void *ctx)
{
    (void)st;
    int *busy = ctx;
    if (msg_find(qid))
        return;
    if (predecessor_busy(qid)) {
        log_debug("%s: still in delivery by a previous qmgr's agent", qid);
        *busy = 1;
        return;
    }
    if (msg_load(qid, QUEUE_ACTIVE, 0) < 0)
        *busy = 1;
}

void scan_active(void)
{
    int busy = 0;
    scan_dir(QUEUE_ACTIVE, take_active, &busy, NULL);
    if (busy) {
        if (!active_retry_init) {
            event_timer_init(&active_retry_timer, active_retry, NULL);
            active_retry_init = 1;
        }
        event_timer_start(qmgr.loop, &active_retry_timer, 500);
    }
}

struct deferred_scan {
    int flush;
    int stop;
    time_t now;
    const char *site; /* only messages with a recipient in this domain */
};

/* 1 when a not-done recipient of deferred/QID is in domain `site`. */
static int has_site(const char *qid, const char *site)
{
    struct buf path = BUF_INIT, err = BUF_INIT;
    struct qfile_reader *reader = NULL;
    struct qfile_envelope env;
    int found = 0;
    memset(&env, 0, sizeof(env));
    queue_path(&path, qmgr.queue_dir, QUEUE_DEFERRED, qid);
    if (qfile_reader_open(path.data, 0, &reader, &err) == QFILE_OK &&
        qfile_read_envelope(reader, &env, &err) == QFILE_OK) {
        for (size_t i = 0; i < env.recipient_count && !found; i++) {
            const char *at = strrchr(env.recipients[i].address, '@');
            if (!env.recipients[i].done && at && str_equal_nocase(at + 1, site))
                found = 1;
        }
    }
    qfile_envelope_free(&env);
    qfile_reader_close(reader);
    buf_free(&path);
    buf_free(&err);
    return found;
}

static void take_deferred(const char *qid, const struct stat *st, void *ctx)
{
    struct deferred_scan *ds = ctx;
    if (!ds->flush && st->st_mtime > ds->now)
        return; /* not due yet */
    if (ds->site && !has_site(qid, ds->site))
        return;
    if (active_full()) {
        ds->stop = 1;
        return;
    }
    msg_load(qid, QUEUE_DEFERRED, ds->flush);
}

void scan_deferred(int flush)
{
    struct deferred_scan ds = {flush, 0, time(NULL), NULL};
    qmgr.last_deferred_scan = ds.now;
    scan_dir(QUEUE_DEFERRED, take_deferred, &ds, &ds.stop);
}

void scan_deferred_site(const char *site)
{
    struct deferred_scan ds = {1, 0, time(NULL), site};
    scan_dir(QUEUE_DEFERRED, take_deferred, &ds, &ds.stop);
}
