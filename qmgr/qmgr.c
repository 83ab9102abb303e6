/* qmgr.c: the queue manager's main: configuration, the master contract,
 * triggers and timers (docs/qmgr.md).
 *
 * qmgr is one long-running process (master.cf: `qmgr unix n - n 300 1
 * qmgr`). master hands it the listening socket public/qmgr; clients
 * connect, write trigger bytes and close:
 *   A, I  new mail in incoming/ (smtpd after each group commit)
 *   D     scan deferred/ for messages whose retry time has come
 *   F     flush: retry every deferred message now (postqueue -f),
 *         defer_transports included
 *   W     master's wakeup: incoming/, and deferred/ when queue_run_delay
 *         has passed since the last scan
 * Unknown bytes are ignored. qmgr reports itself busy to master once,
 * at start, and never idle: it serves every trigger itself, so master
 * never needs a second one, and a qmgr killed later is restarted by the
 * next trigger without the start-up throttle. EOF on the lifeline makes
 * it exit: work in flight is redone from disk by its successor. */
#include "qmgr.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "master_proto.h"
#include "mem.h"
#include "privs.h"
#include "resolve.h"
#include "rewrite.h"

struct qmgr qmgr;

#define TRIGGER_MAX 1024

struct trigger_conn {
    int fd;
    size_t got;
    struct event_timer timer;
};

static void report_taken(void)
{
    struct master_status rec;
    memset(&rec, 0, sizeof(rec));
    rec.pid = getpid();
    const char *gen = getenv(MASTER_GENERATION_ENV);
    rec.generation = gen ? (unsigned)strtoul(gen, NULL, 10) : 0;
    rec.status = MASTER_STAT_TAKEN;
    if (write(MASTER_STATUS_FD, &rec, sizeof(rec)) != (ssize_t)sizeof(rec))
        log_debug("no status pipe to master: %s", strerror(errno));
}

static void kick_cb(struct event_loop *loop, void *ctx)
{
    (void)loop;
    (void)ctx;
    int incoming = qmgr.want_incoming, deferred = qmgr.want_deferred;
    int flush = qmgr.want_flush;
    qmgr.want_incoming = qmgr.want_deferred = qmgr.want_flush = 0;
    if (deferred || flush)
        scan_deferred(flush);
    if (incoming)
        scan_incoming();
}

void qmgr_kick(int incoming, int deferred, int flush)
{
    qmgr.want_incoming |= incoming;
    qmgr.want_deferred |= deferred;
    qmgr.want_flush |= flush;
    if (!event_timer_pending(&qmgr.kick_timer))
        event_timer_start(qmgr.loop, &qmgr.kick_timer, 0);
}

static void trigger_bytes(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (data[i]) {
        case 'A':
        case 'I':
            qmgr_kick(1, 0, 0);
            break;
        case 'D':
            qmgr_kick(0, 1, 0);
            break;
        case 'F':
            qmgr_kick(1, 1, 1);
            break;
        case MASTER_TRIGGER_WAKEUP:
            qmgr_kick(1, time(NULL) - qmgr.last_deferred_scan >=
                             qmgr.queue_run_delay,
                      0);
            break;
        default:
            break;
        }
    }
}

static void trigger_close(struct trigger_conn *tc)
{
    event_timer_stop(qmgr.loop, &tc->timer);
    event_fd_remove(qmgr.loop, tc->fd);
    close(tc->fd);
    free(tc);
}

static void trigger_timeout(struct event_loop *loop, void *ctx)
{
    (void)loop;
    trigger_close(ctx);
}

static void trigger_read(struct event_loop *loop, int fd, unsigned events,
                         void *ctx)
{
    (void)loop;
    (void)events;
    struct trigger_conn *tc = ctx;
    char data[256];
    ssize_t got = read(fd, data, sizeof(data));
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (got > 0) {
        size_t use = (size_t)got;
        if (tc->got + use > TRIGGER_MAX)
            use = TRIGGER_MAX - tc->got;
        trigger_bytes(data, use);
        tc->got += use;
        if (tc->got < TRIGGER_MAX)
            return;
    }
    trigger_close(tc);
}

static void listener_ready(struct event_loop *loop, int fd, unsigned events,
                           void *ctx)
{
    (void)events;
    (void)ctx;
    for (int i = 0; i < 64; i++) {
        int conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (conn < 0)
            return;
        struct trigger_conn *tc = xcalloc(1, sizeof(*tc));
        tc->fd = conn;
        event_timer_init(&tc->timer, trigger_timeout, tc);
        event_timer_start(loop, &tc->timer, 10000);
        if (event_fd_add(loop, conn, EVENT_READ, trigger_read, tc) < 0) {
            event_timer_stop(loop, &tc->timer);
            close(conn);
            free(tc);
        }
    }
}

static void lifeline_ready(struct event_loop *loop, int fd, unsigned events,
                           void *ctx)
{
    (void)loop;
    (void)fd;
    (void)events;
    (void)ctx;
    /* master stopped or retired us; whatever is in flight is on disk */
    log_debug("master went away; exiting");
    exit(0);
}

static void on_signal(struct event_loop *loop, int signo, void *ctx)
{
    (void)loop;
    (void)ctx;
    log_debug("exiting on signal %d", signo);
    exit(0);
}

static void deferred_tick(struct event_loop *loop, void *ctx)
{
    (void)loop;
    (void)ctx;
    qmgr_kick(1, 1, 0);
}

/* chroot = y in master.cf: master leaves the chroot and the privilege
 * drop to us (lib/master_proto.h). Every path qmgr builds starts with
 * queue_dir, which becomes "" (the new root). */
static void enter_chroot(void)
{
    const char *root = getenv(MASTER_CHROOT_ENV);
    const char *unpriv = getenv(MASTER_UNPRIV_ENV);
    struct buf err = BUF_INIT;
    if (!root)
        return;
    int rc = privs_chroot(root, &err);
    if (rc < 0)
        log_fatal("%s", err.data);
    if (rc == 0)
        qmgr.queue_dir = "";
    if (unpriv) {
        unsigned long uid, gid;
        if (sscanf(unpriv, "%lu:%lu", &uid, &gid) != 2)
            log_fatal("bad %s: %s", MASTER_UNPRIV_ENV, unpriv);
        if (privs_drop_ids((uid_t)uid, (gid_t)gid, NULL, &err) < 0)
            log_fatal("%s", err.data);
    }
    buf_free(&err);
}

static void load_settings(void)
{
    qmgr.queue_dir = cfg_str("queue_directory");
    qmgr.myhostname = cfg_str("myhostname");
    qmgr.min_backoff = cfg_time("minimal_backoff_time");
    qmgr.max_backoff = cfg_time("maximal_backoff_time");
    qmgr.queue_lifetime = cfg_time("maximal_queue_lifetime");
    qmgr.bounce_lifetime = cfg_time("bounce_queue_lifetime");
    qmgr.queue_run_delay = cfg_time("queue_run_delay");
    qmgr.delay_warning = cfg_time("delay_warning_time");
    qmgr.transport_retry = cfg_time("transport_retry_time");
    qmgr.ipc_timeout = cfg_time("ipc_timeout");
    qmgr.active_limit = cfg_int("qmgr_message_active_limit");
    qmgr.bounce_size_limit = cfg_int("bounce_size_limit");
    qmgr.log_resolution = (int)cfg_int("delay_logging_resolution_limit");
    strlist_init(&qmgr.defer_transports);
    cfg_list("defer_transports", &qmgr.defer_transports);
    if (qmgr.queue_run_delay < 1)
        qmgr.queue_run_delay = 1;
}

int main(int argc, char **argv)
{
    const char *config_dir = NULL;
    int opt, verbose = 0;
    struct strlist overrides;
    strlist_init(&overrides);
    signal(SIGPIPE, SIG_IGN);
    while ((opt = getopt(argc, argv, "c:n:t:o:v")) != -1) {
        switch (opt) {
        case 'c':
            config_dir = optarg;
            break;
        case 'o':
            strlist_add(&overrides, optarg);
            break;
        case 'v':
            verbose++;
            break;
        case 'n':
        case 't':
            break;
        default:
            fprintf(stderr, "usage: qmgr [-c dir] [-v] [-o name=value]\n");
            return 2;
        }
    }
    log_set_program("qmgr");
    struct buf err = BUF_INIT;
    if (config_load(config_resolve_dir(config_dir), &err) < 0)
        log_fatal("%s", err.data);
    for (size_t i = 0; i < overrides.count; i++)
        if (config_override_arg(overrides.items[i]) < 0)
            log_fatal("bad -o argument: %s", overrides.items[i]);
    log_set_syslog_name(cfg_str("syslog_name"));
    log_open(cfg_str("maillog_file"), NULL);
    log_set_verbose(verbose);
    load_settings();

    struct rewrite_settings rws;
    rewrite_settings_from_config(&rws);
    buf_reset(&err);
    qmgr.rewrite = rewrite_open(&rws, &err);
    if (!qmgr.rewrite)
        log_fatal("%s", err.data);
    struct resolve_settings rs;
    resolve_settings_from_config(&rs);
    buf_reset(&err);
    qmgr.resolver = resolve_open(&rs, qmgr.rewrite, &err);
    if (!qmgr.resolver)
        log_fatal("%s", err.data);
    buf_free(&err);

    if (chdir(qmgr.queue_dir) < 0)
        log_fatal("chdir %s: %s", qmgr.queue_dir, strerror(errno));
    qmgr.loop = event_loop_new();
    deliver_init(); /* reads master.cf: before a chroot */
    enter_chroot();

    event_timer_init(&qmgr.kick_timer, kick_cb, NULL);
    event_timer_init(&qmgr.deferred_timer, deferred_tick, NULL);
    event_signal_add(qmgr.loop, SIGTERM, on_signal, NULL);

    const char *count_text = getenv(MASTER_LISTEN_COUNT_ENV);
    int listeners = count_text ? atoi(count_text) : 0;
    for (int i = 0; i < listeners && i < 64; i++)
        event_fd_add(qmgr.loop, MASTER_LISTEN_FD + i, EVENT_READ,
                     listener_ready, NULL);
    if (fcntl(MASTER_LIFELINE_FD, F_GETFD) >= 0)
        event_fd_add(qmgr.loop, MASTER_LIFELINE_FD, EVENT_READ,
                     lifeline_ready, NULL);
    report_taken();

    /* Disk is the truth: pick up what a predecessor left in active/,
     * then new mail, then deferred mail that is due. */
    scan_active();
    qmgr_kick(1, 1, 0);
    event_timer_start_periodic(qmgr.loop, &qmgr.deferred_timer,
                               (uint64_t)qmgr.queue_run_delay * 1000);
    if (event_loop_run(qmgr.loop) < 0)
        log_fatal("event loop: %s", strerror(errno));
    return 0;
}
