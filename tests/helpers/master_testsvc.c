/* master_testsvc.c: a tiny service that speaks master_proto.h directly,
 * for the master tests (tests/e2e/test_master.py). It does not use the
 * server skeleton on purpose: the master tests then test master alone.
 *
 *   master_testsvc -c DIR -n SERVICE -t TYPE [-v] [-o n=v]... [ARG]...
 * ARGs:
 *   log=PATH   append one line per event ("PID start ...", "PID wakeup")
 *   fail       exit 1 at once (a child that dies at start-up)
 *   max_use=N  exit after N connections
 *   stubborn   ignore SIGTERM and the lifeline (master must SIGKILL)
 * "fork" on a connection starts a sleeping grandchild and replies
 * "grandchild=PID".
 *
 * Per connection it writes "220 testsvc pid=P uid=U gid=G gen=N
 * service=S cwd=D" and then echoes each line; "crash" aborts the
 * process, "quit" closes the connection. A connection that sends only
 * "W" and closes is a wakeup trigger; each byte read from a fifo is one.
 * On a unix-dgram socket each datagram is noted ("datagram S TEXT", or a
 * wakeup for "W").
 * With POSTERN_CHROOT/POSTERN_UNPRIV set it chroots and drops privileges
 * as the contract in master_proto.h says. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/privs.h"
#include "ipc/master_proto.h"

static int log_fd = -1;
static const char *service = "?";
static const char *type = "?";
static unsigned generation;

static void note(const char *fmt, ...)
{
    if (log_fd < 0)
        return;
    char line[512];
    int len = snprintf(line, sizeof(line), "%ld ", (long)getpid());
    va_list ap;
    va_start(ap, fmt);
    len += vsnprintf(line + len, sizeof(line) - (size_t)len - 1, fmt, ap);
    va_end(ap);
    if (len > (int)sizeof(line) - 2)
        len = (int)sizeof(line) - 2;
    line[len++] = '\n';
    (void)!write(log_fd, line, (size_t)len);
}

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

static void drop_privileges(void)
{
    const char *root = getenv(MASTER_CHROOT_ENV);
    const char *unpriv = getenv(MASTER_UNPRIV_ENV);
    if (root) {
        if (chroot(root) < 0 || chdir("/") < 0)
            _exit(4);
    }
    if (unpriv) {
        unsigned long uid, gid;
        if (sscanf(unpriv, "%lu:%lu", &uid, &gid) != 2)
            _exit(4);
        struct buf err = BUF_INIT;
        if (privs_drop_ids((uid_t)uid, (gid_t)gid, NULL, &err) ==
            PRIVS_DROP_FAILED)
            _exit(4);
    }
}

/* Serves one stream: greeting, then echo lines until quit or EOF. */
static void serve(int fd)
{
    char cwd[256] = "?";
    if (!getcwd(cwd, sizeof(cwd)))
        strcpy(cwd, "?");
    char greeting[512];
    int len = snprintf(greeting, sizeof(greeting),
                       "220 testsvc pid=%ld uid=%ld gid=%ld gen=%u service=%s "
                       "cwd=%s\r\n",
                       (long)getpid(), (long)getuid(), (long)getgid(),
                       generation, service, cwd);
    (void)!write(fd, greeting, (size_t)len);
    char line[1024];
    size_t used = 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 30000) <= 0)
            return;
        ssize_t got = read(fd, line + used, sizeof(line) - 1 - used);
        if (got <= 0) {
            if (used == 1 && line[0] == MASTER_TRIGGER_WAKEUP)
                note("wakeup service=%s", service);
            return;
        }
        used += (size_t)got;
        char *nl;
        while ((nl = memchr(line, '\n', used))) {
            size_t n = (size_t)(nl - line) + 1;
            size_t text = n - 1;
            if (text && line[text - 1] == '\r')
                text--;
            if (text == 5 && memcmp(line, "crash", 5) == 0) {
                note("crash");
                abort();
            }
            if (text == 4 && memcmp(line, "fork", 4) == 0) {
                /* A grandchild in our process group, as a pipe delivery
                 * would start: stopping the suite must reach it too. */
                pid_t pid = fork();
                if (pid == 0) {
                    for (int other = 0; other < 64; other++)
                        close(other);
                    sleep(300);
                    _exit(0);
                }
                char reply[64];
                int reply_len = snprintf(reply, sizeof(reply),
                                   "grandchild=%ld\r\n", (long)pid);
                (void)!write(fd, reply, (size_t)reply_len);
            } else if (text == 4 && memcmp(line, "quit", 4) == 0) {
                (void)!write(fd, "221 bye\r\n", 9);
                return;
            } else {
                (void)!write(fd, line, n);
            }
            memmove(line, line + n, used - n);
            used -= n;
        }
        if (used == sizeof(line) - 1)
            used = 0;
    }
}

/* A pass connection carries one descriptor to serve. */
static void serve_passed(int conn)
{
    char byte;
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {&byte, 1};
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct pollfd p = {conn, POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0 || recvmsg(conn, &msg, 0) <= 0)
        return;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
        return;
    int fd;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    serve(fd);
    close(fd);
}

int main(int argc, char **argv)
{
    long max_use = 0;
    int stubborn = 0;
    int opt;
    signal(SIGPIPE, SIG_IGN);
    while ((opt = getopt(argc, argv, "c:n:t:o:v")) != -1) {
        if (opt == 'n')
            service = optarg;
        else if (opt == 't')
            type = optarg;
        else if (opt == '?')
            return 2;
    }
    for (int i = optind; i < argc; i++) {
        if (strncmp(argv[i], "log=", 4) == 0)
            log_fd = open(argv[i] + 4, O_WRONLY | O_APPEND | O_CREAT, 0666);
        else if (strcmp(argv[i], "fail") == 0)
            return 1;
        else if (strncmp(argv[i], "max_use=", 8) == 0)
            max_use = atol(argv[i] + 8);
        else if (strcmp(argv[i], "stubborn") == 0)
            stubborn = 1;
    }
    const char *gen = getenv(MASTER_GENERATION_ENV);
    const char *count_text = getenv(MASTER_LISTEN_COUNT_ENV);
    generation = gen ? (unsigned)strtoul(gen, NULL, 10) : 0;
    int count = count_text ? atoi(count_text) : 0;
    if (count < 1 || count > 64)
        return 5;
    drop_privileges();
    note("start service=%s type=%s uid=%ld gen=%u listeners=%d", service,
         type, (long)getuid(), generation, count);

    struct pollfd fds[65];
    fds[0].fd = MASTER_LIFELINE_FD;
    fds[0].events = POLLIN;
    for (int i = 0; i < count; i++) {
        fds[i + 1].fd = MASTER_LISTEN_FD + i;
        fds[i + 1].events = POLLIN;
    }
    if (stubborn) {
        signal(SIGTERM, SIG_IGN);
        fds[0].fd = -1; /* poll ignores negative descriptors */
    }
    report(MASTER_STAT_AVAIL);
    long used = 0;
    for (;;) {
        if (poll(fds, (nfds_t)count + 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 6;
        }
        if (fds[0].revents) {
            note("lifeline closed; exiting");
            return 0;
        }
        for (int i = 0; i < count; i++) {
            if (!fds[i + 1].revents)
                continue;
            int lfd = MASTER_LISTEN_FD + i;
            if (strcmp(type, "fifo") == 0) {
                char bytes[64];
                ssize_t got = read(lfd, bytes, sizeof(bytes));
                for (ssize_t k = 0; k < got; k++)
                    if (bytes[k] == MASTER_TRIGGER_WAKEUP)
                        note("wakeup service=%s", service);
                continue;
            }
            if (strcmp(type, "unix-dgram") == 0) {
                char bytes[256];
                ssize_t got = recv(lfd, bytes, sizeof(bytes) - 1, 0);
                if (got == 1 && bytes[0] == MASTER_TRIGGER_WAKEUP)
                    note("wakeup service=%s", service);
                else if (got > 0)
                    note("datagram service=%s %.*s", service, (int)got, bytes);
                continue;
            }
            int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (conn < 0)
                continue; /* another child took it */
            report(MASTER_STAT_TAKEN);
            fcntl(conn, F_SETFL, 0);
            if (strcmp(type, "pass") == 0)
                serve_passed(conn);
            else
                serve(conn);
            close(conn);
            if (max_use && ++used >= max_use)
                return 0;
            report(MASTER_STAT_AVAIL);
        }
    }
}
