/* test_server.c: drives the server skeleton (lib/ipc/server) as master
 * would: the helper services in tests/helpers get a status pipe on fd 3,
 * a lifeline on fd 4 and listeners from fd 5, and the test reads their
 * status records, talks to them, and watches how they exit. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/master_proto.h"
#include "ipc/server_impl.h"
#include <netinet/tcp.h>

static char tmpdir[] = "/tmp/test_server.XXXXXX";
static int sock_seq;
/* Extra "NAME=value" for the next spawn (privilege tests). */
static const char *spawn_env[3];

struct child {
    pid_t pid;
    int status_fd;   /* read end of the status pipe */
    int lifeline_fd; /* write end of the lifeline */
};

static void write_main_cf(const char *extra)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/main.cf", tmpdir);
    FILE *fp = fopen(path, "w");
    fprintf(fp, "maillog_file = %s/maillog\n%s", tmpdir, extra ? extra : "");
    fclose(fp);
}

/* A listening unix socket at a fresh path; the path goes to *path. */
static int unix_listener(char *path, size_t size)
{
    snprintf(path, size, "%s/sock%d", tmpdir, ++sock_seq);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
        listen(fd, 16) < 0)
        abort();
    return fd;
}

static int unix_connect(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
        abort();
    return fd;
}

/* Starts a helper as master would; args end with NULL. */
static struct child spawn(const char *program, const char *type, int listen_fd,
                          ...)
{
    int status[2], lifeline[2];
    if (pipe(status) < 0 || pipe(lifeline) < 0)
        abort();
    const char *argv[32];
    int argc = 0;
    char path[256], config[256];
    snprintf(path, sizeof(path), "tests/helpers/%s", program);
    snprintf(config, sizeof(config), "%s", tmpdir);
    argv[argc++] = path;
    argv[argc++] = "-c";
    argv[argc++] = config;
    argv[argc++] = "-n";
    argv[argc++] = "test";
    argv[argc++] = "-t";
    argv[argc++] = type;
    va_list ap;
    va_start(ap, listen_fd);
    const char *arg;
    while ((arg = va_arg(ap, const char *)) != NULL && argc < 31)
        argv[argc++] = arg;
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* Move everything above the target range first. */
        int s = fcntl(status[1], F_DUPFD, 20);
        int l = fcntl(lifeline[0], F_DUPFD, 20);
        int x = fcntl(listen_fd, F_DUPFD, 20);
        if (dup2(s, MASTER_STATUS_FD) < 0 || dup2(l, MASTER_LIFELINE_FD) < 0 ||
            dup2(x, MASTER_LISTEN_FD) < 0)
            _exit(120);
        closefrom(MASTER_LISTEN_FD + 1);
        setenv(MASTER_LISTEN_COUNT_ENV, "1", 1);
        setenv(MASTER_GENERATION_ENV, "7", 1);
        for (int i = 0; spawn_env[i]; i++)
            putenv((char *)spawn_env[i]);
        execv(path, (char **)argv);
        _exit(121);
    }
    close(status[1]);
    close(lifeline[0]);
    struct child c = {pid, status[0], lifeline[1]};
    return c;
}

/* Next status record within timeout_ms: its status, or -1. */
static int next_status(struct child *c, int timeout_ms)
{
    struct pollfd pfd = {c->status_fd, POLLIN, 0};
    if (poll(&pfd, 1, timeout_ms) <= 0)
        return -1;
    struct master_status rec;
    if (read(c->status_fd, &rec, sizeof(rec)) != (ssize_t)sizeof(rec))
        return -1;
    if (rec.pid != c->pid || rec.generation != 7)
        return -2;
    return rec.status;
}

/* Waits for the child to exit: its wait status, or -1 on timeout (the
 * child is then killed). */
static int wait_exit(struct child *c, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        int status;
        if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
            close(c->status_fd);
            close(c->lifeline_fd);
            return status;
        }
        poll(NULL, 0, 10);
    }
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
    close(c->status_fd);
    close(c->lifeline_fd);
    return -1;
}

/* Sends a line and reads the reply line (without CRLF) into out. */
static int ask(int fd, const char *line, char *out, size_t size)
{
    char msg[256];
    snprintf(msg, sizeof(msg), "%s\n", line);
    if (write(fd, msg, strlen(msg)) < 0)
        return -1;
    size_t len = 0;
    while (len + 1 < size) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 3000) <= 0)
            return -1;
        ssize_t n = read(fd, out + len, 1);
        if (n <= 0)
            return -1;
        if (out[len] == '\n')
            break;
        len++;
    }
    if (len > 0 && out[len - 1] == '\r')
        len--;
    out[len] = '\0';
    return 0;
}

static int exited_with(int status, int code)
{
    return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

static void test_single_status_and_max_use(void)
{
    write_main_cf("max_use = 2\n");
    char path[256], reply[64];
    int lfd = unix_listener(path, sizeof(path));
    struct child c = spawn("echo_service", "unix", lfd, NULL);
    for (int round = 0; round < 2; round++) {
        int fd = unix_connect(path);
        CHECK_INT(next_status(&c, 3000), MASTER_STAT_TAKEN);
        CHECK_INT(ask(fd, "pid", reply, sizeof(reply)), 0);
        CHECK_INT(atol(reply), c.pid);
        CHECK_INT(ask(fd, "hello", reply, sizeof(reply)), 0);
        CHECK_STR(reply, "hello");
        close(fd);
        CHECK_INT(next_status(&c, 3000), MASTER_STAT_AVAIL);
    }
    /* max_use reached: a clean exit. */
    CHECK(exited_with(wait_exit(&c, 3000), 0));
    close(lfd);
}

static void test_single_lifeline_eof(void)
{
    write_main_cf(NULL);
    char path[256], reply[64];
    int lfd = unix_listener(path, sizeof(path));
    struct child c = spawn("echo_service", "unix", lfd, NULL);
    int fd = unix_connect(path);
    CHECK_INT(next_status(&c, 3000), MASTER_STAT_TAKEN);
    /* Master goes away mid-session: the session still finishes. */
    close(c.lifeline_fd);
    c.lifeline_fd = open("/dev/null", O_RDONLY);
    CHECK_INT(ask(fd, "still here", reply, sizeof(reply)), 0);
    CHECK_STR(reply, "still here");
    close(fd);
    CHECK(exited_with(wait_exit(&c, 3000), 0));
    close(lfd);

    /* An idle child exits as soon as the lifeline closes. */
    lfd = unix_listener(path, sizeof(path));
    c = spawn("echo_service", "unix", lfd, NULL);
    CHECK_INT(next_status(&c, 300), -1); /* alive and quiet */
    close(c.lifeline_fd);
    c.lifeline_fd = open("/dev/null", O_RDONLY);
    CHECK(exited_with(wait_exit(&c, 2000), 0));
    close(lfd);
}

static void test_max_idle_and_signals(void)
{
    write_main_cf("max_idle = 1s\n");
    char path[256], reply[64];
    int lfd = unix_listener(path, sizeof(path));
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct child c = spawn("echo_service", "unix", lfd, NULL);
    CHECK(exited_with(wait_exit(&c, 5000), 0));
    clock_gettime(CLOCK_MONOTONIC, &end);
    long ms = (end.tv_sec - start.tv_sec) * 1000 +
              (end.tv_nsec - start.tv_nsec) / 1000000;
    CHECK(ms >= 900 && ms < 4000);

    write_main_cf(NULL);
    c = spawn("echo_service", "unix", lfd, NULL);
    int fd = unix_connect(path);
    CHECK_INT(ask(fd, "crash", reply, sizeof(reply)), -1);
    int status = wait_exit(&c, 3000);
    CHECK(status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    close(fd);

    /* SIGTERM while busy in a session: out at once. */
    c = spawn("echo_service", "unix", lfd, NULL);
    fd = unix_connect(path);
    CHECK_INT(ask(fd, "x", reply, sizeof(reply)), 0);
    kill(c.pid, SIGTERM);
    CHECK(wait_exit(&c, 2000) >= 0);
    close(fd);
    close(lfd);
}

/* daemon_timeout: a request that hangs is killed by the watchdog. */
static void test_watchdog(void)
{
    write_main_cf("daemon_timeout = 1s\n");
    char path[256];
    int lfd = unix_listener(path, sizeof(path));
    struct child c = spawn("echo_service", "unix", lfd, NULL);
    int fd = unix_connect(path); /* and say nothing */
    int status = wait_exit(&c, 4000);
    CHECK(status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM);
    close(fd);
    close(lfd);
}

static void test_event_mode(void)
{
    write_main_cf("max_use = 3\n");
    char path[256], reply[64];
    int lfd = unix_listener(path, sizeof(path));
    struct child c = spawn("echo_event_service", "unix", lfd, NULL);
    int a = unix_connect(path), b = unix_connect(path);
    CHECK_INT(ask(a, "one", reply, sizeof(reply)), 0);
    CHECK_STR(reply, "one");
    CHECK_INT(ask(b, "two", reply, sizeof(reply)), 0);
    CHECK_STR(reply, "two");
    CHECK_INT(ask(b, "sessions", reply, sizeof(reply)), 0);
    CHECK_STR(reply, "2");
    CHECK_INT(ask(a, "pid", reply, sizeof(reply)), 0);
    CHECK_INT(atol(reply), c.pid);
    /* It tells master once that it has served (so a later death by a
     * signal is no bad start-up), and under max_use stays available. */
    CHECK_INT(next_status(&c, 3000), MASTER_STAT_USED);
    CHECK_INT(next_status(&c, 200), -1);
    /* The third connection uses it up: TAKEN, but still served. */
    int third = unix_connect(path);
    CHECK_INT(ask(third, "three", reply, sizeof(reply)), 0);
    CHECK_STR(reply, "three");
    CHECK_INT(next_status(&c, 3000), MASTER_STAT_TAKEN);
    CHECK_INT(ask(a, "quit", reply, sizeof(reply)), 0);
    CHECK_STR(reply, "bye");
    close(a);
    close(third);
    CHECK_INT(ask(b, "sessions", reply, sizeof(reply)), 0);
    CHECK_STR(reply, "1");
    /* The retiring process waits for its last session... */
    poll(NULL, 0, 200);
    CHECK(waitpid(c.pid, NULL, WNOHANG) == 0);
    /* ...and exits when it ends. */
    close(b);
    CHECK(exited_with(wait_exit(&c, 3000), 0));
    close(lfd);
}

static void test_event_lifeline(void)
{
    write_main_cf(NULL);
    char path[256], reply[64];
    int lfd = unix_listener(path, sizeof(path));
    struct child c = spawn("echo_event_service", "unix", lfd, NULL);
    int a = unix_connect(path);
    CHECK_INT(ask(a, "hi", reply, sizeof(reply)), 0);
    CHECK_INT(next_status(&c, 3000), MASTER_STAT_USED);
    close(c.lifeline_fd);
    c.lifeline_fd = open("/dev/null", O_RDONLY);
    CHECK_INT(next_status(&c, 3000), MASTER_STAT_TAKEN);
    /* The session in hand goes on... */
    CHECK_INT(ask(a, "after", reply, sizeof(reply)), 0);
    CHECK_STR(reply, "after");
    /* ...and ends the process when it is over. */
    close(a);
    CHECK(exited_with(wait_exit(&c, 3000), 0));
    close(lfd);
}

/* A `pass` service receives the client fd over its listening socket. */
static void test_pass_service(void)
{
    write_main_cf(NULL);
    char path[256], reply[64];
    int lfd = unix_listener(path, sizeof(path));
    struct child c = spawn("echo_service", "pass", lfd, NULL);
    int pair[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    int conn = unix_connect(path);
    char byte = 'x';
    struct iovec iov = {&byte, 1};
    union {
        struct cmsghdr hdr;
        char space[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof(control));
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.space,
                         .msg_controllen = sizeof(control.space)};
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &pair[1], sizeof(int));
    CHECK_INT(sendmsg(conn, &msg, 0), 1);
    close(pair[1]);
    close(conn);
    CHECK_INT(ask(pair[0], "passed", reply, sizeof(reply)), 0);
    CHECK_STR(reply, "passed");
    close(pair[0]);
    kill(c.pid, SIGTERM);
    wait_exit(&c, 2000);
    close(lfd);
}

static int file_equals(const char *path, const char *expected, int timeout_ms)
{
    char got[256];
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        int fd = open(path, O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, got, sizeof(got) - 1) : -1;
        if (fd >= 0)
            close(fd);
        if (n >= 0) {
            got[n] = '\0';
            if (strcmp(got, expected) == 0)
                return 1;
        }
        poll(NULL, 0, 20);
    }
    printf("#   %s holds \"%s\", expected \"%s\"\n", path, got, expected);
    return 0;
}

static void test_trigger_service(void)
{
    write_main_cf("max_idle = 1s\n");
    char path[256], out[256];
    snprintf(out, sizeof(out), "%s/triggers", tmpdir);
    int lfd = unix_listener(path, sizeof(path));
    struct child c = spawn("trigger_service", "unix", lfd, out, "long", NULL);
    int fd = unix_connect(path);
    CHECK(write(fd, "AF", 2) == 2);
    close(fd);
    CHECK(file_equals(out, "AF\n", 3000));
    /* Long-running: max_idle does not apply. */
    poll(NULL, 0, 1500);
    CHECK(waitpid(c.pid, NULL, WNOHANG) == 0);
    close(c.lifeline_fd);
    c.lifeline_fd = open("/dev/null", O_RDONLY);
    CHECK(exited_with(wait_exit(&c, 3000), 0));
    close(lfd);

    /* A fifo, as master creates for fifo services, held open read-write. */
    char fifo[256];
    snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
    CHECK(mkfifo(fifo, 0600) == 0);
    int ffd = open(fifo, O_RDWR | O_NONBLOCK);
    unlink(out);
    c = spawn("trigger_service", "fifo", ffd, out, NULL);
    int wfd = open(fifo, O_WRONLY);
    CHECK(write(wfd, "W", 1) == 1);
    CHECK(file_equals(out, "W\n", 3000));
    /* Not long-running: max_idle ends it. */
    CHECK(exited_with(wait_exit(&c, 4000), 0));
    close(wfd);
    close(ffd);

    /* A unix datagram socket: one datagram, one trigger. */
    char dpath[256];
    snprintf(dpath, sizeof(dpath), "%s/dgram", tmpdir);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%.100s", dpath);
    int dfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    CHECK(bind(dfd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
    unlink(out);
    c = spawn("trigger_service", "unix-dgram", dfd, out, "long", NULL);
    int sfd = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(sendto(sfd, "A", 1, 0, (struct sockaddr *)&sun, sizeof(sun)) == 1);
    CHECK(file_equals(out, "A\n", 3000));
    CHECK(sendto(sfd, "FW", 2, 0, (struct sockaddr *)&sun, sizeof(sun)) == 2);
    CHECK(file_equals(out, "A\nFW\n", 3000));
    close(sfd);
    kill(c.pid, SIGTERM);
    wait_exit(&c, 2000);
    close(dfd);
}

/* Event mode holds many sessions in one process. */
static void test_event_many_sessions(void)
{
    write_main_cf("max_use = 1000\n");
    enum { N = 200 };
    char path[256], reply[64], text[32];
    int lfd = unix_listener(path, sizeof(path));
    struct child c = spawn("echo_event_service", "unix", lfd, NULL);
    static int fds[N];
    int ok = 0;
    for (int i = 0; i < N; i++)
        fds[i] = unix_connect(path);
    for (int i = 0; i < N; i++) {
        snprintf(text, sizeof(text), "line %d", i);
        if (ask(fds[i], text, reply, sizeof(reply)) == 0 &&
            strcmp(reply, text) == 0)
            ok++;
    }
    CHECK_INT(ok, N);
    CHECK_INT(ask(fds[0], "sessions", reply, sizeof(reply)), 0);
    CHECK_INT(atol(reply), N);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    kill(c.pid, SIGTERM);
    wait_exit(&c, 2000);
    close(lfd);
}

static void test_standalone(void)
{
    write_main_cf(NULL);
    int out[2];
    CHECK(pipe(out) == 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        closefrom(3);
        execl("tests/helpers/echo_service", "echo_service", "-c", tmpdir, "-S",
              "127.0.0.1:0", "hi there", (char *)NULL);
        _exit(121);
    }
    close(out[1]);
    char line[128] = {0};
    size_t len = 0;
    struct pollfd pfd = {out[0], POLLIN, 0};
    while (len + 1 < sizeof(line) && poll(&pfd, 1, 3000) > 0 &&
           read(out[0], line + len, 1) == 1 && line[len] != '\n')
        len++;
    line[len] = '\0';
    CHECK(strncmp(line, "listening on 127.0.0.1:", 23) == 0);
    int port = atoi(line + 23);
    CHECK(port > 0);
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
    char reply[64];
    CHECK_INT(ask(fd, "echo me", reply, sizeof(reply)), 0);
    CHECK_STR(reply, "hi there"); /* the greeting argument first */
    close(fd);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    close(out[0]);
}

static void test_refuses_without_master(void)
{
    write_main_cf(NULL);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 2);
        closefrom(3);
        execl("tests/helpers/echo_service", "echo_service", "-c", tmpdir,
              (char *)NULL);
        _exit(121);
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK(exited_with(status, 1));
}

/* As root, master asks a chroot service to chroot and drop to
 * mail_owner through the environment; the child must do both before
 * serving, with its listener and log still usable. */
static void test_chroot_and_unpriv(void)
{
    if (geteuid() != 0)
        SKIP("needs root (chroot and privilege drop)");
    struct passwd *pw = getpwnam("nobody");
    if (!pw)
        SKIP("no user 'nobody' on this system");
    write_main_cf(NULL);
    char path[256], reply[64], env_chroot[300], env_unpriv[64];
    snprintf(env_chroot, sizeof(env_chroot), "POSTERN_CHROOT=%s", tmpdir);
    snprintf(env_unpriv, sizeof(env_unpriv), "POSTERN_UNPRIV=%lu:%lu",
             (unsigned long)pw->pw_uid, (unsigned long)pw->pw_gid);
    spawn_env[0] = env_chroot;
    spawn_env[1] = env_unpriv;
    int lfd = unix_listener(path, sizeof(path));
    struct child c = spawn("echo_service", "unix", lfd, NULL);
    spawn_env[0] = spawn_env[1] = NULL;
    int fd = unix_connect(path);
    CHECK_INT(ask(fd, "pid", reply, sizeof(reply)), 0);
    CHECK_INT(atol(reply), c.pid);
    char proc[64], root[300] = {0}, status[4096] = {0};
    snprintf(proc, sizeof(proc), "/proc/%ld/root", (long)c.pid);
    CHECK(readlink(proc, root, sizeof(root) - 1) > 0);
    CHECK_STR(root, tmpdir);
    snprintf(proc, sizeof(proc), "/proc/%ld/status", (long)c.pid);
    int sfd = open(proc, O_RDONLY);
    CHECK(sfd >= 0 && read(sfd, status, sizeof(status) - 1) > 0);
    close(sfd);
    char want[128];
    snprintf(want, sizeof(want), "\nUid:\t%lu\t%lu\t%lu\t%lu\n",
             (unsigned long)pw->pw_uid, (unsigned long)pw->pw_uid,
             (unsigned long)pw->pw_uid, (unsigned long)pw->pw_uid);
    CHECK(strstr(status, want) != NULL);
    close(fd);
    kill(c.pid, SIGTERM);
    wait_exit(&c, 2000);
    close(lfd);
}

/* A TCP client comes out of server_accept_client with Nagle off (a TLS
 * session ticket left unacknowledged held the first reply back for the
 * client's delayed ACK); a unix-socket client is accepted as before. */
static void test_accept_sets_nodelay(void)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    CHECK(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
    CHECK(listen(lfd, 4) == 0);
    CHECK(getsockname(lfd, (struct sockaddr *)&sin, &len) == 0);
    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(cfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
    int fd = -1;
    for (int i = 0; i < 100 && fd < 0; i++) {
        fd = server_accept_client(lfd);
        if (fd < 0)
            usleep(10000);
    }
    CHECK(fd >= 0);
    int on = 0;
    socklen_t on_len = sizeof(on);
    CHECK(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &on_len) == 0);
    CHECK(on != 0);
    close(fd);
    close(cfd);
    close(lfd);

    int pair[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    int ufd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/nodelay.sock", tmpdir);
    CHECK(bind(ufd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
    CHECK(listen(ufd, 4) == 0);
    int ucl = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(ucl, (struct sockaddr *)&sun, sizeof(sun)) == 0);
    int got = server_accept_client(ufd);
    CHECK(got >= 0);
    close(got);
    close(ucl);
    close(ufd);
    close(pair[0]);
    close(pair[1]);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    UNIT_RUN(test_single_status_and_max_use);
    UNIT_RUN(test_single_lifeline_eof);
    UNIT_RUN(test_max_idle_and_signals);
    UNIT_RUN(test_watchdog);
    UNIT_RUN(test_event_mode);
    UNIT_RUN(test_event_lifeline);
    UNIT_RUN(test_event_many_sessions);
    UNIT_RUN(test_pass_service);
    UNIT_RUN(test_trigger_service);
    UNIT_RUN(test_chroot_and_unpriv);
    UNIT_RUN(test_standalone);
    UNIT_RUN(test_refuses_without_master);
    UNIT_RUN(test_accept_sets_nodelay);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmpdir);
    return unit_summary();
}
