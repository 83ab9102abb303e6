/* deliver.c: delivery jobs, the scheduler, and the connections to the
 * delivery agents (protocol deliver/1, docs/mail-flow.md).
 *
 * Jobs wait in lib/queue/dsched under their transport and destination; a job
 * may start while its transport has fewer than default_process_limit
 * jobs running and its destination fewer than
 * TRANSPORT_destination_concurrency_limit (else
 * default_destination_concurrency_limit). Each running job owns one
 * connection to $queue_directory/private/TRANSPORT, which stays open
 * afterwards for the next job of that transport (agents serve many
 * requests per process). All I/O is non-blocking in the event loop.
 *
 * When an agent cannot be reached, the transport is declared dead for
 * transport_retry_time: its waiting jobs and new recipients are deferred
 * with "delivery temporarily suspended: transport T is not available".
 * When a connection breaks during a request (the agent crashed or was
 * killed), qmgr believes the queue file: recipients the agent marked
 * done are delivered, the others are deferred. A connection reused from
 * the idle pool that breaks before answering anything is retried once on
 * a fresh connection (the agent may simply have reached max_idle). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/attr.h"
#include "config/config.h"
#include "delivery/deliver_req.h"
#include "base/log.h"
#include "config/mastercf.h"
#include "base/mem.h"
#include "base/timeconv.h"
#include "qmgr.h"
#include "base/stream.h"

#define CONNECT_TIMEOUT_MS 2000
#define IDLE_CLOSE_MS 60000

struct agent_conn {
    struct agent_conn *next; /* idle pool */
    char *transport;
    struct stream *stream;
    int fd;
    struct qjob *job; /* NULL when idle */
    int reused;
    struct event_timer timer;
};

/* The number of agent processes master may run for a transport: its
 * master.cf maxproc ("-": default_process_limit). qmgr never holds more
 * connections to a transport than that, because each connection ties up
 * one agent process for as long as qmgr keeps it: with more connections
 * than processes, the surplus would wait in the listen queue behind
 * idle connections of our own. */
static struct proc_limit {
    char *service;
    int maxproc;
} * proc_limits;
static size_t proc_limit_count;

/* Reads every unix service's maxproc from master.cf, once, at start
 * (before a chroot hides the file). */
static void load_process_limits(void)
{
    struct buf path = BUF_INIT, err = BUF_INIT;
    struct master_entry *entries = NULL;
    size_t count = 0;
    buf_appendf(&path, "%s/master.cf", config_directory());
    if (mastercf_load(path.data, &entries, &count, &err) == 0) {
        proc_limits = xcalloc(count + 1, sizeof(*proc_limits));
        for (size_t i = 0; i < count; i++) {
            if (strcmp(entries[i].type, "unix") != 0)
                continue;
            proc_limits[proc_limit_count].service = xstrdup(entries[i].service);
            proc_limits[proc_limit_count].maxproc = entries[i].maxproc;
            proc_limit_count++;
        }
        mastercf_free(entries, count);
    } else {
        log_warn("%s; using default_process_limit for every transport",
                 err.data);
    }
    buf_free(&path);
    buf_free(&err);
}

static int transport_process_limit(const char *transport)
{
    long limit = cfg_int("default_process_limit");
    for (size_t i = 0; i < proc_limit_count; i++)
        if (strcmp(proc_limits[i].service, transport) == 0 &&
            proc_limits[i].maxproc > 0)
            limit = proc_limits[i].maxproc;
    return limit > 0 && limit < 100000 ? (int)limit : 100;
}

static void limits_cb(void *ctx, const char *transport, int *tlimit,
                      int *dlimit)
{
    (void)ctx;
    struct buf name = BUF_INIT;
    *tlimit = transport_process_limit(transport);
    buf_appendf(&name, "%s_destination_concurrency_limit", transport);
    long limit = config_raw(name.data, NULL) ? cfg_int(name.data) : 0;
    if (limit < 1)
        limit = cfg_int("default_destination_concurrency_limit");
    *dlimit = (int)limit;
    buf_free(&name);
}

/* TRANSPORT_suffix when set, else default_suffix (or `fallback` when
 * that is NULL too): Postfix's per-transport lookup. */
static const char *transport_param(const char *transport, const char *suffix,
                                   const char *fallback, struct buf *name)
{
    buf_reset(name);
    buf_appendf(name, "%s%s", transport, suffix);
    if (config_raw(name->data, NULL))
        return name->data;
    buf_reset(name);
    buf_appendf(name, "default%s", suffix);
    if (fallback == NULL || config_raw(name->data, NULL))
        return name->data;
    return fallback;
}

/* Postfix's feedback syntax: "N" or "N/concurrency"; dsched takes
 * N/concurrency as -N. Anything else is the default 1, with a warning. */
static double feedback_param(const char *name)
{
    const char *value = cfg_str(name);
    char *end = NULL;
    double n = strtod(value, &end);
    if (end != value && n >= 0 && n <= 1000) {
        while (*end == ' ')
            end++;
        if (*end == '\0')
            return n;
        if (*end == '/') {
            end++;
            while (*end == ' ')
                end++;
            if (strcmp(end, "concurrency") == 0)
                return -n;
        }
    }
    log_warn("%s: bad feedback value \"%s\"; using 1", name, value);
    return 1;
}

static void flow_cb(void *ctx, const char *transport, struct dsched_flow *flow)
{
    (void)ctx;
    struct buf name = BUF_INIT;
    flow->initial = (int)cfg_int(transport_param(
        transport, "_initial_destination_concurrency",
        "initial_destination_concurrency", &name));
    flow->positive = feedback_param(transport_param(
        transport, "_destination_concurrency_positive_feedback", NULL, &name));
    flow->negative = feedback_param(transport_param(
        transport, "_destination_concurrency_negative_feedback", NULL, &name));
    flow->failed_cohort_limit = (double)cfg_int(transport_param(
        transport, "_destination_concurrency_failed_cohort_limit", NULL,
        &name));
    flow->rate_delay_ms = (uint64_t)cfg_time(transport_param(
                              transport, "_destination_rate_delay", NULL,
                              &name)) * 1000;
    if (cfg_bool("postern_rate_limit_backoff")) {
        flow->backoff_initial_ms =
            (uint64_t)cfg_time("postern_rate_limit_delay") * 1000;
        flow->backoff_max_ms =
            (uint64_t)cfg_time("postern_rate_limit_maximal_delay") * 1000;
    }
    buf_free(&name);
}

static void flow_timer_cb(struct event_loop *loop, void *ctx)
{
    (void)loop;
    (void)ctx;
    deliver_run();
}

void deliver_init(void)
{
    load_process_limits();
    qmgr.sched = dsched_new(limits_cb, NULL);
    dsched_set_flow(qmgr.sched, flow_cb, NULL);
    event_timer_init(&qmgr.flow_timer, flow_timer_cb, NULL);
}

void qjob_free(struct qjob *job)
{
    free(job->transport);
    free(job->nexthop);
    free(job->rcpt_index);
    free(job);
}

static void job_defer(struct qjob *job, const char *status, const char *reason,
                      int log_it);

/* Recipient limit 1 (local): concurrency counts per recipient, as in
 * Postfix; else per next hop. A destination found dead defers the job
 * at once with the reason it died of. */
void deliver_enqueue(struct qjob *job)
{
    job->sched.data = job;
    const char *dest = job->nexthop;
    if (job->rcpt_count == 1) {
        struct buf name = BUF_INIT;
        buf_appendf(&name, "%s_destination_recipient_limit", job->transport);
        long limit = config_raw(name.data, NULL) ? cfg_int(name.data) : 0;
        buf_free(&name);
        if (limit == 1)
            dest = job->msg->rcpts[job->rcpt_index[0]].rcpt->address;
    }
    const char *dead = dsched_dead(qmgr.sched, job->transport, dest);
    if (dead) {
        job_defer(job, "4.4.1", dead, 1);
        /* not job_end: the caller (route_recipients, then msg_load)
         * finishes the message when no job is left */
        job->msg->jobs_open--;
        qjob_free(job);
        return;
    }
    dsched_enqueue(qmgr.sched, job->transport, dest, &job->sched);
}

int deliver_transport_dead(const char *transport, const char **reason)
{
    time_t now = time(NULL);
    for (size_t i = 0; i < qmgr.dead_count; i++) {
        if (strcmp(qmgr.dead[i].name, transport) != 0)
            continue;
        if (qmgr.dead[i].until > now) {
            *reason = qmgr.dead[i].reason;
            return 1;
        }
        return 0;
    }
    return 0;
}

/* The job is over (every recipient has a state): frees it and finishes
 * the message when it was the last. */
static void job_end(struct qjob *job, int was_running)
{
    struct qmsg *msg = job->msg;
    if (was_running)
        dsched_done(qmgr.sched, &job->sched);
    qjob_free(job);
    if (--msg->jobs_open == 0)
        msg_finish(msg);
}

/* Defers every recipient of a job that has no result yet. */
static void job_defer(struct qjob *job, const char *status, const char *reason,
                      int log_it)
{
    struct dsn d;
    dsn_set(&d, status, -1, reason, NULL, NULL, NULL, NULL);
    for (size_t i = 0; i < job->rcpt_count; i++) {
        size_t index = job->rcpt_index[i];
        if (job->msg->rcpts[index].state != QRCPT_PENDING)
            continue;
        if (log_it)
            msg_log_rcpt(job->msg, index, "none", &d, NULL);
        msg_rcpt_result(job->msg, index, QRCPT_DEFERRED, &d, NULL);
    }
    dsn_free(&d);
}

static void transport_died(const char *transport, const char *why)
{
    struct buf reason = BUF_INIT;
    buf_appendf(&reason,
                "delivery temporarily suspended: transport %s is not available",
                transport);
    log_warn("connect to transport private/%s: %s", transport, why);
    size_t i;
    for (i = 0; i < qmgr.dead_count; i++)
        if (strcmp(qmgr.dead[i].name, transport) == 0)
            break;
    if (i == qmgr.dead_count) {
        qmgr.dead =
            xreallocarray(qmgr.dead, qmgr.dead_count + 1, sizeof(*qmgr.dead));
        qmgr.dead[i].name = xstrdup(transport);
        qmgr.dead[i].reason = NULL;
        qmgr.dead_count++;
    }
    free(qmgr.dead[i].reason);
    qmgr.dead[i].reason = buf_detach(&reason);
    qmgr.dead[i].until = timeconv_add_sec(time(NULL), qmgr.transport_retry);
    /* everything waiting for this transport waits in deferred/ instead */
    struct dsched_job *list = dsched_take_all(qmgr.sched, transport);
    while (list) {
        struct dsched_job *next = list->next;
        struct qjob *job = list->data;
        job_defer(job, "4.3.0", qmgr.dead[i].reason, 1);
        job_end(job, 0);
        list = next;
    }
}

static void conn_close(struct agent_conn *c)
{
    event_timer_stop(qmgr.loop, &c->timer);
    event_fd_remove(qmgr.loop, c->fd);
    stream_close(c->stream);
    free(c->transport);
    free(c);
}

static void idle_remove(struct agent_conn *c)
{
    for (struct agent_conn **pp = &qmgr.idle_conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    c->next = NULL;
}

static void idle_event(struct event_loop *loop, int fd, unsigned events,
                       void *ctx)
{
    (void)loop;
    (void)fd;
    (void)events;
    /* an idle agent connection has nothing to say: EOF (max_idle,
     * max_use) or garbage; either way it is finished */
    struct agent_conn *c = ctx;
    idle_remove(c);
    conn_close(c);
}

static void idle_timeout(struct event_loop *loop, void *ctx)
{
    (void)loop;
    struct agent_conn *c = ctx;
    idle_remove(c);
    conn_close(c);
}

static void conn_event(struct event_loop *loop, int fd, unsigned events,
                       void *ctx);
static void conn_timeout(struct event_loop *loop, void *ctx);
static void job_start(struct qjob *job, int retry);

static void make_idle(struct agent_conn *c)
{
    c->job = NULL;
    c->reused = 1;
    c->next = qmgr.idle_conns;
    qmgr.idle_conns = c;
    event_timer_init(&c->timer, idle_timeout, c);
    event_timer_start(qmgr.loop, &c->timer, IDLE_CLOSE_MS);
    /* the fd callback changes with the state: an idle connection that
     * becomes readable was closed by the agent (max_idle, max_use) */
    event_fd_rebind(qmgr.loop, c->fd, EVENT_READ, idle_event, c);
    if (stream_input_pending(c->stream))
        idle_event(qmgr.loop, c->fd, EVENT_READ, c); /* extra bytes */
}

static struct agent_conn *conn_get(const char *transport, struct buf *err)
{
    for (struct agent_conn **pp = &qmgr.idle_conns; *pp; pp = &(*pp)->next) {
        struct agent_conn *c = *pp;
        if (strcmp(c->transport, transport) == 0) {
            *pp = c->next;
            c->next = NULL;
            event_timer_stop(qmgr.loop, &c->timer);
            /* still registered with idle_event: job_start rebinds it */
            return c;
        }
    }
    struct buf path = BUF_INIT;
    buf_appendf(&path, "%s/private/%s", qmgr.queue_dir, transport);
    int fd = attr_connect(path.data, CONNECT_TIMEOUT_MS, err);
    buf_free(&path);
    if (fd < 0)
        return NULL;
    struct agent_conn *c = xcalloc(1, sizeof(*c));
    c->transport = xstrdup(transport);
    c->fd = fd;
    c->stream = stream_open(fd);
    stream_set_nonblocking(c->stream, 1);
    return c;
}

/* The deliver/1 request for a job (lib/delivery/deliver_req, shared with the
 * agents). The strings are borrowed from the message. */
static struct attr_msg *build_request(const struct qjob *job)
{
    const struct qmsg *msg = job->msg;
    const struct qfile_envelope *env = &msg->env;
    struct deliver_request req;
    memset(&req, 0, sizeof(req));
    const char *ident = qfile_envelope_attr(env, "log_ident");
    req.queue_name = "active";
    req.queue_id = (char *)msg->qid;
    req.transport = job->transport;
    req.nexthop = job->nexthop;
    req.sender = env->sender;
    req.arrival_time = (long long)env->arrival_sec;
    req.message_size = (long long)env->header.message_size;
    req.content_offset = (long long)env->header.content_offset;
    req.encoding = env->encoding & QFILE_ENC_8BITMIME ? "8bitmime" : "7bit";
    req.smtputf8 = (env->encoding & QFILE_ENC_SMTPUTF8) != 0;
    const char *requiretls = qfile_envelope_attr(env, "requiretls");
    req.requiretls = requiretls && strcmp(requiretls, "1") == 0;
    req.dsn_envid = env->envid;
    req.dsn_ret = env->dsn_ret == QFILE_RET_FULL   ? "full"
                  : env->dsn_ret == QFILE_RET_HDRS ? "hdrs"
                                                   : "";
    req.client_name = (char *)qfile_envelope_attr(env, "client_name");
    req.client_address = (char *)qfile_envelope_attr(env, "client_address");
    req.log_ident = (char *)(ident ? ident : msg->qid);
    req.rcpt_count = job->rcpt_count;
    req.rcpts = xcalloc(job->rcpt_count, sizeof(*req.rcpts));
    for (size_t i = 0; i < job->rcpt_count; i++) {
        const struct qfile_recipient *rc = msg->rcpts[job->rcpt_index[i]].rcpt;
        req.rcpts[i].address = rc->address;
        req.rcpts[i].original = rc->original;
        req.rcpts[i].orcpt = rc->orcpt;
        req.rcpts[i].notify = rc->notify;
        req.rcpts[i].offset = rc->offset;
    }
    struct attr_msg *out = deliver_request_encode(&req);
    free(req.rcpts);
    return out;
}

/* Reads which recipients the file says are done, after a broken
 * request: the agent marks before it replies, so the file knows. */
static void job_believe_file(struct qjob *job)
{
    struct qmsg *msg = job->msg;
    struct qfile_reader *reader = NULL;
    struct qfile_envelope env;
    struct buf err = BUF_INIT;
    memset(&env, 0, sizeof(env));
    if (qfile_reader_fdopen(msg->fd, &reader, &err) == QFILE_OK &&
        qfile_read_envelope(reader, &env, &err) == QFILE_OK) {
        struct dsn d;
        dsn_set(&d, "2.0.0", -1, "delivered", NULL, NULL, NULL, NULL);
        for (size_t i = 0; i < job->rcpt_count; i++) {
            size_t index = job->rcpt_index[i];
            const struct qfile_recipient *now = qfile_envelope_recipient_at(
                &env, msg->rcpts[index].rcpt->offset);
            if (now && now->done && msg->rcpts[index].state == QRCPT_PENDING)
                msg_rcpt_result(msg, index, QRCPT_SENT, &d, NULL);
        }
        dsn_free(&d);
    } else {
        log_warn("%s: re-read queue file: %s", msg->qid, err.data);
    }
    qfile_envelope_free(&env);
    qfile_reader_close(reader);
    buf_free(&err);
}

/* The connection broke or timed out during a request. */
static void conn_failed(struct agent_conn *c, const char *why,
                        int got_reply_bytes)
{
    struct qjob *job = c->job;
    int retry = c->reused && !got_reply_bytes && !job->retried;
    log_warn("%s: lost connection with %s service: %s", job->msg->qid,
             c->transport, why);
    conn_close(c);
    job_believe_file(job);
    int pending = 0;
    for (size_t i = 0; i < job->rcpt_count; i++)
        if (job->msg->rcpts[job->rcpt_index[i]].state == QRCPT_PENDING)
            pending++;
    if (retry && pending) {
        /* once, on a fresh connection */
        job_start(job, 1);
        return;
    }
    struct buf reason = BUF_INIT;
    buf_appendf(&reason, "lost connection with %s service", job->transport);
    job_defer(job, "4.3.0", reason.data, 1);
    buf_free(&reason);
    job_end(job, 1);
    deliver_run();
}

/* Feeds the agent's hop status back to the destination's flow state.
 * Under a rate-limit back-off, `slowed` gets the text added to the
 * deferred recipients' reasons (postqueue -p shows it). Returns 1 when
 * the destination is now dead; *failure is then the reason of the
 * failure that killed it. */
static int flow_feedback(struct qjob *job, enum deliver_hop hop,
                         const struct deliver_result *results,
                         struct buf *slowed, const char **failure)
{
    enum dsched_outcome outcome = hop == DELIVER_HOP_FAILED ? DSCHED_FAILED
                                  : hop == DELIVER_HOP_THROTTLED
                                      ? DSCHED_THROTTLED
                                      : DSCHED_OK;
    int dead = dsched_feedback(qmgr.sched, &job->sched, outcome);
    const char *dest = dsched_job_dest(&job->sched);
    *failure = "destination not reachable";
    for (size_t i = 0; i < job->rcpt_count; i++)
        if (results[i].status == DELIVER_DEFERRED && results[i].reason[0]) {
            *failure = results[i].reason;
            break;
        }
    if (outcome == DSCHED_THROTTLED) {
        struct dsched_dest_state st;
        if (dsched_dest_state(qmgr.sched, job->transport, dest, &st) == 0 &&
            st.delay_ms) {
            unsigned long secs = (unsigned long)((st.delay_ms + 999) / 1000);
            buf_appendf(slowed,
                        "; rate-limited by %s: one delivery every %lus",
                        dest, secs);
            log_info("%s: rate-limited by the destination: concurrency 1, "
                     "one delivery every %lus",
                     dest, secs);
        }
    }
    return dead;
}

/* A destination whose failed cohorts reached the limit: its queued jobs
 * are deferred now, and new ones at once, until minimal_backoff_time
 * has passed or a flush (postqueue -f) forgets it. */
static void dest_died(struct qjob *job, const char *failure)
{
    const char *dest = dsched_job_dest(&job->sched);
    struct buf reason = BUF_INIT;
    buf_appendf(&reason, "delivery temporarily suspended: %s", failure);
    dsched_set_dead(qmgr.sched, job->transport, dest,
                    dsched_now_ms(qmgr.sched) +
                        (uint64_t)qmgr.min_backoff * 1000,
                    reason.data);
    struct dsched_job *list =
        dsched_take_dest(qmgr.sched, job->transport, dest);
    while (list) {
        struct qjob *waiting = list->data;
        list = list->next;
        job_defer(waiting, "4.4.1", reason.data, 1);
        job_end(waiting, 0);
    }
    buf_free(&reason);
}

static void handle_reply(struct agent_conn *c, struct attr_msg *reply)
{
    struct qjob *job = c->job;
    struct qmsg *msg = job->msg;
    struct buf err = BUF_INIT;
    struct deliver_result *results = NULL;
    if (deliver_reply_parse(reply, job->rcpt_count, &results, &err) < 0) {
        log_warn("%s: bad reply from %s service: %s", msg->qid, c->transport,
                 err.data);
        results = NULL;
        conn_close(c);
        job_believe_file(job);
        job_defer(job, "4.3.0", "unknown mail transport error", 1);
        goto done;
    }
    enum deliver_hop hop = deliver_reply_hop(reply);
    struct buf slowed = BUF_INIT;
    const char *failure = NULL;
    if (flow_feedback(job, hop, results, &slowed, &failure))
        dest_died(job, failure);
    for (size_t i = 0; i < job->rcpt_count; i++) {
        const struct deliver_result *res = &results[i];
        enum qrcpt_state state = res->status == DELIVER_SENT ? QRCPT_SENT
                                 : res->status == DELIVER_BOUNCED
                                     ? QRCPT_BOUNCED
                                     : QRCPT_DEFERRED;
        const char *fallback = state == QRCPT_SENT      ? "2.0.0"
                               : state == QRCPT_BOUNCED ? "5.0.0"
                                                        : "4.0.0";
        struct dsn d;
        /* the status code must agree with the status word, or the word
         * wins (a "bounced" with 4.x.x must not be retried forever) */
        struct buf reason = BUF_INIT;
        buf_append_str(&reason, res->reason);
        if (state == QRCPT_DEFERRED && slowed.len)
            buf_append_str(&reason, slowed.data);
        if (res->dsn[0] != fallback[0] ||
            dsn_set(&d, res->dsn, -1, reason.data, res->mta_type,
                    res->mta_name, res->diag_type, res->diag_text) < 0)
            dsn_set(&d, fallback, -1, reason.data, res->mta_type,
                    res->mta_name, res->diag_type, res->diag_text);
        buf_free(&reason);
        /* sent: the agent marked it done before replying (deliver/1) */
        msg_rcpt_result(msg, job->rcpt_index[i], state, &d, res->relay);
        dsn_free(&d);
    }
    if (deliver_reply_retiring(reply))
        conn_close(c); /* the agent exits now; never reuse its connection */
    else
        make_idle(c);
    buf_free(&slowed);
done:
    if (results)
        deliver_results_free(results, job->rcpt_count);
    buf_free(&err);
    job_end(job, 1);
    deliver_run();
}

static void conn_event(struct event_loop *loop, int fd, unsigned events,
                       void *ctx)
{
    (void)loop;
    (void)fd;
    (void)events;
    struct agent_conn *c = ctx;
    if (stream_output_pending(c->stream)) {
        enum stream_status st = stream_flush(c->stream);
        if (st == STREAM_AGAIN) {
            event_fd_set(qmgr.loop, c->fd, EVENT_READ | EVENT_WRITE);
            return;
        }
        if (st != STREAM_OK) {
            conn_failed(c, stream_status_name(st), 0);
            return;
        }
        event_fd_set(qmgr.loop, c->fd, EVENT_READ);
    }
    struct attr_msg *reply = NULL;
    struct buf err = BUF_INIT;
    /* deliver_attr_limits: a reply for many recipients has many
     * attributes (4 per recipient) */
    enum attr_status st =
        attr_read(c->stream, &deliver_attr_limits, &reply, &err);
    if (st == ATTR_AGAIN) {
        buf_free(&err);
        return;
    }
    if (st != ATTR_OK) {
        conn_failed(c, err.len ? err.data : attr_status_name(st),
                    st == ATTR_MALFORMED);
        buf_free(&err);
        return;
    }
    buf_free(&err);
    event_timer_stop(qmgr.loop, &c->timer);
    handle_reply(c, reply);
    attr_msg_free(reply);
}

static void conn_timeout(struct event_loop *loop, void *ctx)
{
    (void)loop;
    struct agent_conn *c = ctx;
    conn_failed(c, "timeout", 1);
}

/* Hands a job that dsched_next returned to an agent. */
static void job_start(struct qjob *job, int retry)
{
    struct buf err = BUF_INIT;
    struct agent_conn *c = conn_get(job->transport, &err);
    if (!c) {
        /* defers the waiting jobs of the transport, then this one */
        transport_died(job->transport, err.data);
        const char *reason = "transport not available";
        deliver_transport_dead(job->transport, &reason);
        job_defer(job, "4.3.0", reason, 1);
        buf_free(&err);
        job_end(job, 1);
        return;
    }
    c->job = job;
    job->retried |= retry;
    gettimeofday(&job->handoff, NULL);
    struct attr_msg *req = build_request(job);
    attr_encode(req, &err);
    attr_msg_free(req);
    stream_write(c->stream, err.data, err.len);
    buf_free(&err);
    event_timer_init(&c->timer, conn_timeout, c);
    event_timer_start(qmgr.loop, &c->timer, (uint64_t)qmgr.ipc_timeout * 1000);
    enum stream_status st = stream_flush(c->stream);
    event_fd_rebind(qmgr.loop, c->fd,
                    st == STREAM_AGAIN ? EVENT_READ | EVENT_WRITE : EVENT_READ,
                    conn_event, c);
    if (st != STREAM_OK && st != STREAM_AGAIN)
        conn_failed(c, stream_status_name(st), 0);
}

void deliver_run(void)
{
    static int running;
    if (running)
        return; /* re-entered from a job that ended at once */
    running = 1;
    struct dsched_job *sj;
    while ((sj = dsched_next(qmgr.sched)))
        job_start(sj->data, 0);
    /* destinations held back by a rate delay or back-off */
    uint64_t wait = dsched_wakeup_ms(qmgr.sched);
    event_timer_stop(qmgr.loop, &qmgr.flow_timer);
    if (wait != UINT64_MAX)
        event_timer_start(qmgr.loop, &qmgr.flow_timer, wait ? wait : 1);
    running = 0;
}
