/* fake_agent.c: a stand-in delivery agent for the qmgr tests
 * (tests/e2e/test_qmgr.py). It speaks deliver/1 (docs/mail-flow.md) as a
 * master child, marks each recipient it answers `sent` done in the
 * queue file (lib/queue/qfile, fdatasync) before replying, and logs each
 * recipient in Postfix's shape, as the real agents do, but delivers
 * nothing anywhere: it only notes what it would have delivered.
 *
 *   fake_agent -c DIR -n SERVICE -t TYPE [-v] [-o n=v]... [ARG]...
 * ARGs:
 *   status=sent|deferred|bounced  answer for every recipient (sent)
 *   statusfile=PATH   when PATH exists, its first word is the answer
 *                     (tests change the behaviour while mail flows); a
 *                     second word, ok|failed|throttled, is the reply's
 *                     hop_status (qmgr's flow control, deliver_req.h)
 *   delay_ms=N        wait N ms before answering each request
 *   journal=PATH      append "QID RECIPIENT PID" per recipient marked done
 *   conc=PATH         concurrency counter "CURRENT MAX" kept under flock
 *   copies=DIR        write each delivered message's content to DIR/QID
 * While it handles a request it holds a shared flock on the queue file,
 * as the agents do (docs/qmgr.md): a qmgr that restarts waits for
 * requests of its predecessor to end before it sends the same message
 * again. "Delivery" (the journal line, the copy) happens before the done
 * mark, as in the real agents, so a kill between them is the one window
 * for a duplicate.
 * A recipient whose local part starts with "defer" is always deferred
 * (4.2.0), one starting with "bounce" always bounced (5.1.1). One
 * connection is served at a time; the process stays alive across
 * requests and connections, as the real agents do. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ipc/attr.h"
#include "base/buf.h"
#include "config/config.h"
#include "delivery/deliver_req.h"
#include "message/dsn.h"
#include "base/log.h"
#include "ipc/master_proto.h"
#include "queue/qfile_reader.h"
#include "queue/queue_dirs.h"
#include "queue/qid.h"
#include "base/stream.h"

static const char *service = "fake";
static unsigned generation;
static const char *default_status = "sent";
static const char *status_file;
static long delay_ms;
static int journal_fd = -1;
static const char *conc_path;
static const char *copies_dir;

static void report(int status)
{
    struct master_status rec;
    memset(&rec, 0, sizeof(rec));
    rec.pid = getpid();
    rec.generation = generation;
    rec.status = status;
    if (write(MASTER_STATUS_FD, &rec, sizeof(rec)) != sizeof(rec))
        _exit(3);
}

/* Adds delta to the shared "CURRENT MAX" counter. */
static void conc_add(int delta)
{
    if (!conc_path)
        return;
    int fd = open(conc_path, O_RDWR | O_CREAT, 0666);
    if (fd < 0)
        return;
    if (flock(fd, LOCK_EX) == 0) {
        char text[64] = "";
        ssize_t got = pread(fd, text, sizeof(text) - 1, 0);
        long cur = 0, max = 0;
        if (got > 0) {
            text[got] = 0;
            sscanf(text, "%ld %ld", &cur, &max);
        }
        cur += delta;
        if (cur > max)
            max = cur;
        int len = snprintf(text, sizeof(text), "%ld %ld\n", cur, max);
        if (ftruncate(fd, 0) == 0)
            (void)!pwrite(fd, text, (size_t)len, 0);
    }
    close(fd);
}

static void copy_content(struct qfile_reader *reader, const char *qid)
{
    struct buf path = BUF_INIT, chunk = BUF_INIT, err = BUF_INIT;
    buf_appendf(&path, "%s/%s", copies_dir, qid);
    int fd = open(path.data, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0 && qfile_content_seek(reader, 0) == 0) {
        while (qfile_content_read(reader, &chunk, 65536, &err) == QFILE_OK &&
               chunk.len > 0)
            (void)!write(fd, chunk.data, chunk.len);
    }
    if (fd >= 0)
        close(fd);
    buf_free(&path);
    buf_free(&chunk);
    buf_free(&err);
}

static char hop_word[32];

static const char *current_status(char *space, size_t size)
{
    hop_word[0] = '\0';
    if (status_file) {
        FILE *f = fopen(status_file, "r");
        if (f) {
            int ok = fscanf(f, "%31s", space) == 1;
            if (ok && fscanf(f, "%31s", hop_word) != 1)
                hop_word[0] = '\0';
            fclose(f);
            (void)size;
            if (ok)
                return space;
        }
    }
    return default_status;
}

/* Handles one deliver/1 request; returns the reply (NULL: protocol
 * error, drop the connection). */
static struct attr_msg *handle(struct attr_msg *req)
{
    struct buf err = BUF_INIT, name = BUF_INIT, qpath = BUF_INIT;
    struct buf line = BUF_INIT;
    struct attr_msg *reply = NULL;
    struct qfile_reader *reader = NULL;
    const char *qid, *sender;
    long long count, arrival;
    if (attr_check_proto(req, "deliver", 1, &err) < 0 ||
        attr_get_str(req, "queue_id", &qid, NULL, &err) < 0 ||
        attr_get_str(req, "sender", &sender, NULL, &err) < 0 ||
        attr_get_num(req, "arrival_time", &arrival, &err) < 0 ||
        attr_get_num(req, "rcpt_count", &count, &err) < 0 || count < 1 ||
        count > 1000 || !qid_valid(qid)) {
        log_warn("bad request: %s", err.len ? err.data : "bad values");
        goto out;
    }
    /* lock first, before any work: see the comment at the top */
    int open_failed = 0;
    if (queue_path(&qpath, cfg_str("queue_directory"), QUEUE_ACTIVE, qid) < 0 ||
        qfile_reader_open(qpath.data, 1, &reader, &err) != QFILE_OK) {
        log_warn("%s: cannot open queue file: %s", qid, err.data);
        reader = NULL;
        open_failed = 1;
    } else {
        (void)flock(qfile_reader_fd(reader), LOCK_SH);
    }
    conc_add(1);
    if (delay_ms > 0) {
        struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    char space[32];
    const char *answer =
        open_failed ? "deferred" : current_status(space, sizeof(space));

    reply = attr_msg_new("deliver", 1);
    attr_add_num(reply, "rcpt_count", count);
    if (strcmp(hop_word, "failed") == 0)
        deliver_reply_set_hop(reply, DELIVER_HOP_FAILED);
    else if (strcmp(hop_word, "throttled") == 0)
        deliver_reply_set_hop(reply, DELIVER_HOP_THROTTLED);
    else if (strcmp(hop_word, "ok") == 0)
        deliver_reply_set_hop(reply, DELIVER_HOP_OK);
    struct timeval now;
    gettimeofday(&now, NULL);
    for (long long i = 0; i < count; i++) {
        const char *addr = "";
        const char *orig = "";
        long long offset = 0;
        buf_reset(&name);
        buf_appendf(&name, "rcpt_address_%lld", i);
        if (attr_get_str(req, name.data, &addr, NULL, &err) < 0)
            addr = "";
        buf_reset(&name);
        buf_appendf(&name, "rcpt_original_%lld", i);
        orig = attr_opt_str(req, name.data, "");
        buf_reset(&name);
        buf_appendf(&name, "rcpt_offset_%lld", i);
        if (attr_get_num(req, name.data, &offset, &err) < 0)
            offset = 0;
        const char *status = answer, *code = "2.0.0";
        const char *reason = "delivered by fake agent";
        if (strncmp(addr, "defer", 5) == 0)
            status = "deferred";
        else if (strncmp(addr, "bounce", 6) == 0)
            status = "bounced";
        if (strcmp(status, "deferred") == 0) {
            code = "4.2.0";
            reason = "fake agent says try again later";
        } else if (strcmp(status, "bounced") == 0) {
            code = "5.1.1";
            reason = "fake agent says no such user";
        } else {
            status = "sent";
            buf_reset(&err);
            if (reader && journal_fd >= 0) {
                buf_reset(&line);
                buf_appendf(&line, "%s %s %ld\n", qid, addr, (long)getpid());
                (void)!write(journal_fd, line.data, line.len);
            }
            if (reader && copies_dir)
                copy_content(reader, qid);
            if (!reader ||
                qfile_reader_mark_done(reader, (uint64_t)offset, QFILE_SYNC,
                                       &err) != QFILE_OK) {
                log_warn("%s: mark done: %s", qid, err.data);
                status = "deferred";
                code = "4.3.0";
                reason = "cannot update queue file";
            }
        }
        struct dsn d;
        dsn_set(&d, code, -1, reason, NULL, NULL, NULL, NULL);
        struct dsn_stamps stamps;
        memset(&stamps, 0, sizeof(stamps));
        stamps.arrival.tv_sec = (time_t)arrival;
        buf_reset(&line);
        dsn_format_log(&line, addr, orig, service, &stamps, &now, 2, &d, NULL);
        log_info("%s: %s", qid, line.data);
        dsn_free(&d);
        buf_reset(&name);
        buf_appendf(&name, "status_%lld", i);
        attr_add_str(reply, name.data, status);
        buf_reset(&name);
        buf_appendf(&name, "dsn_%lld", i);
        attr_add_str(reply, name.data, code);
        buf_reset(&name);
        buf_appendf(&name, "reason_%lld", i);
        attr_add_str(reply, name.data, reason);
        buf_reset(&name);
        buf_appendf(&name, "relay_%lld", i);
        attr_add_str(reply, name.data, service);
    }
    conc_add(-1);
out:
    if (reader)
        qfile_reader_close(reader);
    buf_free(&err);
    buf_free(&name);
    buf_free(&qpath);
    buf_free(&line);
    return reply;
}

static void serve(int fd)
{
    struct stream *s = stream_open(fd);
    stream_set_timeout(s, 3600 * 1000);
    for (;;) {
        struct attr_msg *req = NULL;
        struct buf err = BUF_INIT;
        enum attr_status st = attr_read(s, &deliver_attr_limits, &req, &err);
        buf_free(&err);
        if (st != ATTR_OK)
            break;
        struct attr_msg *reply = handle(req);
        attr_msg_free(req);
        if (!reply)
            break;
        st = attr_write(s, reply);
        attr_msg_free(reply);
        if (st != ATTR_OK)
            break;
    }
    stream_close(s);
}

int main(int argc, char **argv)
{
    const char *config_dir = NULL;
    int opt;
    signal(SIGPIPE, SIG_IGN);
    while ((opt = getopt(argc, argv, "c:n:t:o:v")) != -1) {
        if (opt == 'c')
            config_dir = optarg;
        else if (opt == 'n')
            service = optarg;
        else if (opt == 'o')
            config_override_arg(optarg);
        else if (opt == '?')
            return 2;
    }
    for (int i = optind; i < argc; i++) {
        if (strncmp(argv[i], "status=", 7) == 0)
            default_status = argv[i] + 7;
        else if (strncmp(argv[i], "statusfile=", 11) == 0)
            status_file = argv[i] + 11;
        else if (strncmp(argv[i], "delay_ms=", 9) == 0)
            delay_ms = atol(argv[i] + 9);
        else if (strncmp(argv[i], "journal=", 8) == 0)
            journal_fd = open(argv[i] + 8, O_WRONLY | O_APPEND | O_CREAT, 0666);
        else if (strncmp(argv[i], "conc=", 5) == 0)
            conc_path = argv[i] + 5;
        else if (strncmp(argv[i], "copies=", 7) == 0)
            copies_dir = argv[i] + 7;
    }
    struct buf err = BUF_INIT;
    if (config_load(config_resolve_dir(config_dir), &err) < 0) {
        fprintf(stderr, "fake_agent: %s\n", err.data);
        return 1;
    }
    log_set_program(service);
    log_set_syslog_name(cfg_str("syslog_name"));
    log_open(cfg_str("maillog_file"), NULL);
    const char *gen = getenv(MASTER_GENERATION_ENV);
    generation = gen ? (unsigned)strtoul(gen, NULL, 10) : 0;
    for (;;) {
        struct pollfd fds[2] = {{MASTER_LIFELINE_FD, POLLIN, 0},
                                {MASTER_LISTEN_FD, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if (fds[0].revents)
            return 0;
        if (!(fds[1].revents & POLLIN))
            continue;
        int conn = accept(MASTER_LISTEN_FD, NULL, NULL);
        if (conn < 0)
            continue;
        int flags = fcntl(conn, F_GETFL);
        if (flags >= 0)
            fcntl(conn, F_SETFL, flags & ~O_NONBLOCK);
        report(MASTER_STAT_TAKEN);
        serve(conn);
        report(MASTER_STAT_AVAIL);
    }
}
