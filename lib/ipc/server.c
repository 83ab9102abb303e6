/* server.c: the daemon skeleton, child side of master_proto.h (server.h). */
#include "ipc/server.h"
#include "ipc/server_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/buf.h"
#include "config/config.h"
#include "base/log.h"
#include "ipc/master_proto.h"
#include "base/mem.h"
#include "base/peercred.h"
#include "base/privs.h"
#include "base/str.h"

/* How long a `pass` sender may take to deliver its descriptor. */
#define SERVER_HANDOFF_TIMEOUT_MS 5000
#define SERVER_MAX_LISTEN 64
#define SERVER_ACCEPT_BURST 16

static struct {
    const struct server_ops *ops;
    struct event_loop *loop;
    const char *service;
    const char *type;
    int standalone;
    unsigned generation;
    int listen_fds[SERVER_MAX_LISTEN];
    size_t listen_count;
    int accepting;
    int is_pass;
    long max_use;
    long max_idle;
    unsigned watchdog; /* daemon_timeout: seconds one request may take */
    long use_count;
    size_t sessions;
    int stopping;
    int reported; /* last status sent, -1 = none */
    int told_used; /* event mode: master knows this process served */
    struct event_timer idle_timer;
} srv = {.reported = -1};

struct event_loop *server_loop(void)
{
    return srv.loop;
}

const char *server_service(void)
{
    return srv.service;
}

const char *server_type(void)
{
    return srv.type;
}

int server_standalone(void)
{
    return srv.standalone;
}

size_t server_session_count(void)
{
    return srv.sessions;
}

/* ---- status to master ---- */

static void write_status(int status)
{
    struct master_status rec;
    memset(&rec, 0, sizeof(rec));
    rec.pid = getpid();
    rec.generation = srv.generation;
    rec.status = status;
    /* Smaller than PIPE_BUF: one write, never interleaved. A failure means
     * master is gone, which the lifeline reports on its own. */
    ssize_t n;
    do
        n = write(MASTER_STATUS_FD, &rec, sizeof(rec));
    while (n < 0 && errno == EINTR);
}

void server_report(int status)
{
    if (srv.standalone || srv.reported == status)
        return;
    write_status(status);
    srv.reported = status;
}

/* ---- lifecycle ---- */

static void server_exit(void)
{
    if (srv.ops->pre_exit)
        srv.ops->pre_exit();
    exit(0);
}

static int use_limited(void)
{
    return !srv.ops->long_running;
}

static void idle_expired(struct event_loop *loop, void *ctx)
{
    log_debug("idle for %lds: exiting", srv.max_idle);
    server_exit();
}

/* Called whenever the process may have become idle. */
static void became_idle(void)
{
    if (srv.sessions > 0)
        return;
    if (srv.stopping)
        server_exit();
    if (use_limited() && srv.use_count >= srv.max_use)
        server_exit();
    if (use_limited())
        event_timer_start(srv.loop, &srv.idle_timer,
                          (uint64_t)srv.max_idle * 1000u);
}

/* For good: a process that stops accepting never starts again. The
 * listeners are closed, not only unwatched: master keeps its own copies,
 * and a process that finishes its sessions after master died must not
 * keep the port bound, or a restarted master cannot bind it and new
 * clients wait on a backlog nobody accepts from. */
static void stop_accepting(void)
{
    if (!srv.accepting)
        return;
    for (size_t i = 0; i < srv.listen_count; i++) {
        event_fd_remove(srv.loop, srv.listen_fds[i]);
        close(srv.listen_fds[i]);
    }
    srv.listen_count = 0;
    srv.accepting = 0;
}

/* Stops watching one listener that master shut down; with none left,
 * the process finishes its sessions and exits as on lifeline EOF. */
static void retire_listener(int listen_fd)
{
    size_t kept = 0;
    for (size_t i = 0; i < srv.listen_count; i++) {
        if (srv.listen_fds[i] == listen_fd) {
            if (srv.accepting)
                event_fd_remove(srv.loop, listen_fd);
            close(listen_fd);
            continue;
        }
        srv.listen_fds[kept++] = srv.listen_fds[i];
    }
    srv.listen_count = kept;
    if (kept == 0)
        server_stop();
}

void server_stop(void)
{
    srv.stopping = 1;
    stop_accepting();
    server_report(MASTER_STAT_TAKEN);
    became_idle();
}

void server_session_begin(void)
{
    srv.sessions++;
    event_timer_stop(srv.loop, &srv.idle_timer);
}

void server_session_end(void)
{
    if (srv.sessions == 0)
        log_panic("server_session_end without server_session_begin");
    srv.sessions--;
    became_idle();
}

static void lifeline_ready(struct event_loop *loop, int fd, unsigned events,
                           void *ctx)
{
    char byte[16];
    ssize_t n = read(fd, byte, sizeof(byte));
    if (n > 0 || (n < 0 && (errno == EINTR || errno == EAGAIN)))
        return;
    log_debug("master is gone: finishing up");
    event_fd_remove(loop, fd);
    server_stop();
}

static void sigterm_handler(int signo)
{
    _exit(0);
}

/* ---- accepting ---- */

/* What a listening descriptor is (server_impl.h) is passed as the fd
 * callback's ctx. */

static enum listen_kind listen_kind_of(int fd)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
        return LISTEN_FIFO;
    int type = 0;
    socklen_t len = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
        type == SOCK_DGRAM)
        return LISTEN_DGRAM;
    return LISTEN_STREAM;
}

/* Receives the descriptor a `pass` client sends on conn. */
static int receive_fd(int conn)
{
    struct pollfd pfd = {conn, POLLIN, 0};
    if (poll(&pfd, 1, SERVER_HANDOFF_TIMEOUT_MS) <= 0) {
        log_warn("pass: no descriptor received");
        return -1;
    }
    char byte;
    struct iovec iov = {&byte, 1};
    union {
        struct cmsghdr hdr;
        char space[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.space;
    msg.msg_controllen = sizeof(control.space);
    ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    struct cmsghdr *cmsg = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (!cmsg || cmsg->cmsg_level != SOL_SOCKET ||
        cmsg->cmsg_type != SCM_RIGHTS ||
        cmsg->cmsg_len != CMSG_LEN(sizeof(int))) {
        log_warn("pass: message without a descriptor");
        return -1;
    }
    int fd;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    return fd;
}

/* Our daemons write each reply (or each pipelined batch of replies) with
 * one flush, so Nagle's algorithm only adds delay: after a TLS 1.3
 * handshake the server's session ticket is still unacknowledged when the
 * first reply goes out, Nagle holds the reply back, and the client's
 * delayed ACK makes that up to 40 ms a session. Not a TCP socket (unix,
 * a pipe): the call fails and nothing changes. */
static int no_delay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* Accepts one client (the passed fd for `pass` services); -1 when there
 * is none (another process won the race, which is normal). */
int server_accept_client(int listen_fd)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        /* master shuts a socket down when a reload drops its service line
         * (master_proto.h): that is a retirement, not an error. */
        if (errno == EINVAL) {
            retire_listener(listen_fd);
            return -1;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
            errno != ECONNABORTED)
            log_warn("accept: %s", strerror(errno));
        return -1;
    }
    if (!srv.is_pass)
        return no_delay(fd);
    int client = receive_fd(fd);
    close(fd);
    return client < 0 ? client : no_delay(client);
}

/* Runs one trigger callback (server_trigger.c) as a unit of work. */
void server_run_counted(void (*work)(void *ctx), void *ctx)
{
    server_report(MASTER_STAT_TAKEN);
    event_timer_stop(srv.loop, &srv.idle_timer);
    alarm(srv.watchdog);
    work(ctx);
    alarm(0);
    srv.use_count++;
    if (use_limited() && srv.use_count >= srv.max_use)
        stop_accepting(); /* retiring: exit once the clients in hand are done */
    else
        server_report(MASTER_STAT_AVAIL);
    became_idle();
}

const struct server_ops *server_ops_in_use(void)
{
    return srv.ops;
}

static void listen_ready(struct event_loop *loop, int listen_fd,
                         unsigned events, void *ctx)
{
    enum listen_kind kind = (enum listen_kind)(long)ctx;
    if (!srv.accepting)
        return;
    if (srv.ops->mode == SERVER_TRIGGER) {
        server_trigger_ready(listen_fd, kind);
        return;
    }
    if (srv.ops->mode == SERVER_SINGLE) {
        /* TAKEN before accept, so master starts another process for the
         * next client while this one is busy. */
        server_report(MASTER_STAT_TAKEN);
        int fd = server_accept_client(listen_fd);
        if (fd < 0) {
            server_report(MASTER_STAT_AVAIL);
            return;
        }
        event_timer_stop(loop, &srv.idle_timer);
        srv.use_count++;
        struct stream *client = stream_open(fd);
        alarm(srv.watchdog);
        srv.ops->serve(client);
        alarm(0);
        stream_close(client);
        server_report(MASTER_STAT_AVAIL);
        became_idle();
        return;
    }
    /* A burst of connections is taken in one wake-up, a few at a time so
     * the sessions already in hand are not starved. */
    for (int burst = 0; burst < SERVER_ACCEPT_BURST && srv.accepting; burst++) {
        int fd = server_accept_client(listen_fd);
        if (fd < 0)
            break;
        srv.use_count++;
        if (!srv.told_used && !srv.standalone) {
            /* An event-mode process stays available while it serves, so
             * master would take its death by a signal later for a bad
             * start-up and throttle the service (auth for 60 s: every
             * login 454). */
            write_status(MASTER_STAT_USED);
            srv.told_used = 1;
        }
        if (use_limited() && srv.use_count >= srv.max_use) {
            /* Retiring: no new clients; exit when these are done. */
            stop_accepting();
            server_report(MASTER_STAT_TAKEN);
        }
        event_timer_stop(loop, &srv.idle_timer);
        srv.ops->accept(fd);
    }
    became_idle();
}

/* ---- standalone listener (-S) ---- */

static int standalone_listen(const char *addr)
{
    int fd;
    struct buf shown = BUF_INIT;
    if (strchr(addr, '/')) {
        struct sockaddr_un sun;
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        if (strlen(addr) >= sizeof(sun.sun_path))
            log_fatal("-S %s: path too long", addr);
        memcpy(sun.sun_path, addr, strlen(addr));
        unlink(addr);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
            log_fatal("-S %s: %s", addr, strerror(errno));
        buf_set_str(&shown, addr);
    } else {
        char *host = xstrdup(addr);
        char *port = strrchr(host, ':');
        if (!port)
            log_fatal("-S %s: expected host:port or a socket path", addr);
        *port++ = '\0';
        char *h = host;
        if (*h == '[' && h[strlen(h) - 1] == ']') {
            h[strlen(h) - 1] = '\0';
            h++;
        }
        struct addrinfo hints, *res;
        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        int rc = getaddrinfo(*h ? h : NULL, port, &hints, &res);
        if (rc != 0)
            log_fatal("-S %s: %s", addr, gai_strerror(rc));
        fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0);
        int on = 1;
        if (fd < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
            bind(fd, res->ai_addr, res->ai_addrlen) < 0)
            log_fatal("-S %s: %s", addr, strerror(errno));
        freeaddrinfo(res);
        struct sockaddr_storage ss;
        socklen_t sslen = sizeof(ss);
        char numeric[NI_MAXHOST], service[NI_MAXSERV];
        getsockname(fd, (struct sockaddr *)&ss, &sslen);
        getnameinfo((struct sockaddr *)&ss, sslen, numeric, sizeof(numeric),
                    service, sizeof(service), NI_NUMERICHOST | NI_NUMERICSERV);
        buf_appendf(&shown, strchr(numeric, ':') ? "[%s]:%s" : "%s:%s", numeric,
                    service);
        free(host);
    }
    if (listen(fd, 128) < 0)
        log_fatal("-S %s: listen: %s", addr, strerror(errno));
    printf("listening on %s\n", buf_cstr(&shown));
    fflush(stdout);
    buf_free(&shown);
    return fd;
}

/* ---- start-up ---- */

static void usage(const char *program)
{
    log_fatal("usage: %s -c DIR -n SERVICE -t TYPE [-v] [-o name=value]... "
              "[-S ADDR] [args]",
              program);
}

static void setup_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    /* The watchdog: a request that outlives daemon_timeout is killed by
     * SIGALRM's default action, and master sees an abnormal exit. */
    signal(SIGALRM, SIG_DFL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sigterm_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
}

static void inherit_master_fds(void)
{
    if (fcntl(MASTER_STATUS_FD, F_GETFD) < 0 ||
        fcntl(MASTER_LIFELINE_FD, F_GETFD) < 0)
        log_fatal("not started by master (no status or lifeline fd); "
                  "use -S ADDR to run stand-alone");
    const char *count_text = getenv(MASTER_LISTEN_COUNT_ENV);
    long count = 0;
    if (!count_text || str_to_long(count_text, &count) < 0 || count < 0 ||
        count > SERVER_MAX_LISTEN)
        log_fatal("bad or missing %s", MASTER_LISTEN_COUNT_ENV);
    const char *gen_text = getenv(MASTER_GENERATION_ENV);
    long generation = 0;
    if (gen_text && str_to_long(gen_text, &generation) == 0 && generation >= 0)
        srv.generation = (unsigned)generation;
    /* Nothing we exec (a pipe delivery) may inherit master's fds. */
    fcntl(MASTER_STATUS_FD, F_SETFD, FD_CLOEXEC);
    fcntl(MASTER_LIFELINE_FD, F_SETFD, FD_CLOEXEC);
    fcntl(MASTER_LIFELINE_FD, F_SETFL, O_NONBLOCK);
    for (long i = 0; i < count; i++) {
        int fd = MASTER_LISTEN_FD + (int)i;
        if (fcntl(fd, F_GETFD) < 0)
            log_fatal("listen fd %d is not open", fd);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        srv.listen_fds[srv.listen_count++] = fd;
    }
}

/* The ids master asked for in MASTER_UNPRIV_ENV ("UID:GID"): 1 when set,
 * 0 when not (the service keeps the ids it was started with). */
static int unpriv_ids(uid_t *uid, gid_t *gid)
{
    const char *unpriv = getenv(MASTER_UNPRIV_ENV);
    if (!unpriv || !*unpriv)
        return 0;
    unsigned long uid_number, gid_number;
    char extra;
    if (sscanf(unpriv, "%lu:%lu%c", &uid_number, &gid_number, &extra) != 2)
        log_fatal("bad %s: %s", MASTER_UNPRIV_ENV, unpriv);
    *uid = (uid_t)uid_number;
    *gid = (gid_t)gid_number;
    return 1;
}

/* Drops to the ids master asked for, for good; privs_drop_ids checks with
 * getresuid/getresgid that no id is left that could regain root. */
static void drop_to_unpriv(void)
{
    uid_t uid;
    gid_t gid;
    if (!unpriv_ids(&uid, &gid))
        return;
    struct buf err = BUF_INIT;
    if (privs_drop_ids(uid, gid, NULL, &err) == PRIVS_DROP_FAILED)
        log_fatal("%s", buf_cstr(&err));
    buf_free(&err);
}

/* A daemon without pre_init and without chroot never needs root: it drops
 * before it does anything else, even before reading main.cf, as if master
 * had dropped it before exec. */
static void drop_early_if_root_is_not_needed(const struct server_ops *ops)
{
    const char *chroot_dir = getenv(MASTER_CHROOT_ENV);
    if (ops->pre_init || (chroot_dir && *chroot_dir))
        return;
    drop_to_unpriv();
}

/* Chroot and privilege drop as master asked (master_proto.h), after
 * pre_init: the daemon has read what only root may read (smtpd's TLS
 * key) and opened what it keeps. */
static void apply_privileges(void)
{
    const char *chroot_dir = getenv(MASTER_CHROOT_ENV);
    struct buf err = BUF_INIT;
    if (chroot_dir && *chroot_dir) {
        int rc = privs_chroot(chroot_dir, &err);
        if (rc < 0)
            log_fatal("%s", buf_cstr(&err));
        if (rc == 1)
            log_warn("not root: not changing root to %s", chroot_dir);
    }
    buf_free(&err);
    drop_to_unpriv();
}

int server_main(int argc, char **argv, const struct server_ops *ops)
{
    const char *config_dir = NULL, *standalone_addr = NULL;
    struct strlist overrides;
    int verbose = 0, opt;

    strlist_init(&overrides);
    srv.ops = ops;
    log_set_program(argv[0]);
    setup_signals();
    drop_early_if_root_is_not_needed(ops);
    opterr = 0;
    while ((opt = getopt(argc, argv, "+c:n:t:vo:S:")) != -1) {
        switch (opt) {
        case 'c':
            config_dir = optarg;
            break;
        case 'n':
            srv.service = optarg;
            break;
        case 't':
            srv.type = optarg;
            break;
        case 'v':
            verbose++;
            break;
        case 'o':
            strlist_add(&overrides, optarg);
            break;
        case 'S':
            standalone_addr = optarg;
            break;
        default:
            usage(argv[0]);
        }
    }
    if ((ops->mode == SERVER_SINGLE && !ops->serve) ||
        (ops->mode == SERVER_EVENT && !ops->accept) ||
        (ops->mode == SERVER_TRIGGER && !ops->trigger))
        log_panic("server_main: no callback for the chosen mode");
    if (!srv.service)
        srv.service = "standalone";
    if (!srv.type)
        srv.type =
            standalone_addr && strchr(standalone_addr, '/') ? "unix" : "inet";
    srv.standalone = standalone_addr != NULL;
    srv.is_pass = strcmp(srv.type, "pass") == 0;

    struct buf err = BUF_INIT;
    for (size_t i = 0; i < overrides.count; i++)
        if (config_override_arg(overrides.items[i]) < 0)
            log_fatal("bad -o %s", overrides.items[i]);
    if (config_load(config_resolve_dir(config_dir), &err) < 0)
        log_fatal("%s", buf_cstr(&err));
    log_set_syslog_name(cfg_str("syslog_name"));
    log_set_verbose(verbose);
    if (log_open(cfg_str("maillog_file"), cfg_str("syslog_facility")) < 0)
        log_fatal("cannot open maillog_file %s", cfg_str("maillog_file"));
    srv.max_use = cfg_int("max_use");
    srv.max_idle = cfg_time("max_idle");
    long watchdog = cfg_time("daemon_timeout");
    srv.watchdog = watchdog > 0 && watchdog < 1000000000 ? (unsigned)watchdog
                                                         : 1000000000u;

    srv.loop = event_loop_new();
    event_timer_init(&srv.idle_timer, idle_expired, NULL);
    if (srv.standalone) {
        srv.listen_fds[srv.listen_count++] = standalone_listen(standalone_addr);
    } else {
        inherit_master_fds();
    }
    if (ops->pre_init)
        ops->pre_init(argc - optind, argv + optind);
    apply_privileges();
    if (ops->post_init)
        ops->post_init(argc - optind, argv + optind);

    for (size_t i = 0; i < srv.listen_count; i++) {
        long kind = listen_kind_of(srv.listen_fds[i]);
        if (kind != LISTEN_STREAM && ops->mode != SERVER_TRIGGER)
            log_fatal("service %s: a %s can only serve triggers", srv.service,
                      kind == LISTEN_FIFO ? "fifo" : "datagram socket");
        if (event_fd_add(srv.loop, srv.listen_fds[i], EVENT_READ, listen_ready,
                         (void *)kind) < 0)
            log_fatal("watching listen fd %d: %s", srv.listen_fds[i],
                      strerror(errno));
    }
    srv.accepting = 1;
    if (!srv.standalone && event_fd_add(srv.loop, MASTER_LIFELINE_FD,
                                        EVENT_READ, lifeline_ready, NULL) < 0)
        log_fatal("watching the lifeline: %s", strerror(errno));
    log_debug("%s/%s: ready, %zu listener(s)", srv.service, srv.type,
              srv.listen_count);
    became_idle();
    if (event_loop_run(srv.loop) < 0)
        log_fatal("event loop: %s", strerror(errno));
    server_exit();
    buf_free(&err);
    strlist_free(&overrides);
    return 0;
}
