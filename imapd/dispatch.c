/* dispatch.c: imapd's dispatcher, the `imapd` unix service (root, one
 * long-running process). Each connection on private/imapd is one
 * handoff from imap-login: an attribute record and the client's
 * descriptor (handoff.c). The dispatcher checks the identity (never uid
 * 0, never below imapd_minimum_uid, never gid 0), picks the worker for
 * (uid, hash(user) mod imapd_workers_per_uid), forks it when there is
 * none, passes it the record and the descriptor unchanged over a
 * SOCK_SEQPACKET pair (one record per message), and answers imap-login
 * with the worker's pid for its Login line.
 *
 * A worker is a fork of this process that closes everything it
 * inherited but its socket and the log, drops to the mailbox owner
 * (setgid, initgroups, setuid, verified) and only then reads its first
 * record (worker.c). A worker without sessions for max_idle asks to
 * leave; the dispatcher forgets it and says so in the same stream, so a
 * session sent before that answer is still served, never lost. */
#include "imapd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/peercred.h"
#include "base/privs.h"
#include "base/str.h"
#include "config/config.h"
#include "ipc/fd_pass.h"
#include "ipc/server.h"

#define HANDOFF_READ_TIMEOUT_MS 5000

struct worker {
    struct worker *next;
    uid_t uid;
    long slot;
    pid_t pid;
    int sock; /* -1 once it was told to leave */
};

struct handoff_conn {
    struct handoff_conn *next;
    int fd;
    int passed_fd;
    struct buf data;
    struct event_timer timer;
};

static struct worker *workers;
static struct handoff_conn *conns;
static uid_t mail_owner_uid = (uid_t)-1;

static void on_worker(struct event_loop *loop, int fd, unsigned events,
                      void *ctx);

static void conn_free(struct handoff_conn *c)
{
    for (struct handoff_conn **p = &conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    event_timer_stop(server_loop(), &c->timer);
    event_fd_remove(server_loop(), c->fd);
    close(c->fd);
    if (c->passed_fd >= 0)
        close(c->passed_fd);
    buf_free(&c->data);
    free(c);
    server_session_end();
}

static void worker_forget(struct worker *w)
{
    for (struct worker **p = &workers; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    if (w->sock >= 0) {
        event_fd_remove(server_loop(), w->sock);
        close(w->sock);
    }
    free(w);
}

/* FNV-1a: stable across processes, so one user's sessions meet in one
 * worker. */
static long slot_of(const char *user)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)user; *p; p++)
        h = (h ^ *p) * 16777619u;
    return (long)(h % (uint32_t)imapd_var.workers_per_uid);
}

/* In the forked child: close every descriptor but these. */
static void close_inherited(int keep_a, int keep_b)
{
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL)
        return;
    int dir_fd = dirfd(dir);
    int fds[1024];
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL && count < 1024) {
        long fd;
        if (e->d_name[0] == '.' || str_to_long(e->d_name, &fd) < 0)
            continue;
        if (fd > 2 && fd != dir_fd && fd != keep_a && fd != keep_b)
            fds[count++] = (int)fd;
    }
    closedir(dir);
    for (size_t i = 0; i < count; i++)
        close(fds[i]);
}

static void child_start(int sock, uid_t uid, gid_t gid)
{
    signal(SIGCHLD, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    alarm(0);
    if (log_file_fd() < 0)
        closelog(); /* syslog reconnects by itself */
    close_inherited(sock, log_file_fd());
    struct passwd *pw = getpwuid(uid);
    const char *name = pw && pw->pw_gid == gid ? pw->pw_name : NULL;
    char *groups_of = name ? xstrdup(name) : NULL;
    struct buf err = BUF_INIT;
    if (privs_become(uid, gid, groups_of, &err) < 0)
        log_fatal("worker for uid %ld: %s", (long)uid, buf_cstr(&err));
    free(groups_of);
    buf_free(&err);
    log_set_program("imap");
    worker_main(sock, uid);
}

static struct worker *worker_spawn(uid_t uid, gid_t gid, long slot)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
        log_warn("socketpair: %m");
        return NULL;
    }
    pid_t pid = fork();
    if (pid < 0) {
        log_warn("fork: %m");
        close(pair[0]);
        close(pair[1]);
        return NULL;
    }
    if (pid == 0) {
        close(pair[0]);
        child_start(pair[1], uid, gid);
    }
    close(pair[1]);
    int flags = fcntl(pair[0], F_GETFL);
    if (flags >= 0)
        (void)fcntl(pair[0], F_SETFL, flags | O_NONBLOCK);
    struct worker *w = xcalloc(1, sizeof(*w));
    w->uid = uid;
    w->slot = slot;
    w->pid = pid;
    w->sock = pair[0];
    w->next = workers;
    workers = w;
    event_fd_add(server_loop(), w->sock, EVENT_READ, on_worker, w);
    log_debug("worker %ld for uid %ld slot %ld", (long)pid, (long)uid, slot);
    return w;
}

static struct worker *worker_for(uid_t uid, gid_t gid, const char *user)
{
    long slot = slot_of(user);
    for (struct worker *w = workers; w; w = w->next)
        if (w->uid == uid && w->slot == slot && w->sock >= 0)
            return w;
    return worker_spawn(uid, gid, slot);
}

static void answer(struct handoff_conn *c, int status, long mpid)
{
    struct attr_msg *reply = attr_msg_new(HANDOFF_REPLY_PROTO, 1);
    attr_add_num(reply, "status", status);
    attr_add_num(reply, "mpid", mpid);
    struct buf wire = BUF_INIT;
    attr_encode(reply, &wire);
    attr_msg_free(reply);
    if (write(c->fd, wire.data, wire.len) < 0)
        log_debug("answering imap-login: %m");
    buf_free(&wire);
}

/* Tells the client, through the descriptor we hold, that it cannot go
 * on. */
static void refuse(struct handoff_conn *c, const char *tag, const char *why)
{
    log_warn("refusing an IMAP session: %s", why);
    if (c->passed_fd >= 0 && tag) {
        struct buf line = BUF_INIT;
        buf_appendf(&line,
                    "%s NO [UNAVAILABLE] Internal error occurred. Refer to "
                    "server log for more information.\r\n",
                    tag);
        if (write(c->passed_fd, line.data, line.len) < 0)
            log_debug("telling the client: %m");
        buf_free(&line);
    }
    answer(c, 1, 0);
}

static void dispatch(struct handoff_conn *c, struct attr_msg *msg)
{
    struct handoff h;
    struct buf err = BUF_INIT;
    if (handoff_parse(msg, &h, &err) < 0) {
        refuse(c, NULL, buf_cstr(&err));
    } else if (h.uid <= 0 || h.uid < imapd_var.minimum_uid ||
               h.uid > 4294967294LL) {
        buf_appendf(&err, "user %s has uid %lld, below imapd_minimum_uid %ld",
                    h.user, h.uid, imapd_var.minimum_uid);
        refuse(c, h.tag, buf_cstr(&err));
    } else if (h.gid <= 0 || h.gid > 4294967294LL) {
        buf_appendf(&err, "user %s has gid %lld", h.user, h.gid);
        refuse(c, h.tag, buf_cstr(&err));
    } else if (!privs_is_root() && (uid_t)h.uid != getuid()) {
        /* Not root, a worker can only be ourselves. */
        buf_appendf(&err, "user %s has uid %lld and imapd is not root", h.user,
                    h.uid);
        refuse(c, h.tag, buf_cstr(&err));
    } else {
        struct worker *w = worker_for((uid_t)h.uid, (gid_t)h.gid, h.user);
        if (w == NULL || fd_pass_send(w->sock, c->data.data, c->data.len,
                                      c->passed_fd) < 0) {
            refuse(c, h.tag, "no worker process could take the session");
        } else {
            answer(c, 0, (long)w->pid);
        }
    }
    buf_free(&err);
}

static void on_conn(struct event_loop *loop, int fd, unsigned events, void *ctx)
{
    (void)loop;
    (void)events;
    struct handoff_conn *c = ctx;
    buf_reserve(&c->data, HANDOFF_MAX);
    size_t room = HANDOFF_MAX - c->data.len;
    ssize_t n = room ? fd_pass_recv(fd, c->data.data + c->data.len, room,
                                    &c->passed_fd, 1)
                     : 0;
    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0) {
        if (n < 0 || c->data.len)
            log_warn("imap-login handoff: %s",
                     n < 0 ? strerror(errno) : "cut short");
        conn_free(c);
        return;
    }
    c->data.len += (size_t)n;
    struct attr_msg *msg = NULL;
    struct buf err = BUF_INIT;
    size_t used = 0;
    enum attr_status st = attr_decode(c->data.data, c->data.len,
                                      handoff_limits(), &msg, &used, &err);
    if (st == ATTR_AGAIN && c->data.len < HANDOFF_MAX) {
        buf_free(&err);
        return;
    }
    if (st == ATTR_OK && used == c->data.len && c->passed_fd >= 0) {
        dispatch(c, msg);
    } else {
        log_warn("imap-login handoff: %s",
                 st == ATTR_OK ? "no descriptor or trailing bytes"
                               : buf_cstr(&err));
        answer(c, 1, 0);
    }
    attr_msg_free(msg);
    buf_free(&err);
    conn_free(c);
}

static void on_conn_timeout(struct event_loop *loop, void *ctx)
{
    (void)loop;
    log_warn("imap-login handoff: timeout");
    conn_free(ctx);
}

static void dispatch_accept(int fd)
{
    struct peercred cred;
    if (peercred_get(fd, &cred) < 0 ||
        (cred.uid != 0 && cred.uid != mail_owner_uid && cred.uid != getuid())) {
        log_warn("private/imapd: connection from uid %ld refused",
                 (long)cred.uid);
        close(fd);
        return;
    }
    struct handoff_conn *c = xcalloc(1, sizeof(*c));
    c->fd = fd;
    c->passed_fd = -1;
    event_timer_init(&c->timer, on_conn_timeout, c);
    server_session_begin();
    c->next = conns;
    conns = c;
    event_fd_add(server_loop(), fd, EVENT_READ, on_conn, c);
    event_timer_start(server_loop(), &c->timer, HANDOFF_READ_TIMEOUT_MS);
}

/* A worker asks to leave (it has been idle), or went away. */
static void on_worker(struct event_loop *loop, int fd, unsigned events,
                      void *ctx)
{
    (void)loop;
    (void)events;
    struct worker *w = ctx;
    char data[256];
    int none = -1;
    ssize_t n = fd_pass_recv(fd, data, sizeof(data), &none, 1);
    if (n < 0 && errno == EAGAIN)
        return;
    if (none >= 0)
        close(none);
    if (n > 0) {
        struct attr_msg *bye = attr_msg_new(WORKER_PROTO, 1);
        attr_add_str(bye, "request", "exit");
        struct buf wire = BUF_INIT;
        attr_encode(bye, &wire);
        attr_msg_free(bye);
        (void)fd_pass_send(fd, wire.data, wire.len, -1);
        buf_free(&wire);
    }
    worker_forget(w);
}

static void on_sigchld(struct event_loop *loop, int signo, void *ctx)
{
    (void)loop;
    (void)signo;
    (void)ctx;
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (WIFSIGNALED(status) ||
            (WIFEXITED(status) && WEXITSTATUS(status) != 0))
            log_warn("worker %ld: %s %d", (long)pid,
                     WIFSIGNALED(status) ? "killed by signal" : "exit status",
                     WIFSIGNALED(status) ? WTERMSIG(status)
                                         : WEXITSTATUS(status));
        for (struct worker *w = workers; w; w = w->next)
            if (w->pid == pid) {
                worker_forget(w);
                break;
            }
    }
}

static void dispatch_pre_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    imapd_settings_load();
    uid_t uid;
    gid_t gid;
    struct buf err = BUF_INIT;
    if (privs_lookup_user(cfg_str("mail_owner"), &uid, &gid, &err) ==
        PRIVS_FOUND)
        mail_owner_uid = uid;
    buf_free(&err);
}

static void dispatch_post_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    event_signal_add(server_loop(), SIGCHLD, on_sigchld, NULL);
}

int dispatch_main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .mode = SERVER_EVENT,
        .pre_init = dispatch_pre_init,
        .post_init = dispatch_post_init,
        .accept = dispatch_accept,
        .long_running = 1,
    };
    return server_main(argc, argv, &ops);
}
