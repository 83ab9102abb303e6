/* qmgr.c: the queue manager's main: configuration, the master contract,
 * triggers and timers (docs/qmgr.md).
 *
 * qmgr is one long-running process (master.cf: `qmgr unix n - n 300 1
 * qmgr`). master hands it the listening socket public/qmgr; clients
 * connect, write trigger bytes and close:
 *   A     new mail in incoming/ (smtpd after each group commit)
 *   D     scan deferred/ for messages whose retry time has come
 *   F     flush: forget dead transports, retry every deferred message
 *         now (postqueue -f), defer_transports included
 *   W     master's wakeup: incoming/, and deferred/ when queue_run_delay
 *         has passed since the last scan; maildrop/
 *   R     requeued mail in maildrop/ (postsuper -r; pickup.c)
 *   S site LF   retry now deferred mail with a recipient in domain site
 *   Q id LF     retry deferred message id now
 * (lib/queue/qmgr_trigger.h, docs/mail-flow.md). Unknown bytes are ignored.
 * F, S and Q are honoured only for users in authorized_flush_users.
 * qmgr is a long-running trigger service of the server skeleton
 * (lib/ipc/server.h), which reads each trigger connection and keeps the
 * master contract, the chroot and the privilege drop. EOF on the
 * lifeline makes it exit: work in flight is redone from disk by its
 * successor. */
#include "qmgr.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/peercred.h"
#include "queue/qmgr_trigger.h"
#include "queue/queue_dirs.h"
#include "routing/resolve.h"
#include "routing/rewrite.h"
#include "ipc/server.h"
#include "queue/trigger_parse.h"
#include "routing/user_acl.h"

struct qmgr qmgr;

/* Forgets which transports and destinations were found dead (F, S,
 * Q). */
static void forget_dead(void)
{
    for (size_t i = 0; i < qmgr.dead_count; i++)
        qmgr.dead[i].until = 0;
    dsched_forget_dead(qmgr.sched);
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

/* A request with an argument (S site, Q id). */
static void trigger_argument(char request, const char *arg)
{
    if (request == QMGR_TRIGGER_MESSAGE) {
        if (qid_valid(arg) && !msg_find(arg)) {
            forget_dead();
            msg_load(arg, QUEUE_DEFERRED, 1);
        }
    } else if (request == QMGR_TRIGGER_SITE) {
        forget_dead();
        scan_deferred_site(arg);
    }
}

/* Flush requests (F, S, Q) are for users in authorized_flush_users
 * (root and mail_owner always): the socket is public. The check is made
 * once per trigger connection, with the uid the kernel reports; a
 * refused client is told so (lib/queue/qmgr_trigger.h) and postqueue prints
 * Postfix's message. Wake-ups (A, D, W) are for anyone: they only make
 * qmgr look at what is due anyway. */
static struct user_acl *flush_acl;

struct trigger_client {
    int checked;
    int allowed;
};

static int flush_allowed(struct trigger_client *client)
{
    if (client->checked)
        return client->allowed;
    client->checked = 1;
    struct peercred cred;
    long uid =
        server_trigger_peer(&cred) == 0 ? (long)cred.uid : USER_ACL_UNKNOWN_UID;
    struct buf name = BUF_INIT, reply = BUF_INIT;
    enum user_acl_result result = user_acl_check(flush_acl, uid, &name);
    client->allowed = result == USER_ACL_ALLOWED;
    if (result == USER_ACL_DENIED) {
        log_info("refused flush request from %s(%ld): not in %s",
                 buf_cstr(&name), uid, user_acl_title(flush_acl));
        qmgr_trigger_refusal_encode(&reply, buf_cstr(&name), uid, NULL);
    } else if (result == USER_ACL_ERROR) {
        log_warn("%s: lookup error for user %s(%ld): flush request refused",
                 user_acl_title(flush_acl), buf_cstr(&name), uid);
        qmgr_trigger_refusal_encode(&reply, NULL, uid,
                                    "authorized_flush_users lookup error; "
                                    "try again later");
    }
    if (reply.len)
        server_trigger_reply(reply.data, reply.len);
    buf_free(&name);
    buf_free(&reply);
    return client->allowed;
}

static void trigger_request(void *ctx, char request, const char *arg)
{
    struct trigger_client *client = ctx;
    if ((request == QMGR_TRIGGER_FLUSH || request == QMGR_TRIGGER_SITE ||
         request == QMGR_TRIGGER_MESSAGE) &&
        !flush_allowed(client))
        return;
    switch (request) {
    case QMGR_TRIGGER_NEW_MAIL:
        qmgr_kick(1, 0, 0);
        break;
    case QMGR_TRIGGER_DEFERRED:
        qmgr_kick(0, 1, 0);
        break;
    case QMGR_TRIGGER_FLUSH:
        forget_dead();
        qmgr_kick(1, 1, 1);
        break;
    case QMGR_TRIGGER_WAKEUP:
        qmgr_kick(
            1, time(NULL) - qmgr.last_deferred_scan >= qmgr.queue_run_delay, 0);
        pickup_kick();
        break;
    case QMGR_TRIGGER_REQUEUE:
        pickup_kick();
        break;
    case QMGR_TRIGGER_SITE:
    case QMGR_TRIGGER_MESSAGE:
        trigger_argument(request, arg);
        break;
    default:
        break; /* unknown bytes are ignored */
    }
}

/* The bytes of one trigger connection (at most SERVER_TRIGGER_MAX),
 * read by lib/queue/trigger_parse. */
static void trigger(const char *data, size_t len)
{
    struct trigger_client client = {0, 0};
    trigger_parse(data, len, trigger_request, &client);
}

static void deferred_tick(struct event_loop *loop, void *ctx)
{
    (void)loop;
    (void)ctx;
    qmgr_kick(1, 1, 0);
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

static struct queue_dir_id queue_dir_id;

/* Still privileged, before a chroot: everything that reads files outside
 * the queue directory (main.cf is read; tables, master.cf). */
static void pre_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct buf err = BUF_INIT;
    load_settings();
    if (queue_dir_identify(qmgr.queue_dir, &queue_dir_id) < 0)
        log_fatal("%s: %s", qmgr.queue_dir, strerror(errno));
    struct rewrite_settings rws;
    rewrite_settings_from_config(&rws);
    qmgr.rewrite = rewrite_open(&rws, &err);
    if (!qmgr.rewrite)
        log_fatal("%s", err.data);
    struct resolve_settings rs;
    resolve_settings_from_config(&rs);
    buf_reset(&err);
    qmgr.resolver = resolve_open(&rs, qmgr.rewrite, &err);
    if (!qmgr.resolver)
        log_fatal("%s", err.data);
    buf_reset(&err);
    flush_acl =
        user_acl_open("authorized_flush_users", USER_ACL_OWNER_EXEMPT, &err);
    if (!flush_acl)
        log_fatal("authorized_flush_users: %s", err.data);
    buf_free(&err);
    deliver_init(); /* reads master.cf */
}

/* After the skeleton's chroot (chroot = y in master.cf) every path qmgr
 * builds, all of them starting with queue_dir, is relative to the new
 * root. */
static void post_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (queue_dir_is_root(&queue_dir_id))
        qmgr.queue_dir = "";
    qmgr.loop = server_loop();
    event_timer_init(&qmgr.kick_timer, kick_cb, NULL);
    event_timer_init(&qmgr.deferred_timer, deferred_tick, NULL);
    /* Disk is the truth: pick up what a predecessor left in active/,
     * then new mail, then deferred mail that is due. */
    scan_active();
    watch_incoming_start(); /* before the scan: nothing falls between */
    qmgr_kick(1, 1, 0);
    pickup_kick();
    event_timer_start_periodic(qmgr.loop, &qmgr.deferred_timer,
                               (uint64_t)qmgr.queue_run_delay * 1000);
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .mode = SERVER_TRIGGER,
        .pre_init = pre_init,
        .post_init = post_init,
        .trigger = trigger,
        .long_running = 1,
    };
    return server_main(argc, argv, &ops);
}
