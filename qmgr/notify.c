/* notify.c: the notices qmgr owes senders: non-delivery reports from
 * bounce/ID, delay warnings (delay_warning_time, once per message) and
 * success reports (NOTIFY=SUCCESS), all RFC 3464 (lib/message/bounce_msg).
 *
 * A notice is a new queue file in incoming/ (written, fdatasynced,
 * renamed, directory fsynced) with the null sender and the header flag
 * QFILE_FLAG_NOTIFICATION, and is delivered like any mail. Its
 * "notify_level" attribute keeps notices from looping:
 *   mail (level 0) that fails -> notice to the sender (level 1); mail
 *     with the null sender -> to 2bounce_notice_recipient (level 2);
 *   a notice (level 1) that fails -> a postmaster copy to
 *     2bounce_notice_recipient (level 2);
 *   a level 2 notice that fails -> logged and dropped. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fsync_dir.h"
#include "queue/backoff.h"
#include "message/bounce_msg.h"
#include "config/config.h"
#include "queue/defer_log.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeconv.h"
#include "queue/qfile_writer.h"
#include "qmgr.h"
#include "routing/rewrite.h"

struct writer_sink {
    struct qfile_writer *w;
    struct buf *err;
};

static int sink_write(void *ctx, const char *data, size_t len)
{
    struct writer_sink *sink = ctx;
    return qfile_writer_content_append(sink->w, data, len, sink->err);
}

/* Writes and commits a notice to `to`; 0 with newid, or -1 (logged). */
static int queue_notice(struct qmsg *msg, struct bounce_notice *notice,
                        const char *to, int level, char newid[QID_BUF_SIZE])
{
    struct buf err = BUF_INIT, dir = BUF_INIT, level_text = BUF_INIT;
    int result = -1;
    queue_dir_path(&dir, qmgr.queue_dir, QUEUE_INCOMING);
    struct qfile_writer *w = qfile_writer_create(dir.data, &err);
    if (!w)
        goto out;
    struct qfile_recipient rc;
    memset(&rc, 0, sizeof(rc));
    rc.address = (char *)to;
    buf_appendf(&level_text, "%d", level);
    struct bounce_fd_source src;
    src.fd = msg->fd;
    src.offset = (off_t)msg->env.header.content_offset;
    src.end = src.offset + (off_t)msg->env.header.message_size;
    notice->read_original = bounce_read_fd;
    notice->original_ctx = &src;
    notice->original_size = (long long)msg->env.header.message_size;
    notice->original_8bit = (msg->env.encoding & QFILE_ENC_8BITMIME) != 0;
    notice->crlf = 0;
    struct writer_sink sink = {w, &err};
    if (qfile_writer_sender(w, "", &err) < 0 ||
        qfile_writer_recipient(w, &rc, &err) < 0 ||
        qfile_writer_flags(w, QFILE_FLAG_NOTIFICATION, &err) < 0 ||
        qfile_writer_attr(w, "origin", "bounce", &err) < 0 ||
        qfile_writer_attr(w, "notify_level", level_text.data, &err) < 0 ||
        qfile_writer_content_begin(w, &err) < 0 ||
        bounce_msg_write(notice, sink_write, &sink, &err) < 0 ||
        qfile_writer_content_end(w, &err) < 0 ||
        qfile_writer_finish(w, &err) < 0 || qfile_writer_commit(w, &err) < 0 ||
        fsync_dir(dir.data, &err) < 0)
        goto out;
    str_copy(newid, qfile_writer_qid(w), QID_BUF_SIZE);
    result = 0;
    qmgr_kick(1, 0, 0);
out:
    if (result < 0)
        log_warn("%s: cannot queue notification: %s", msg->qid, err.data);
    qfile_writer_free(w);
    buf_free(&err);
    buf_free(&dir);
    buf_free(&level_text);
    return result;
}

static void notice_init(struct bounce_notice *n, const struct qmsg *msg,
                        enum bounce_kind kind)
{
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->myhostname = qmgr.myhostname;
    n->mail_name = cfg_str("mail_name");
    n->queue_id = msg->qid;
    n->sender = msg->env.sender;
    n->envid = msg->env.envid;
    n->ret = msg->env.dsn_ret == QFILE_RET_FULL   ? BOUNCE_RET_FULL
             : msg->env.dsn_ret == QFILE_RET_HDRS ? BOUNCE_RET_HDRS
                                                  : BOUNCE_RET_DEFAULT;
    n->arrival = (time_t)msg->env.arrival_sec;
    n->size_limit = qmgr.bounce_size_limit;
}

/* The postmaster address for double bounces, completed with $myorigin. */
static void postmaster_address(struct buf *out)
{
    rewrite_canonical_form(qmgr.rewrite, cfg_str("2bounce_notice_recipient"),
                           REWRITE_LOCAL, out);
}

int notify_bounces(struct qmsg *msg)
{
    struct defer_log log;
    struct buf err = BUF_INIT, to = BUF_INIT;
    int result = 0;
    enum defer_log_result lr =
        defer_log_read(qmgr.queue_dir, QUEUE_BOUNCE, msg->qid, &log, &err);
    if (lr == DEFER_LOG_NOTFOUND)
        goto out;
    if (lr == DEFER_LOG_SYSERR) {
        log_warn("%s: read bounce log: %s", msg->qid, err.data);
        result = -1;
        goto out;
    }
    if (lr == DEFER_LOG_CORRUPT)
        log_warn("%s: damaged bounce log: %s; returning the entries before "
                 "the damage",
                 msg->qid, err.data);
    if (msg->level >= QMSG_LEVEL_POSTMASTER) {
        log_warn("%s: undeliverable postmaster notification discarded",
                 msg->qid);
    } else if (log.count > 0) {
        struct bounce_rcpt *rcpts = xcalloc(log.count, sizeof(*rcpts));
        for (size_t i = 0; i < log.count; i++) {
            const struct defer_log_entry *e = &log.entries[i];
            const struct qfile_recipient *rc =
                qfile_envelope_recipient_at(&msg->env, e->offset);
            rcpts[i].address = e->recipient;
            rcpts[i].orig_address = e->orig_rcpt[0] ? e->orig_rcpt : NULL;
            rcpts[i].orcpt = rc && rc->orcpt[0] ? rc->orcpt : NULL;
            rcpts[i].dsn = &e->dsn;
            rcpts[i].last_attempt = e->log_time;
        }
        struct bounce_notice n;
        notice_init(&n, msg, BOUNCE_FAILURE);
        n.rcpts = rcpts;
        n.rcpt_count = log.count;
        int level;
        const char *whom;
        if (msg->level == QMSG_LEVEL_MAIL && msg->env.sender[0]) {
            buf_set_str(&to, msg->env.sender);
            level = QMSG_LEVEL_NOTICE;
            whom = "sender";
        } else {
            postmaster_address(&to);
            n.postmaster_copy = 1;
            n.notify_to = to.data;
            level = QMSG_LEVEL_POSTMASTER;
            whom = "postmaster";
        }
        char newid[QID_BUF_SIZE];
        if (queue_notice(msg, &n, to.data, level, newid) < 0)
            result = -1;
        else
            log_info("%s: %s non-delivery notification: %s", msg->qid, whom,
                     newid);
        free(rcpts);
    }
    if (result == 0) {
        buf_reset(&err);
        if (defer_log_remove(qmgr.queue_dir, QUEUE_BOUNCE, msg->qid, &err) < 0)
            log_warn("%s: %s", msg->qid, err.data);
    }
out:
    defer_log_free(&log);
    buf_free(&err);
    buf_free(&to);
    return result;
}

/* Sends one notice of `kind` about the recipients in `state` whose
 * NOTIFY asks for it (bit, or the default when default_on). */
static int notify_kind(struct qmsg *msg, enum bounce_kind kind,
                       enum qrcpt_state state, unsigned bit, int default_on,
                       const char *what)
{
    if (msg->level != QMSG_LEVEL_MAIL || msg->env.sender[0] == 0)
        return 0;
    struct bounce_rcpt *rcpts = xcalloc(msg->rcpt_count + 1, sizeof(*rcpts));
    struct dsn *dsns = xcalloc(msg->rcpt_count + 1, sizeof(*dsns));
    size_t count = 0;
    for (size_t i = 0; i < msg->rcpt_count; i++) {
        const struct qrcpt *r = &msg->rcpts[i];
        unsigned notify = r->rcpt->notify;
        if (r->state != state || !(notify & bit || (notify == 0 && default_on)))
            continue;
        if (r->has_dsn)
            dsn_copy(&dsns[count], &r->dsn);
        else
            dsn_set(&dsns[count], kind == BOUNCE_SUCCESS ? "2.0.0" : "4.0.0",
                    -1, "", NULL, NULL, NULL, NULL);
        rcpts[count].address = r->rcpt->address;
        rcpts[count].orig_address =
            r->rcpt->original[0] ? r->rcpt->original : NULL;
        rcpts[count].orcpt = r->rcpt->orcpt[0] ? r->rcpt->orcpt : NULL;
        rcpts[count].dsn = &dsns[count];
        count++;
    }
    int result = 0;
    if (count) {
        struct bounce_notice n;
        notice_init(&n, msg, kind);
        n.rcpts = rcpts;
        n.rcpt_count = count;
        if (kind == BOUNCE_DELAY)
            n.retry_until = timeconv_add_sec((time_t)msg->env.arrival_sec,
                                             qmgr.queue_lifetime);
        char newid[QID_BUF_SIZE];
        result =
            queue_notice(msg, &n, msg->env.sender, QMSG_LEVEL_NOTICE, newid);
        if (result == 0)
            log_info("%s: sender %s notification: %s", msg->qid, what, newid);
    }
    for (size_t i = 0; i < count; i++)
        dsn_free(&dsns[i]);
    free(dsns);
    free(rcpts);
    return result;
}

void notify_delay(struct qmsg *msg)
{
    int warned = (msg->env.header.flags & QFILE_FLAG_WARNED) != 0;
    time_t now = time(NULL);
    /* A warn_time in the header (set at intake) wins; else arrival plus
     * delay_warning_time. Either way only when warnings are enabled. */
    if (qmgr.delay_warning <= 0 || warned)
        return;
    if (msg->env.header.warn_time
            ? now < (time_t)msg->env.header.warn_time
            : !backoff_warn_due(now, (time_t)msg->env.arrival_sec,
                                qmgr.delay_warning, warned))
        return;
    if (notify_kind(msg, BOUNCE_DELAY, QRCPT_DEFERRED, QFILE_NOTIFY_DELAY, 1,
                    "delay") < 0)
        return; /* try again at the next attempt */
    struct buf err = BUF_INIT;
    uint32_t flags = msg->env.header.flags | QFILE_FLAG_WARNED;
    if (qfile_patch_flags(msg->fd, flags, QFILE_SYNC, &err) != QFILE_OK)
        log_warn("%s: set warned flag: %s", msg->qid, err.data);
    else
        msg->env.header.flags = flags;
    buf_free(&err);
}

void notify_success(struct qmsg *msg)
{
    (void)notify_kind(msg, BOUNCE_SUCCESS, QRCPT_SENT, QFILE_NOTIFY_SUCCESS, 0,
                      "delivery status");
}
