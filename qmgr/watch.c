/* watch.c: qmgr hears of new files in incoming/ from inotify. A message
 * is taken the moment its writer renames it into place, by name, with
 * no trigger connection and no directory scan per message (docs/qmgr.md,
 * "How new mail is noticed").
 *
 * Scans stay the truth: at start, on every trigger, after an overflow of
 * the event queue, and once a second when no watch can be had. */
#include <errno.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "base/log.h"
#include "qmgr.h"

/* Events read per wakeup are bounded, so a flood of new mail cannot
 * starve the agents' replies; what is left is read on the next round. */
#define WATCH_READS_PER_WAKEUP 8
#define WATCH_POLL_MS 1000

static int watch_fd = -1;
static struct event_timer poll_timer;

static void poll_tick(struct event_loop *loop, void *ctx)
{
    (void)loop;
    (void)ctx;
    qmgr_kick(1, 0, 0);
}

/* No watch: incoming/ is scanned every second instead, so mail waits at
 * most that long even when a writer's trigger does not arrive. */
static void fall_back(const char *why)
{
    log_warn("cannot watch incoming/ (%s): scanning it every second instead",
             why);
    if (watch_fd >= 0) {
        event_fd_remove(qmgr.loop, watch_fd);
        close(watch_fd);
        watch_fd = -1;
    }
    event_timer_init(&poll_timer, poll_tick, NULL);
    event_timer_start_periodic(qmgr.loop, &poll_timer, WATCH_POLL_MS);
    qmgr_kick(1, 0, 0);
}

/* One buffer of events: names of new queue files are taken at once. */
static void handle_events(const char *data, size_t len)
{
    size_t at = 0;
    while (at + sizeof(struct inotify_event) <= len) {
        const struct inotify_event *ev =
            (const struct inotify_event *)(const void *)(data + at);
        at += sizeof(*ev) + ev->len;
        if (at > len)
            break;
        if (ev->mask & IN_Q_OVERFLOW) {
            qmgr_kick(1, 0, 0); /* events were lost: look at everything */
            continue;
        }
        if (ev->mask & IN_IGNORED) {
            fall_back("the directory went away");
            return;
        }
        /* Writers' temporary names start with a dot. */
        if (ev->len == 0 || ev->name[0] == '.' || !qid_valid(ev->name))
            continue;
        scan_take_incoming(ev->name);
    }
}

static void watch_ready(struct event_loop *loop, int fd, unsigned events,
                        void *ctx)
{
    (void)loop;
    (void)events;
    (void)ctx;
    char data[16384]
        __attribute__((aligned(__alignof__(struct inotify_event))));
    for (int round = 0; round < WATCH_READS_PER_WAKEUP && watch_fd >= 0;
         round++) {
        ssize_t n = read(fd, data, sizeof(data));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            fall_back(n < 0 ? strerror(errno) : "end of file");
            return;
        }
        handle_events(data, (size_t)n);
    }
}

void watch_incoming_start(void)
{
    struct buf path = BUF_INIT;
    queue_dir_path(&path, qmgr.queue_dir, QUEUE_INCOMING);
    watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    /* IN_MOVED_TO: a writer's rename into place; IN_CREATE: the link()
     * that replaces it where rename cannot refuse to replace. */
    if (watch_fd < 0)
        fall_back(strerror(errno));
    else if (inotify_add_watch(watch_fd, buf_cstr(&path),
                               IN_MOVED_TO | IN_CREATE | IN_ONLYDIR) < 0 ||
             event_fd_add(qmgr.loop, watch_fd, EVENT_READ, watch_ready, NULL) <
                 0)
        fall_back(strerror(errno));
    buf_free(&path);
}
