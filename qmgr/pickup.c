/* pickup.c: qmgr's half of `postsuper -r`. postsuper moves a message to
 * maildrop/ and sends the R trigger; here each message there goes
 * through the intake rewriting again into a new queue file in incoming/
 * (lib/queue/requeue.h, lib/queue/recleanup.h), as Postfix's pickup and cleanup do,
 * and the incoming scan delivers it.
 *
 * maildrop/ is looked at on R, at start (what a predecessor left), and
 * on each wakeup (a message whose tables failed is tried again then).
 * The work is done in batches between other events, so `postsuper -r
 * ALL` over a big queue does not stall deliveries. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "qmgr.h"
#include "queue/maildrop_file.h"
#include "queue/requeue.h"

/* Messages requeued before other events get a turn. */
#define PICKUP_BATCH 50
/* A message another process has locked is looked at again after this. */
#define PICKUP_BUSY_RETRY_MS 1000

static struct event_timer pickup_timer;
static int pickup_timer_ready;
static struct strlist pass; /* the names of the current pass */
static size_t pass_next;    /* the next one to do */
static int pass_open;       /* a pass is under way */
static int again;           /* asked for while a pass was under way */

/* Lists maildrop/ for a new pass; removes stale temporary files. */
static void pass_start(void)
{
    struct buf path = BUF_INIT;
    strlist_free(&pass);
    strlist_init(&pass);
    pass_next = 0;
    queue_dir_path(&path, qmgr.queue_dir, QUEUE_MAILDROP);
    DIR *dir = opendir(path.data);
    if (!dir) {
        if (errno != ENOENT)
            log_warn("open queue directory %s: %s", path.data, strerror(errno));
        buf_free(&path);
        return;
    }
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(dir))) {
        struct stat st;
        if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (de->d_name[0] == '.') {
            /* a requeue that crashed left it */
            scan_remove_stale_temp(dir, path.data, de->d_name, &st, now);
            continue;
        }
        /* What sendmail left through postdrop while the system was down
         * is the pickup daemon's (pickup/pickup.c). */
        if (maildrop_file_name(de->d_name))
            continue;
        if (!qid_valid(de->d_name)) {
            log_warn("%s/%s: not a queue file name; ignored", path.data,
                     de->d_name);
            continue;
        }
        strlist_add(&pass, de->d_name);
    }
    closedir(dir);
    buf_free(&path);
}

static void pickup_run(struct event_loop *loop, void *ctx)
{
    (void)loop;
    (void)ctx;
    if (!pass_open) {
        pass_start();
        pass_open = 1;
        again = 0;
    }
    int incoming = 0, deferred = 0, busy = 0;
    struct buf err = BUF_INIT;
    for (int done = 0; pass_next < pass.count && done < PICKUP_BATCH; done++) {
        const char *qid = pass.items[pass_next++];
        struct requeue_outcome out;
        buf_reset(&err);
        switch (requeue_pickup(qmgr.rewrite, qmgr.queue_dir, qid, &out, &err)) {
        case REQUEUE_DONE:
            if (out.queue == QUEUE_DEFERRED)
                deferred = 1;
            else
                incoming = 1;
            break;
        case REQUEUE_BUSY:
            busy = 1; /* postsuper is still moving it */
            break;
        case REQUEUE_LATER:
            log_warn("%s: requeue deferred: %s", qid, buf_cstr(&err));
            break;
        case REQUEUE_CORRUPT:
        case REQUEUE_GONE:
            break;
        }
    }
    buf_free(&err);
    if (incoming || deferred)
        qmgr_kick(incoming, deferred, 0);
    if (pass_next < pass.count) {
        event_timer_start(qmgr.loop, &pickup_timer, 0); /* the next batch */
        if (busy)
            again = 1;
        return;
    }
    pass_open = 0;
    if (again)
        event_timer_start(qmgr.loop, &pickup_timer, 0);
    else if (busy)
        event_timer_start(qmgr.loop, &pickup_timer, PICKUP_BUSY_RETRY_MS);
}

void pickup_kick(void)
{
    if (!pickup_timer_ready) {
        event_timer_init(&pickup_timer, pickup_run, NULL);
        strlist_init(&pass);
        pickup_timer_ready = 1;
    }
    if (pass_open)
        again = 1; /* the next batch is due; new files may not be in this
                      pass's list */
    else
        event_timer_start(qmgr.loop, &pickup_timer, 0);
}
