/* agent_serve.c: the delivery agents' process life: command line,
 * configuration, the listening socket from master (master_proto.h) or a
 * socket of its own (-S, for tests), one connection and one deliver/1
 * request at a time, max_use and max_idle (agent.h).
 *
 * This is the "single" server mode a delivery agent needs and nothing
 * more; when the general server skeleton (lib/server.h) lands, this
 * file shrinks to a call into it. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "master_proto.h"
#include "mem.h"
#include "qid.h"
#include "queue_dirs.h"
#include "stream.h"

static int under_master;
static unsigned generation;
static long requests_served;

static void report(int status)
{
    if (!under_master)
        return;
    struct master_status rec;
    memset(&rec, 0, sizeof(rec));
    rec.pid = getpid();
    rec.generation = generation;
    rec.status = status;
    if (write(MASTER_STATUS_FD, &rec, sizeof(rec)) != (ssize_t)sizeof(rec))
        log_fatal("cannot report to master: %s", strerror(errno));
}

static int bind_socket(const char *path)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path))
        log_fatal("socket path too long: %s", path);
    memcpy(sun.sun_path, path, strlen(path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        log_fatal("socket: %s", strerror(errno));
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
        log_fatal("bind %s: %s", path, strerror(errno));
    if (listen(fd, 16) < 0)
        log_fatal("listen %s: %s", path, strerror(errno));
    return fd;
}

/* Answers every recipient with the same deferral (the queue file could
 * not be used). */
static void defer_all(struct agent_delivery *d, const char *why)
{
    for (size_t i = 0; i < d->req->rcpt_count; i++)
        agent_defer(d, i, "4.3.0", "%s", why);
}

static void handle_request(struct deliver_request *req,
                           agent_deliver_fn deliver, const char *relay,
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
    if (qr == QFILE_OK)
        qr = qfile_read_envelope(d.qf, &d.env, &err);
    if (qr != QFILE_OK) {
        log_warn("%s: %s: %s", req->log_ident, buf_cstr(&path),
                 buf_cstr(&err));
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
        deliver(&d, i);
        if (results[i].reason == NULL)
            log_panic("%s: no outcome for recipient %zu", req->log_ident, i);
    }
    /* One sync covers every done mark; only then may qmgr learn. */
    if (d.marked > 0 && fdatasync(qfile_reader_fd(d.qf)) < 0) {
        log_warn("%s: fdatasync %s: %s", req->log_ident, buf_cstr(&path),
                 strerror(errno));
        for (size_t i = 0; i < req->rcpt_count; i++)
            if (results[i].status == DELIVER_SENT) {
                results[i].status = DELIVER_DEFERRED;
                snprintf(results[i].dsn, sizeof(results[i].dsn), "4.3.0");
            }
    }
done:
    if (d.qf)
        qfile_reader_close(d.qf);
    qfile_envelope_free(&d.env);
    strlist_free(&d.delivered_to);
    buf_free(&path);
    buf_free(&err);
}

/* Serves one connection: requests until EOF, idle timeout, master's
 * lifeline, or max_use. Returns 1 when the process should exit. */
static int serve_connection(int fd, agent_deliver_fn deliver,
                            const char *relay)
{
    struct stream *s = stream_open(fd);
    long max_use = cfg_int("max_use");
    long idle_ms = cfg_time("max_idle") * 1000;
    int stop = 0;
    for (;;) {
        struct pollfd pfd[2] = {{fd, POLLIN, 0}, {MASTER_LIFELINE_FD, POLLIN, 0}};
        size_t avail;
        stream_peek(s, &avail);
        if (avail == 0) {
            int n = poll(pfd, under_master ? 2 : 1, (int)idle_ms);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break; /* idle: the client reconnects when it needs us */
            if (under_master && pfd[1].revents) {
                stop = 1;
                break;
            }
        }
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
        handle_request(&req, deliver, relay, results);
        struct attr_msg *reply = deliver_reply_encode(results, req.rcpt_count);
        st = attr_write(s, reply);
        attr_msg_free(reply);
        deliver_results_free(results, req.rcpt_count);
        deliver_request_free(&req);
        if (st != ATTR_OK) {
            log_warn("writing reply: %s", attr_status_name(st));
            break;
        }
        if (++requests_served >= max_use) {
            stop = 1;
            break;
        }
    }
    stream_close(s);
    return stop;
}

static void usage(const char *program)
{
    log_fatal("usage: %s [-c config_dir] [-n service] [-t type] [-v] "
              "[-o name=value]... [-S socket]",
              program);
}

void agent_main(int argc, char **argv, const char *program,
                void (*init)(void), agent_deliver_fn deliver)
{
    const char *config_dir = NULL, *own_socket = NULL;
    int verbose = 0, opt;
    log_set_program(program);
    signal(SIGPIPE, SIG_IGN);
    while ((opt = getopt(argc, argv, "c:n:t:vo:S:")) != -1) {
        switch (opt) {
        case 'c':
            config_dir = optarg;
            break;
        case 'n':
        case 't':
            break;
        case 'v':
            verbose++;
            break;
        case 'o':
            if (config_override_arg(optarg) < 0)
                log_fatal("bad -o argument: %s", optarg);
            break;
        case 'S':
            own_socket = optarg;
            break;
        default:
            usage(program);
        }
    }
    struct buf err = BUF_INIT;
    if (config_load(config_resolve_dir(config_dir), &err) < 0)
        log_fatal("%s", buf_cstr(&err));
    buf_free(&err);
    log_set_syslog_name(cfg_str("syslog_name"));
    log_open(cfg_str("maillog_file"), cfg_str("syslog_facility"));
    log_set_verbose(verbose);

    int listen_fd;
    if (own_socket) {
        listen_fd = bind_socket(own_socket);
    } else if (getenv(MASTER_LISTEN_COUNT_ENV)) {
        under_master = 1;
        listen_fd = MASTER_LISTEN_FD;
        const char *gen = getenv(MASTER_GENERATION_ENV);
        generation = gen ? (unsigned)strtoul(gen, NULL, 10) : 0;
    } else {
        log_fatal("not started by master; use -S PATH to serve a socket");
    }
    if (init)
        init();
    const char *relay = program;
    long idle_ms = cfg_time("max_idle") * 1000;
    for (;;) {
        report(MASTER_STAT_AVAIL);
        struct pollfd pfd[2] = {{listen_fd, POLLIN, 0},
                                {MASTER_LIFELINE_FD, POLLIN, 0}};
        int n = poll(pfd, under_master ? 2 : 1, (int)idle_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            log_fatal("poll: %s", strerror(errno));
        if (n == 0 || (under_master && pfd[1].revents))
            exit(0);
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
                errno == ECONNABORTED)
                continue; /* another process took it */
            log_fatal("accept: %s", strerror(errno));
        }
        /* The connection is blocking; the stream bounds each read. */
        int flags = fcntl(fd, F_GETFL);
        if (flags >= 0)
            fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        report(MASTER_STAT_TAKEN);
        if (serve_connection(fd, deliver, relay))
            exit(0);
    }
}
