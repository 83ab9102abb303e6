/* message.c: a message in qmgr's active queue: loading it from disk,
 * routing its recipients, recording each recipient's fate, and finishing
 * the attempt (delete, defer with backoff, or expire).
 *
 * Order of writes, so that a crash at any instant loses nothing:
 *   - a bounced recipient: entry in bounce/ID (fdatasync), then the done
 *     mark (fdatasync); a crash between them sends one extra notice line
 *     at worst, never none;
 *   - a delivered recipient is marked done by the agent before it
 *     replies; qmgr only believes the file;
 *   - a finished message: notices queued (and bounce/ID removed), then
 *     defer/ID removed, then the queue file unlinked. A crash before the
 *     unlink leaves a file whose recipients are all done: the next qmgr
 *     finishes it again. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/backoff.h"
#include "config/config.h"
#include "queue/defer_log.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeconv.h"
#include "queue/queue_lock.h"
#include "queue/qfile_pool.h"
#include "qmgr.h"
#include "routing/resolve.h"

/* Messages by queue id: every scan asks for each file it sees, so the
 * lookup must not be linear in the size of the active queue. */
#define MSG_BUCKETS 8192
static struct qmsg *msg_index[MSG_BUCKETS];

static size_t qid_bucket(const char *qid)
{
    size_t h = 5381;
    for (const unsigned char *p = (const unsigned char *)qid; *p; p++)
        h = h * 33 + *p;
    return h % MSG_BUCKETS;
}

struct qmsg *msg_find(const char *qid)
{
    for (struct qmsg *m = msg_index[qid_bucket(qid)]; m; m = m->hash_next)
        if (strcmp(m->qid, qid) == 0)
            return m;
    return NULL;
}

static void msg_index_remove(struct qmsg *msg)
{
    struct qmsg **pp = &msg_index[qid_bucket(msg->qid)];
    while (*pp && *pp != msg)
        pp = &(*pp)->hash_next;
    if (*pp)
        *pp = msg->hash_next;
}

static void msg_free(struct qmsg *msg)
{
    if (msg->prev)
        msg->prev->next = msg->next;
    else if (qmgr.messages == msg)
        qmgr.messages = msg->next;
    if (msg->next)
        msg->next->prev = msg->prev;
    msg_index_remove(msg);
    qmgr.message_count--;
    for (size_t i = 0; i < msg->rcpt_count; i++)
        if (msg->rcpts[i].has_dsn)
            dsn_free(&msg->rcpts[i].dsn);
    free(msg->rcpts);
    qfile_envelope_free(&msg->env);
    if (msg->fd >= 0)
        close(msg->fd);
    free(msg);
    if (qmgr.incoming_backlog)
        qmgr_kick(1, 0, 0);
}

static void set_dsn(struct qrcpt *r, const struct dsn *dsn)
{
    if (r->has_dsn)
        dsn_free(&r->dsn);
    r->has_dsn = 0;
    if (dsn) {
        dsn_copy(&r->dsn, dsn);
        r->has_dsn = 1;
    }
}

void msg_log_rcpt(struct qmsg *msg, size_t index, const char *relay,
                  const struct dsn *dsn, const char *status_word)
{
    const struct qfile_recipient *rc = msg->rcpts[index].rcpt;
    struct dsn_stamps stamps;
    memset(&stamps, 0, sizeof(stamps));
    stamps.arrival.tv_sec = (time_t)msg->env.arrival_sec;
    stamps.arrival.tv_usec = (suseconds_t)msg->env.arrival_usec;
    stamps.active = msg->active_time;
    struct timeval now;
    gettimeofday(&now, NULL);
    struct buf line = BUF_INIT;
    dsn_format_log(&line, rc->address, rc->original, relay, &stamps, &now,
                   qmgr.log_resolution, dsn, status_word);
    log_info("%s: %s", msg->qid, line.data);
    buf_free(&line);
}

/* Does the sender want a failure notice about this recipient? */
static int wants_failure_notice(const struct qmsg *msg,
                                const struct qfile_recipient *rc)
{
    if (msg->level >= QMSG_LEVEL_POSTMASTER)
        return 0;
    if (rc->notify == 0)
        return 1;
    return (rc->notify & QFILE_NOTIFY_FAILURE) != 0;
}

static void log_entry_from(struct defer_log_entry *e,
                           const struct qfile_recipient *rc,
                           const struct dsn *dsn)
{
    memset(e, 0, sizeof(*e));
    e->recipient = rc->address;
    e->orig_rcpt = rc->original;
    e->offset = rc->offset;
    e->dsn = *dsn;
    e->log_time = time(NULL);
}

void msg_rcpt_result(struct qmsg *msg, size_t index, enum qrcpt_state state,
                     const struct dsn *dsn, const char *relay)
{
    (void)relay;
    struct qrcpt *r = &msg->rcpts[index];
    const struct qfile_recipient *rc = r->rcpt;
    struct buf err = BUF_INIT;
    struct defer_log_entry entry;
    switch (state) {
    case QRCPT_SENT:
        r->state = QRCPT_SENT;
        set_dsn(r, dsn);
        break;
    case QRCPT_DEFERRED:
        r->state = QRCPT_DEFERRED;
        set_dsn(r, dsn);
        log_entry_from(&entry, rc, dsn);
        if (defer_log_append(qmgr.queue_dir, QUEUE_DEFER, msg->qid, &entry, 1,
                             0, &err) < 0)
            log_warn("%s: %s", msg->qid, err.data);
        msg->deferred_now = 1;
        break;
    case QRCPT_BOUNCED:
        if (wants_failure_notice(msg, rc)) {
            log_entry_from(&entry, rc, dsn);
            entry.dsn.action = DSN_ACTION_FAILED;
            if (defer_log_append(qmgr.queue_dir, QUEUE_BOUNCE, msg->qid, &entry,
                                 1, 1, &err) < 0) {
                /* No record of the failure: keep the recipient and try
                 * again later rather than drop the notice. */
                log_warn("%s: cannot record bounce: %s", msg->qid, err.data);
                r->state = QRCPT_DEFERRED;
                struct dsn tmp;
                dsn_set(&tmp, "4.3.0", -1, "cannot record bounce status", NULL,
                        NULL, NULL, NULL);
                set_dsn(r, &tmp);
                dsn_free(&tmp);
                break;
            }
            msg->bounced_now = 1;
        } else if (msg->level >= QMSG_LEVEL_POSTMASTER) {
            log_warn("%s: undeliverable postmaster notification discarded",
                     msg->qid);
        }
        buf_reset(&err);
        if (qfile_mark_done(msg->fd, rc->offset, QFILE_SYNC, &err) !=
            QFILE_OK) {
            log_warn("%s: mark done: %s", msg->qid, err.data);
            r->state = QRCPT_DEFERRED;
            set_dsn(r, dsn);
            break;
        }
        r->state = QRCPT_BOUNCED;
        set_dsn(r, dsn);
        break;
    case QRCPT_PENDING:
        break;
    }
    buf_free(&err);
}

/* Marks a recipient done and logs it as discarded. */
static void rcpt_discard(struct qmsg *msg, size_t index, const char *text)
{
    struct dsn d;
    struct buf err = BUF_INIT;
    dsn_set(&d, "2.0.0", -1, text, NULL, NULL, NULL, NULL);
    if (qfile_mark_done(msg->fd, msg->rcpts[index].rcpt->offset, QFILE_SYNC,
                        &err) != QFILE_OK) {
        log_warn("%s: mark done: %s", msg->qid, err.data);
        dsn_free(&d);
        dsn_set(&d, "4.3.0", -1, "cannot update queue file", NULL, NULL, NULL,
                NULL);
        msg_log_rcpt(msg, index, "none", &d, NULL);
        msg_rcpt_result(msg, index, QRCPT_DEFERRED, &d, NULL);
    } else {
        msg_log_rcpt(msg, index, "none", &d, NULL);
        msg_rcpt_result(msg, index, QRCPT_SENT, &d, NULL);
    }
    buf_free(&err);
    dsn_free(&d);
}

/* A failure decided by qmgr itself: logged here, then recorded. */
static void rcpt_decide(struct qmsg *msg, size_t index, const char *status,
                        const char *reason)
{
    struct dsn d;
    if (dsn_set(&d, status, -1, reason, NULL, NULL, NULL, NULL) < 0)
        dsn_set(&d, "4.3.0", -1, reason, NULL, NULL, NULL, NULL);
    msg_log_rcpt(msg, index, "none", &d, NULL);
    msg_rcpt_result(msg, index,
                    dsn_class(&d) == DSN_CLASS_BOUNCE ? QRCPT_BOUNCED
                                                      : QRCPT_DEFERRED,
                    &d, NULL);
    dsn_free(&d);
}

/* error:TEXT bounces with TEXT; a leading "X.Y.Z " is its status. */
static void rcpt_error(struct qmsg *msg, size_t index, const char *text)
{
    char status[DSN_STATUS_MAX + 1] = "5.0.0";
    const char *space = strchr(text, ' ');
    size_t len = space ? (size_t)(space - text) : strlen(text);
    if (len <= DSN_STATUS_MAX) {
        char code[DSN_STATUS_MAX + 1];
        memcpy(code, text, len);
        code[len] = 0;
        if (dsn_status_valid(code) && (code[0] == '4' || code[0] == '5')) {
            memcpy(status, code, len + 1);
            text = space ? space + 1 : "";
        }
    }
    rcpt_decide(msg, index, status, *text ? text : "Address is undeliverable");
}

static int is_defer_transport(const char *transport)
{
    for (size_t i = 0; i < qmgr.defer_transports.count; i++)
        if (strcmp(qmgr.defer_transports.items[i], transport) == 0)
            return 1;
    return 0;
}

static long recipient_limit(const char *transport)
{
    struct buf name = BUF_INIT;
    buf_appendf(&name, "%s_destination_recipient_limit", transport);
    long limit = config_raw(name.data, NULL) ? cfg_int(name.data) : 0;
    if (limit < 1)
        limit = cfg_int("default_destination_recipient_limit");
    buf_free(&name);
    return limit < 1 ? 1 : limit;
}

/* Recipients waiting for a job, grouped by transport and next hop. */
struct route_group {
    char *transport, *nexthop;
    size_t *index;
    size_t count;
};

/* A content filter (smtpd's FILTER action or content_filter): every
 * recipient goes to its transport, with its destination as the next hop
 * ($myhostname when empty), as in Postfix's qmgr. 1 when there is one. */
static int content_filter(const struct qmsg *msg, struct resolve_result *res)
{
    const char *filter = qfile_envelope_attr(&msg->env, "content_filter");
    const char *colon = filter ? strchr(filter, ':') : NULL;
    if (colon == NULL || colon == filter)
        return 0;
    buf_set(&res->transport, filter, (size_t)(colon - filter));
    buf_set_str(&res->nexthop, colon[1] ? colon + 1 : qmgr.myhostname);
    return 1;
}

static void route_recipients(struct qmsg *msg)
{
    struct route_group *groups = NULL;
    size_t group_count = 0;
    struct resolve_result res;
    resolve_result_init(&res);
    int filtered = content_filter(msg, &res);
    for (size_t i = 0; i < msg->rcpt_count; i++) {
        const struct qfile_recipient *rc = msg->rcpts[i].rcpt;
        if (!filtered &&
            resolve_address_sender(qmgr.resolver, rc->address,
                                   msg->env.sender, &res) < 0) {
            rcpt_decide(msg, i, "4.3.0", "address resolver failure");
            continue;
        }
        const char *transport = res.transport.data;
        const char *nexthop = res.nexthop.data;
        const char *reason;
        if (strcmp(transport, "discard") == 0) {
            const char *at = strrchr(rc->address, '@');
            int plain = !*nexthop || (at && str_equal_nocase(at + 1, nexthop));
            rcpt_discard(msg, i, plain ? "discarded" : nexthop);
        } else if (strcmp(transport, "error") == 0) {
            rcpt_error(msg, i, nexthop);
        } else if (!msg->flush && is_defer_transport(transport)) {
            rcpt_decide(msg, i, "4.3.2", "deferred transport");
        } else if (deliver_transport_dead(transport, &reason)) {
            rcpt_decide(msg, i, "4.3.0", reason);
        } else {
            size_t g;
            for (g = 0; g < group_count; g++)
                if (strcmp(groups[g].transport, transport) == 0 &&
                    strcmp(groups[g].nexthop, nexthop) == 0)
                    break;
            if (g == group_count) {
                groups =
                    xreallocarray(groups, group_count + 1, sizeof(*groups));
                groups[g].transport = xstrdup(transport);
                groups[g].nexthop = xstrdup(nexthop);
                groups[g].index = NULL;
                groups[g].count = 0;
                group_count++;
            }
            groups[g].index = xreallocarray(
                groups[g].index, groups[g].count + 1, sizeof(size_t));
            groups[g].index[groups[g].count++] = i;
        }
    }
    resolve_result_free(&res);

    /* Cut each group into jobs of at most the transport's recipient
     * limit. Count them all before the first can run, so a job that
     * ends at once cannot finish the message under our feet. */
    struct qjob **jobs = NULL;
    size_t job_count = 0;
    for (size_t g = 0; g < group_count; g++) {
        size_t limit = (size_t)recipient_limit(groups[g].transport);
        for (size_t start = 0; start < groups[g].count; start += limit) {
            size_t n = groups[g].count - start;
            if (n > limit)
                n = limit;
            struct qjob *job = xcalloc(1, sizeof(*job));
            job->msg = msg;
            job->transport = xstrdup(groups[g].transport);
            job->nexthop = xstrdup(groups[g].nexthop);
            job->rcpt_index =
                xmemdup(groups[g].index + start, n * sizeof(size_t));
            job->rcpt_count = n;
            jobs = xreallocarray(jobs, job_count + 1, sizeof(*jobs));
            jobs[job_count++] = job;
        }
        free(groups[g].transport);
        free(groups[g].nexthop);
        free(groups[g].index);
    }
    free(groups);
    msg->jobs_open = job_count;
    for (size_t j = 0; j < job_count; j++)
        deliver_enqueue(jobs[j]);
    free(jobs);
}

static int message_level(const struct qfile_envelope *env)
{
    const char *level = qfile_envelope_attr(env, "notify_level");
    if (level && strcmp(level, "2") == 0)
        return QMSG_LEVEL_POSTMASTER;
    if (level || (env->header.flags & QFILE_FLAG_NOTIFICATION))
        return QMSG_LEVEL_NOTICE;
    return QMSG_LEVEL_MAIL;
}

int msg_load(const char *qid, enum queue_name from, int flush)
{
    struct buf err = BUF_INIT, path = BUF_INIT;
    int fd = -1, result = 0;
    if (msg_find(qid))
        return 0;
    /* The queue lock (lib/queue/queue_lock.h) first: a file that postsuper is
     * working on is left alone and looked at again later. We keep the
     * lock, on msg->fd, until the file leaves active/. */
    queue_path(&path, qmgr.queue_dir, from, qid);
    switch (queue_lock_open(path.data, &fd, &err)) {
    case QUEUE_LOCK_OK:
        break;
    case QUEUE_LOCK_BUSY:
        log_debug("%s: queue file is locked by another process", qid);
        result = -1;
        goto out;
    case QUEUE_LOCK_GONE:
        goto out; /* postsuper moved or removed it meanwhile */
    case QUEUE_LOCK_ERROR:
        log_warn("%s: %s", qid, err.data);
        goto out;
    }
    if (from != QUEUE_ACTIVE) {
        if (queue_move(qmgr.queue_dir, qid, from, QUEUE_ACTIVE, 0, &err) < 0) {
            log_warn("%s: %s", qid, err.data);
            close(fd);
            goto out;
        }
        if (from == QUEUE_DEFERRED) {
            /* the new attempt writes fresh reasons */
            buf_reset(&err);
            if (defer_log_remove(qmgr.queue_dir, QUEUE_DEFER, qid, &err) < 0)
                log_warn("%s: %s", qid, err.data);
        }
    }
    struct qmsg *msg = xcalloc(1, sizeof(*msg));
    str_copy(msg->qid, qid, sizeof(msg->qid));
    msg->fd = fd;
    msg->flush = flush;
    msg->old_logs = from != QUEUE_INCOMING;
    gettimeofday(&msg->active_time, NULL);
    struct qfile_reader *reader = NULL;
    enum qfile_result rr = qfile_reader_fdopen(fd, &reader, &err);
    if (rr == QFILE_OK)
        rr = qfile_read_envelope(reader, &msg->env, &err);
    qfile_reader_close(reader);
    if (rr != QFILE_OK) {
        if (rr == QFILE_CORRUPT) {
            struct buf move_err = BUF_INIT;
            log_warn("%s: corrupt queue file: %s; moved to corrupt/", qid,
                     err.data);
            if (queue_move(qmgr.queue_dir, qid, QUEUE_ACTIVE, QUEUE_CORRUPT, 1,
                           &move_err) < 0)
                log_warn("%s: %s", qid, move_err.data);
            buf_free(&move_err);
        } else {
            /* an I/O error: leave the file; the next start tries again */
            log_warn("%s: read queue file: %s", qid, err.data);
        }
        qfile_envelope_free(&msg->env);
        close(fd);
        free(msg);
        goto out;
    }
    msg->level = message_level(&msg->env);
    msg->next = qmgr.messages;
    if (qmgr.messages)
        qmgr.messages->prev = msg;
    qmgr.messages = msg;
    size_t bucket = qid_bucket(msg->qid);
    msg->hash_next = msg_index[bucket];
    msg_index[bucket] = msg;
    qmgr.message_count++;

    log_info("%s: from=<%s>, size=%llu, nrcpt=%zu (queue active)", qid,
             msg->env.sender, (unsigned long long)msg->env.header.message_size,
             msg->env.recipient_count);
    msg->rcpts = xcalloc(msg->env.recipient_count + 1, sizeof(*msg->rcpts));
    for (size_t i = 0; i < msg->env.recipient_count; i++) {
        if (msg->env.recipients[i].done)
            continue;
        msg->rcpts[msg->rcpt_count].rcpt = &msg->env.recipients[i];
        msg->rcpts[msg->rcpt_count].state = QRCPT_PENDING;
        msg->rcpt_count++;
    }
    route_recipients(msg);
    if (msg->jobs_open == 0)
        msg_finish(msg);
    else
        deliver_run();
out:
    buf_free(&err);
    buf_free(&path);
    return result;
}

/* Sets the retry time (mtime) and moves the message to deferred/. */
static void msg_defer(struct qmsg *msg, time_t now)
{
    struct buf err = BUF_INIT;
    long delay = backoff_delay(now, (time_t)msg->env.arrival_sec,
                               qmgr.min_backoff, qmgr.max_backoff);
    struct timespec times[2];
    times[0].tv_sec = times[1].tv_sec = timeconv_add_sec(now, delay);
    times[0].tv_nsec = times[1].tv_nsec = 0;
    if (futimens(msg->fd, times) < 0)
        log_warn("%s: set retry time: %s", msg->qid, strerror(errno));
    if (queue_move(qmgr.queue_dir, msg->qid, QUEUE_ACTIVE, QUEUE_DEFERRED, 0,
                   &err) < 0)
        log_warn("%s: %s", msg->qid, err.data);
    buf_free(&err);
}

static long lifetime_of(const struct qmsg *msg)
{
    if (msg->level > QMSG_LEVEL_MAIL || msg->env.sender[0] == 0)
        return qmgr.bounce_lifetime;
    return qmgr.queue_lifetime;
}

void msg_finish(struct qmsg *msg)
{
    struct buf err = BUF_INIT;
    time_t now = time(NULL);
    size_t deferred = 0;
    for (size_t i = 0; i < msg->rcpt_count; i++)
        if (msg->rcpts[i].state == QRCPT_DEFERRED ||
            msg->rcpts[i].state == QRCPT_PENDING)
            deferred++;

    if (deferred &&
        backoff_expired(now, (time_t)msg->env.arrival_sec, lifetime_of(msg))) {
        log_info("%s: from=<%s>, status=expired, returned to sender", msg->qid,
                 msg->env.sender);
        for (size_t i = 0; i < msg->rcpt_count; i++) {
            struct qrcpt *r = &msg->rcpts[i];
            if (r->state != QRCPT_DEFERRED && r->state != QRCPT_PENDING)
                continue;
            struct dsn d;
            if (r->has_dsn)
                dsn_copy(&d, &r->dsn);
            else
                dsn_set(&d, "4.4.7", -1, "message expired", NULL, NULL, NULL,
                        NULL);
            d.action = DSN_ACTION_FAILED;
            msg_rcpt_result(msg, i, QRCPT_BOUNCED, &d, NULL);
            dsn_free(&d);
            if (r->state == QRCPT_BOUNCED)
                deferred--;
        }
    }

    notify_success(msg);

    /* new mail delivered at the first attempt has no logs: spare the
     * system calls that would only find that out */
    int notices_ok =
        !(msg->old_logs || msg->bounced_now) || notify_bounces(msg) == 0;
    if (deferred == 0 && notices_ok) {
        if ((msg->old_logs || msg->deferred_now) &&
            defer_log_remove(qmgr.queue_dir, QUEUE_DEFER, msg->qid, &err) < 0)
            log_warn("%s: %s", msg->qid, err.data);
        struct buf path = BUF_INIT;
        queue_path(&path, qmgr.queue_dir, QUEUE_ACTIVE, msg->qid);
        /* Small files go to the pool for the next writer to overwrite
         * (lib/queue/qfile_pool.h): cheaper than unlink now and create later.
         * The header's end offset is the file's length but for the end
         * record, close enough for the pool's size limit. */
        if (qfile_pool_put(qmgr.queue_dir, path.data, msg->qid,
                           msg->env.header.end_offset) < 0)
            log_warn("%s: remove %s: %s", msg->qid, path.data, strerror(errno));
        else
            log_info("%s: removed", msg->qid);
        buf_free(&path);
    } else {
        if (deferred)
            notify_delay(msg);
        msg_defer(msg, now);
    }
    buf_free(&err);
    msg_free(msg);
}
