/* qmgr.h: the queue manager's shared state and the contracts between
 * its files (docs/qmgr.md).
 *
 *   qmgr.c     main: configuration, the master contract, triggers, timers
 *   scan.c     queue scans: incoming/, active/, deferred/
 *   watch.c    new files in incoming/ reported by inotify
 *   message.c  a message in memory: load, route its recipients, finish
 *   deliver.c  delivery jobs, the scheduler, agent connections, replies
 *   notify.c   bounces, delay warnings and success notices
 *   pickup.c   requeued mail (postsuper -r) from maildrop/
 *
 * One process, one event loop, no threads. Disk is the truth: every
 * decision that must survive a crash is on disk before it is acted on
 * (bounce entries before the done mark, the done mark before the reply),
 * and everything in memory is rebuilt by scanning at start. */
#ifndef POSTERN_QMGR_H
#define POSTERN_QMGR_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include "base/buf.h"
#include "message/dsn.h"
#include "base/event.h"
#include "queue/qfile_reader.h"
#include "queue/qid.h"
#include "queue/queue_dirs.h"
#include "queue/dsched.h"
#include "base/str.h"

struct resolver;
struct rewrite;
struct agent_conn;

/* What happened to one recipient in this attempt. */
enum qrcpt_state {
    QRCPT_PENDING,  /* waiting for, or in, a delivery */
    QRCPT_SENT,     /* delivered (done in the file) */
    QRCPT_DEFERRED, /* temporary failure; the reason is in dsn */
    QRCPT_BOUNCED,  /* permanent failure, recorded in bounce/ and done */
};

struct qrcpt {
    const struct qfile_recipient *rcpt; /* in msg->env */
    enum qrcpt_state state;
    struct dsn dsn; /* DEFERRED: the reason (status set); else unset */
    int has_dsn;
};

/* Levels of notification, kept in the "notify_level" attribute of the
 * notices we queue: a failed level 1 goes to the postmaster (level 2), a
 * failed level 2 is logged and dropped. */
#define QMSG_LEVEL_MAIL 0
#define QMSG_LEVEL_NOTICE 1
#define QMSG_LEVEL_POSTMASTER 2

/* A message in the active queue. */
struct qmsg {
    struct qmsg *prev, *next;
    struct qmsg *hash_next; /* message.c's index by queue id */
    char qid[QID_BUF_SIZE];
    int fd; /* the queue file, read-write, for done marks and patches */
    struct qfile_envelope env;
    struct qrcpt *rcpts; /* the not-done recipients, in file order */
    size_t rcpt_count;
    size_t jobs_open; /* jobs queued or running */
    int level;        /* QMSG_LEVEL_* */
    int flush;        /* loaded by a flush: ignore defer_transports */
    struct timeval active_time;
    int bounced_now;  /* recipients were added to bounce/ in this attempt */
    int old_logs;     /* came from active/ or deferred/: defer/ID or
                         bounce/ID may exist from an earlier attempt */
    int deferred_now; /* recipients were added to defer/ in this attempt */
};

/* One delivery request: some recipients of one message that share a
 * transport and next hop. */
struct qjob {
    struct dsched_job sched; /* sched.data points back here */
    struct qmsg *msg;
    char *transport;
    char *nexthop;
    size_t *rcpt_index; /* into msg->rcpts */
    size_t rcpt_count;
    struct timeval handoff;
    int retried; /* already re-sent once after a broken connection */
};

struct qmgr {
    struct event_loop *loop;
    const char *queue_dir;
    const char *myhostname;
    long min_backoff, max_backoff, queue_lifetime, bounce_lifetime;
    long queue_run_delay, delay_warning, transport_retry, ipc_timeout;
    long active_limit, bounce_size_limit;
    int log_resolution;
    struct strlist defer_transports;
    struct rewrite *rewrite;
    struct resolver *resolver;
    struct dsched *sched;

    struct qmsg *messages; /* the active queue */
    size_t message_count;
    int incoming_backlog; /* incoming/ may hold files we did not take */
    int incoming_locked;  /* ... or files another process had locked */

    struct agent_conn *idle_conns;     /* connections waiting for work */
    struct event_timer deferred_timer; /* queue_run_delay scans */
    struct event_timer kick_timer;     /* "as soon as idle" work */
    struct event_timer flow_timer;     /* destinations waiting on a delay */
    time_t last_deferred_scan;
    int want_incoming, want_deferred, want_flush;
    /* transports that could not be reached, until a time */
    struct dead_transport {
        char *name;
        time_t until;
        char *reason;
    } * dead;
    size_t dead_count;
};

extern struct qmgr qmgr;

/* qmgr.c */
/* Asks for a scan as soon as the current callbacks are done. */
void qmgr_kick(int incoming, int deferred, int flush);

/* scan.c */
void scan_incoming(void);
/* Takes incoming/QID now, as a scan would (watch.c names new files). */
void scan_take_incoming(const char *qid);
/* Removes dir_path/name (in dir), a writer's temporary file, when it is
 * a regular file untouched for a day (docs/queue-format.md). */
void scan_remove_stale_temp(DIR *dir, const char *dir_path, const char *name,
                            const struct stat *st, time_t now);
void scan_active(void);
/* Moves deferred messages whose retry time has come (all with flush)
 * into active/ and loads them. */
void scan_deferred(int flush);
/* postqueue -s: deferred messages with a recipient in domain site, now. */
void scan_deferred_site(const char *site);

/* watch.c */
/* Watches incoming/ for files renamed into place and takes each at once;
 * without inotify, scans incoming/ every second instead. */
void watch_incoming_start(void);

/* message.c */
/* Takes QID from queue `from` (INCOMING or DEFERRED: moved to active/
 * first; ACTIVE: as is) under the queue lock and starts its delivery.
 * Returns -1 when another process holds the lock (try later), else 0
 * (also when the file is gone or unusable; that is logged). */
int msg_load(const char *qid, enum queue_name from, int flush);
struct qmsg *msg_find(const char *qid);
/* A recipient's attempt is over: state and, for DEFERRED, the reason.
 * Records what must be recorded (defer/, bounce/ and done mark). */
void msg_rcpt_result(struct qmsg *msg, size_t index, enum qrcpt_state state,
                     const struct dsn *dsn, const char *relay);
/* Called when a message's last job ended: deletes, defers or expires. */
void msg_finish(struct qmsg *msg);
/* Logs a to= line for a recipient whose fate qmgr decided itself. */
void msg_log_rcpt(struct qmsg *msg, size_t index, const char *relay,
                  const struct dsn *dsn, const char *status_word);

/* pickup.c */
/* Looks at maildrop/ soon: messages postsuper -r put there go through
 * the intake rewriting again (lib/queue/requeue.h). */
void pickup_kick(void);

/* deliver.c */
void deliver_init(void);
/* Queues a job for its transport and next hop; a job for a destination
 * found dead is deferred and freed at once (jobs_open drops; the caller
 * finishes the message when none is left). */
void deliver_enqueue(struct qjob *job);
/* Starts every job the limits allow. */
void deliver_run(void);
/* 1 and the reason when transport is known to be down. */
int deliver_transport_dead(const char *transport, const char **reason);
void qjob_free(struct qjob *job);

/* notify.c */
/* Sends the notices a finished attempt owes: the bounce for bounce/QID
 * (then removes it), a delay warning for deferred recipients when due,
 * success notices for NOTIFY=SUCCESS. Returns 0, or -1 when a notice
 * could not be queued (the message is then kept and retried). */
int notify_bounces(struct qmsg *msg);
void notify_delay(struct qmsg *msg);
void notify_success(struct qmsg *msg);

#endif
