/* agent_serve.c: the delivery agents' side of lib/ipc/server.h (single
 * mode): one connection at a time, and on it one deliver/1 request at a
 * time, as long as the client keeps it open (qmgr does, between
 * requests) (agent.h).
 *
 * max_use counts connections, as Postfix documents it and as the server
 * skeleton does. qmgr keeps a connection for as long as it has work, so
 * the requests on it are bounded too: after AGENT_REQUESTS_PER_USE x
 * max_use of them (10,000 by default), max_idle seconds without one, or
 * the end of master's lifeline, the connection is closed after the reply
 * in hand and the process retires (server_stop). Counting each request
 * as a use, as before, cost a process start (about 3 ms of CPU) every
 * 100 deliveries: over 10 % of the CPU per message (docs/decisions.md). */
#include "delivery/agent.h"
#include "delivery/agent_mailbox.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "base/log.h"
#include "ipc/master_proto.h"
#include "base/mem.h"
#include "queue/queue_dirs.h"
#include "ipc/server.h"
#include "base/stream.h"
#include "base/timeconv.h"

static agent_deliver_fn agent_deliver;
static const struct agent_request_ops *agent_request;
static void (*agent_init)(void);
static const char *agent_relay;
static long requests_served;

/* Answers every recipient with the same deferral (the queue file could
 * not be used). */
static void defer_all(struct agent_delivery *d, const char *why)
{
    for (size_t i = 0; i < d->req->rcpt_count; i++)
        agent_defer(d, i, "4.3.0", "%s", why);
}

/* Returns how the request's destination was reached (d.hop, which a
 * network agent sets), for the reply's hop_status. */
static enum deliver_hop handle_request(struct deliver_request *req,
                                       agent_deliver_fn deliver,
                                       const char *relay,
                                       struct deliver_result *results)
{
    struct agent_delivery d;
    memset(&d, 0, sizeof(d));
    d.req = req;
    d.results = results;
    d.relay = relay;
    gettimeofday(&d.received, NULL);
    strlist_init(&d.delivered_to);

    struct buf path = BUF_INIT, err = BUF_INIT;
    enum queue_name queue;
    if (queue_dir_lookup(req->queue_name, &queue) < 0 ||
        !queue_dir_holds_messages(queue) ||
        queue_path(&path, cfg_str("queue_directory"), queue, req->queue_id) <
            0) {
        log_warn("%s: bad queue name %s in request", req->log_ident,
                 req->queue_name);
        /* qf is NULL: outcomes below never mark anything. */
        defer_all(&d, "bad queue name in delivery request");
        goto done;
    }
    enum qfile_result qr = qfile_reader_open(buf_cstr(&path), 1, &d.qf, &err);
    /* A shared flock for the whole request tells a restarted qmgr that
     * its predecessor's delivery is still running (docs/queue-format.md);
     * it is released when the reader closes the file. */
    if (qr == QFILE_OK && flock(qfile_reader_fd(d.qf), LOCK_SH) < 0)
        log_warn("%s: flock: %s", req->log_ident, strerror(errno));
    if (qr == QFILE_OK)
        qr = qfile_read_envelope(d.qf, &d.env, &err);
    if (qr != QFILE_OK) {
        log_warn("%s: %s: %s", req->log_ident, buf_cstr(&path), buf_cstr(&err));
        defer_all(&d, qr == QFILE_CORRUPT
                          ? "cannot read queue file: file is corrupt"
                          : "cannot read queue file: system error");
        goto done;
    }
    for (size_t i = 0; i < req->rcpt_count; i++) {
        const struct qfile_recipient *qr_rcpt =
            qfile_envelope_recipient_at(&d.env, req->rcpts[i].offset);
        if (qr_rcpt == NULL ||
            strcmp(qr_rcpt->address, req->rcpts[i].address) != 0) {
            log_warn("%s: request names recipient %s at offset %llu, which "
                     "the queue file does not hold",
                     req->log_ident, req->rcpts[i].address,
                     (unsigned long long)req->rcpts[i].offset);
            results[i].status = DELIVER_DEFERRED;
            snprintf(results[i].dsn, sizeof(results[i].dsn), "4.3.0");
            results[i].reason =
                xstrdup("delivery request does not match the queue file");
            results[i].relay = xstrdup(relay);
            continue;
        }
        if (qr_rcpt->done) {
            /* Delivered before; qmgr did not learn it (a crash). */
            results[i].status = DELIVER_SENT;
            snprintf(results[i].dsn, sizeof(results[i].dsn), "2.0.0");
            results[i].reason = xstrdup("already delivered");
            results[i].relay = xstrdup(relay);
            continue;
        }
        if (deliver)
            deliver(&d, i);
    }
    if (agent_request) {
        size_t pending = 0;
        for (size_t i = 0; i < req->rcpt_count; i++)
            pending += agent_pending(&d, i);
        if (pending > 0)
            agent_request->deliver(&d);
    }
    /* Copies that waited to share their syncs report now. */
    agent_mailbox_flush(&d);
    for (size_t i = 0; i < req->rcpt_count; i++)
        if (results[i].reason == NULL)
            log_panic("%s: no outcome for recipient %zu", req->log_ident, i);
    /* The done marks are not synced: every delivery itself is on disk
     * before it is reported (the mailbox code syncs), and a mark lost
     * to an operating-system crash costs a duplicate, never a message
     * (docs/decisions.md, "Done marks are written, not synced"). */
done:
    if (d.qf)
        qfile_reader_close(d.qf);
    qfile_envelope_free(&d.env);
    strlist_free(&d.delivered_to);
    buf_free(&path);
    buf_free(&err);
    return d.hop;
}

/* poll() for the next request for at most idle_ms, running a
 * request-mode agent's idle work when it falls due meanwhile. */
static int wait_for_request(struct pollfd *pfd, nfds_t count, int idle_ms)
{
    if (!agent_request || !agent_request->idle_due_ms)
        return poll(pfd, count, idle_ms);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long waited = (now.tv_sec - start.tv_sec) * 1000LL +
                           (now.tv_nsec - start.tv_nsec) / 1000000;
        long long left = idle_ms < 0 ? -1 : idle_ms - waited;
        if (idle_ms >= 0 && left <= 0)
            return 0;
        long due = agent_request->idle_due_ms();
        int timeout = (int)left;
        int hook = 0;
        if (due >= 0 && (timeout < 0 || due < timeout)) {
            timeout = (int)due;
            hook = 1;
        }
        int n = poll(pfd, count, timeout);
        if (n != 0 || !hook)
            return n;
        agent_request->idle_work();
    }
}

/* Between connections the skeleton waits on its own event loop: a
 * request-mode agent's idle work runs from a timer there. */
static struct event_timer idle_timer;
static int idle_timer_ready;

static void arm_idle_timer(void);

static void idle_timer_fire(struct event_loop *loop, void *ctx)
{
    (void)loop;
    (void)ctx;
    agent_request->idle_work();
    arm_idle_timer();
}

static void arm_idle_timer(void)
{
    if (!agent_request || !agent_request->idle_due_ms)
        return;
    if (!idle_timer_ready) {
        event_timer_init(&idle_timer, idle_timer_fire, NULL);
        idle_timer_ready = 1;
    }
    long due = agent_request->idle_due_ms();
    if (due < 0)
        event_timer_stop(server_loop(), &idle_timer);
    else
        event_timer_start(server_loop(), &idle_timer, (uint64_t)due);
}

/* Serves one connection: requests until EOF, idle timeout, master's
 * lifeline, or max_use. */
static void serve_connection(struct stream *s)
{
    int fd = stream_fd(s);
    long max_requests = cfg_int("max_use");
    max_requests = max_requests > LONG_MAX / AGENT_REQUESTS_PER_USE
                       ? LONG_MAX
                       : max_requests * AGENT_REQUESTS_PER_USE;
    /* poll() takes an int: a max_idle past ~24.8 days waits that long. */
    int idle_ms = timeconv_sec_to_int_ms(cfg_time("max_idle"));
    int lifeline = !server_standalone();
    int stop = 0;
    if (idle_timer_ready)
        event_timer_stop(server_loop(), &idle_timer);
    for (;;) {
        struct pollfd pfd[2] = {{fd, POLLIN, 0},
                                {MASTER_LIFELINE_FD, POLLIN, 0}};
        size_t avail;
        stream_peek(s, &avail);
        if (avail == 0) {
            int n = wait_for_request(pfd, lifeline ? 2 : 1, idle_ms);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break; /* idle: the client reconnects when it needs us */
            if (lifeline && pfd[1].revents && !pfd[0].revents) {
                stop = 1; /* master is gone or retired us */
                break;
            }
        }
        /* One request, however long its deliveries, stays under the
         * watchdog; the time between requests does not count. */
        alarm((unsigned)cfg_time("daemon_timeout"));
        stream_set_timeout(s, 60 * 1000);
        struct attr_msg *msg = NULL;
        struct buf err = BUF_INIT;
        enum attr_status st = attr_read(s, &deliver_attr_limits, &msg, &err);
        if (st != ATTR_OK) {
            if (st != ATTR_EOF)
                log_warn("reading request: %s%s%s", attr_status_name(st),
                         err.len ? ": " : "", buf_cstr(&err));
            buf_free(&err);
            break;
        }
        struct deliver_request req;
        if (deliver_request_parse(msg, &req, &err) < 0) {
            log_warn("malformed delivery request: %s", buf_cstr(&err));
            deliver_request_free(&req);
            attr_msg_free(msg);
            buf_free(&err);
            break;
        }
        attr_msg_free(msg);
        buf_free(&err);
        struct deliver_result *results =
            xcalloc(req.rcpt_count, sizeof(*results));
        enum deliver_hop hop =
            handle_request(&req, agent_deliver, agent_relay, results);
        struct attr_msg *reply = deliver_reply_encode(results, req.rcpt_count);
        if (hop != DELIVER_HOP_OK)
            deliver_reply_set_hop(reply, hop);
        int retiring = requests_served + 1 >= max_requests;
        if (retiring)
            deliver_reply_set_retiring(reply);
        st = attr_write(s, reply);
        attr_msg_free(reply);
        deliver_results_free(results, req.rcpt_count);
        deliver_request_free(&req);
        if (st != ATTR_OK) {
            log_warn("writing reply: %s", attr_status_name(st));
            break;
        }
        if (++requests_served >= max_requests || retiring) {
            stop = 1;
            break;
        }
    }
    alarm(0);
    if (stop)
        server_stop();
    else
        arm_idle_timer();
}

static void pre_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (agent_init)
        agent_init();
}

static void request_pre_exit(void)
{
    agent_request->pre_exit();
}

void agent_main_request(int argc, char **argv, const char *program,
                        const struct agent_request_ops *ops)
{
    agent_request = ops;
    agent_init = ops->init;
    agent_relay = program;
    struct server_ops sops;
    memset(&sops, 0, sizeof(sops));
    sops.mode = SERVER_SINGLE;
    sops.pre_init = pre_init;
    sops.serve = serve_connection;
    if (ops->pre_exit)
        sops.pre_exit = request_pre_exit;
    exit(server_main(argc, argv, &sops));
}

void agent_main(int argc, char **argv, const char *program, void (*init)(void),
                agent_deliver_fn deliver)
{
    agent_deliver = deliver;
    agent_init = init;
    agent_relay = program;
    struct server_ops ops;
    memset(&ops, 0, sizeof(ops));
    ops.mode = SERVER_SINGLE;
    /* Delivery agents stay root (master.cf: unpriv = n): they switch to
     * each mailbox owner per delivery. Tables open at first use. */
    ops.pre_init = pre_init;
    ops.serve = serve_connection;
    exit(server_main(argc, argv, &ops));
}
