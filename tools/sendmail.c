/* sendmail.c: the sendmail(1) command line, for programs and users that
 * send mail locally.
 *
 *   sendmail [-t] [-i|-oi] [-f sender|-r sender] [-F fullname]
 *            [-C config_dir] [-bm|-bs|-bp|-bi] [-q] [recipient ...]
 *   mailq       = sendmail -bp
 *   newaliases  = sendmail -bi
 *
 * It is an ESMTP client of smtpd on the unix socket
 * $queue_directory/public/submit (master.cf: submit unix ... smtpd -o
 * smtpd_local_submission=yes). smtpd learns who we are from the kernel
 * (SO_PEERCRED), so this program needs no set-uid or set-gid bit and is
 * trusted for nothing it could lie about. Exit codes are sysexits(3):
 * EX_USAGE for bad options, EX_NOUSER when every recipient was refused
 * (or one was, 5xx), EX_TEMPFAIL for a 4xx or an unreachable intake,
 * and, as Postfix's sendmail, for a user smtpd refuses at the greeting
 * (authorized_submit_users), EX_DATAERR for a message refused at the
 * end of data, EX_IOERR for reading standard input. See
 * docs/sendmail.md. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "base/tool.h"
#include "message/addrlist.h"
#include "base/buf.h"
#include "config/config.h"
#include "message/header.h"
#include "base/log.h"
#include "base/mem.h"
#include "queue/qmgr_trigger.h"
#include "base/str.h"
#include "base/stream.h"
#include "queue/maildrop_file.h"
#include "smtp/submit_client.h"

static void usage(void)
{
    tool_usage(EX_USAGE,
               "sendmail [-t] [-i] [-f sender] [-F fullname] "
                    "[-C config_dir] [-bm|-bs|-bp|-bi] [-q] [recipient ...]");
}

/* -bs: relays SMTP between stdin/stdout and smtpd. */
static int relay_smtp(void)
{
    struct buf err = BUF_INIT;
    struct stream *s = submit_connect(cfg_str("queue_directory"), &err);
    if (s == NULL) {
        fprintf(stderr, "sendmail: %s (is the mail system running?)\n",
                buf_cstr(&err));
        buf_free(&err);
        return EX_TEMPFAIL;
    }
    buf_free(&err);
    int fd = stream_release(s);
    struct pollfd p[2] = {{0, POLLIN, 0}, {fd, POLLIN, 0}};
    char data[16384];
    for (;;) {
        if (poll(p, 2, SUBMIT_TIMEOUT_MS) <= 0)
            break;
        /* smtpd's side first: a server that said its last words (a
         * refusal at the greeting) and closed must still be heard when
         * our input can no longer be delivered to it. */
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(fd, data, sizeof(data));
            if (n <= 0)
                break;
            if (write(1, data, (size_t)n) != n)
                break;
        }
        if (p[0].fd >= 0 && (p[0].revents & (POLLIN | POLLHUP))) {
            ssize_t n = read(0, data, sizeof(data));
            if (n <= 0 || write(fd, data, (size_t)n) != n) {
                shutdown(fd, SHUT_WR);
                p[0].fd = -1;
            }
        }
    }
    close(fd);
    return EX_OK;
}

static int run_tool(const char *name, char *const argv[])
{
    struct buf path = BUF_INIT;
    buf_appendf(&path, "%s/%s", cfg_str("command_directory"), name);
    if (access(path.data, X_OK) != 0) {
        fprintf(stderr, "sendmail: %s is not available in this release\n",
                name);
        buf_free(&path);
        return EX_UNAVAILABLE;
    }
    /* The tool reads the same configuration as we did. */
    setenv("MAIL_CONFIG", config_directory(), 1);
    execv(path.data, argv);
    fprintf(stderr, "sendmail: exec %s: %s\n", path.data, strerror(errno));
    buf_free(&path);
    return EX_OSERR;
}

/* -q: as postqueue -f: retry the deferred queue now and scan incoming/.
 * qmgr checks authorized_flush_users. */
static int flush_queue(void)
{
    struct buf err = BUF_INIT;
    struct qmgr_trigger_refusal refusal = {BUF_INIT, -1};
    enum qmgr_trigger_result r = qmgr_trigger_request(
        cfg_str("queue_directory"), "FA", 2, 10000, &refusal, &err);
    int rc = EX_OK;
    if (r == QMGR_TRIGGER_REFUSED) /* 69: what Postfix's postqueue -f exits with */
        tool_fatal(EX_UNAVAILABLE,
                   "User %s(%ld) is not allowed to flush the mail queue",
                   buf_cstr(&refusal.user), refusal.uid);
    else if (r == QMGR_TRIGGER_DOWN || r == QMGR_TRIGGER_ERROR) {
        fprintf(stderr, "sendmail: mail system is down: %s\n", buf_cstr(&err));
        rc = EX_UNAVAILABLE;
    }
    buf_free(&refusal.user);
    buf_free(&err);
    return rc;
}

/* Reads the message from stdin: LF or CRLF lines; without -i a line
 * with a single dot ends it. */
static int read_message(int dot_ends, struct buf *msg)
{
    struct stream *in = stream_open(0);
    struct buf line = BUF_INIT;
    long long limit = cfg_size("message_size_limit");
    int rc = EX_OK, first = 1;
    for (;;) {
        enum stream_status st = stream_read_line(in, &line, 1 << 20);
        if (st == STREAM_EOF)
            break;
        if (st == STREAM_TOO_LONG) {
            /* Kept whole in the queue anyway: pass the piece on. */
        } else if (st != STREAM_OK) {
            rc = EX_IOERR;
            break;
        }
        if (dot_ends && line.len == 1 && line.data[0] == '.')
            break;
        /* An mbox "From " line first is an envelope, not a header, as
         * Postfix's sendmail treats it: drop it. */
        if (msg->len == 0 && first && line.len >= 5 &&
            memcmp(line.data, "From ", 5) == 0) {
            first = 0;
            continue;
        }
        first = 0;
        buf_append(msg, line.data, line.len);
        buf_append_char(msg, '\n');
        if (limit > 0 && (long long)msg->len > limit + 65536) {
            fprintf(stderr, "sendmail: message too large\n");
            rc = EX_DATAERR;
            break;
        }
    }
    buf_free(&line);
    stream_release(in);
    return rc;
}

/* -t: To:, Cc:, Bcc: addresses; Bcc: lines are removed from msg. */
static void extract_recipients(struct buf *msg, struct strlist *rcpts)
{
    struct header_block hb;
    header_block_init(&hb, 0, 0, 0);
    header_parse(&hb, msg->data, msg->len);
    static const char *const names[] = {"To",        "Cc",        "Bcc",
                                        "Resent-To", "Resent-Cc", "Resent-Bcc"};
    for (size_t i = 0; i < hb.count; i++) {
        int wanted = 0;
        for (size_t k = 0; k < sizeof(names) / sizeof(*names); k++)
            if (str_equal_nocase(hb.fields[i].name, names[k]))
                wanted = 1;
        if (!wanted)
            continue;
        struct addrlist list;
        addrlist_init(&list);
        if (addrlist_parse(hb.fields[i].value.data, hb.fields[i].value.len, 0,
                           &list, NULL) == 0)
            for (size_t k = 0; k < list.count; k++)
                if (*list.items[k].address)
                    strlist_add(rcpts, list.items[k].address);
        addrlist_free(&list);
    }
    /* Drop Bcc: fields (with their continuation lines) from the header. */
    struct buf out = BUF_INIT;
    size_t pos = 0, body = hb.body_offset;
    int dropping = 0;
    while (pos < body) {
        const char *nl = memchr(msg->data + pos, '\n', body - pos);
        size_t end = nl ? (size_t)(nl - msg->data) + 1 : body;
        const char *line = msg->data + pos;
        size_t len = end - pos;
        if (line[0] == ' ' || line[0] == '\t') {
            /* continuation: keep or drop with its field */
        } else {
            dropping = len >= 4 && strncasecmp(line, "bcc:", 4) == 0;
            if (!dropping && len >= 10 &&
                strncasecmp(line, "resent-bcc:", 11) == 0)
                dropping = 1;
        }
        if (!dropping)
            buf_append(&out, line, len);
        pos = end;
    }
    buf_append(&out, msg->data + body, msg->len - body);
    buf_free(msg);
    *msg = out;
    header_block_free(&hb);
}

/* While the mail system is not running: the message goes into
 * maildrop/ through the set-gid postdrop (docs/sendmail.md), and pickup
 * submits it when the system starts. Returns postdrop's exit status. */
static int drop_offline(const char *sender, struct strlist *rcpts,
                        const struct buf *msg)
{
    struct buf data = BUF_INIT, err = BUF_INIT;
    if (maildrop_format_envelope(&data, sender, rcpts, &err) < 0)
        tool_fatal(EX_DATAERR, "%s", buf_cstr(&err));
    buf_free(&err);
    buf_append(&data, msg->data, msg->len);
    struct buf path = BUF_INIT;
    buf_appendf(&path, "%s/postdrop", cfg_str("command_directory"));
    int to_child[2];
    if (pipe2(to_child, O_CLOEXEC) < 0)
        tool_fatal(EX_TEMPFAIL, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        tool_fatal(EX_TEMPFAIL, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(to_child[0], 0);
        /* postdrop reads the same configuration as we did (as set-gid
         * it accepts only the default or alternate_config_directories). */
        setenv("MAIL_CONFIG", config_directory(), 1);
        execl(path.data, "postdrop", (char *)NULL);
        tool_fatal(EX_TEMPFAIL, "exec %s: %s", path.data, strerror(errno));
    }
    close(to_child[0]);
    size_t pos = 0;
    while (pos < data.len) {
        ssize_t n = write(to_child[1], data.data + pos, data.len - pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* postdrop gave up; its status says why */
        pos += (size_t)n;
    }
    close(to_child[1]);
    buf_free(&data);
    buf_free(&path);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return EX_TEMPFAIL;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    tool_fatal(EX_TEMPFAIL, "postdrop died");
}

static int submit(const char *sender, const char *fullname,
                  struct strlist *rcpts, struct buf *msg)
{
    if (rcpts->count == 0) {
        fprintf(stderr, "sendmail: no recipient addresses found\n");
        return EX_USAGE;
    }
    if (fullname) {
        struct header_block hb;
        header_block_init(&hb, 0, 0, 0);
        header_parse(&hb, msg->data, msg->len);
        if (!header_find(&hb, "From")) {
            struct buf with = BUF_INIT;
            buf_appendf(&with, "From: \"%s\" <%s>\n", fullname, sender);
            buf_append(&with, msg->data, msg->len);
            buf_free(msg);
            *msg = with;
        }
        header_block_free(&hb);
    }
    struct buf why = BUF_INIT;
    struct stream *s = submit_connect(cfg_str("queue_directory"), &why);
    if (s == NULL) {
        int down = submit_down_errno(errno);
        buf_free(&why);
        if (down)
            return drop_offline(sender, rcpts, msg);
        fprintf(stderr, "sendmail: %s\n", buf_cstr(&why));
        return EX_TEMPFAIL;
    }
    struct strlist refused;
    strlist_init(&refused);
    enum submit_result result = submit_message(s, sender, rcpts, msg->data,
                                               msg->len, &why, &refused, NULL);
    int rc = EX_OK;
    for (size_t i = 0; i < refused.count; i++)
        fprintf(stderr, "sendmail: %s\n", refused.items[i]);
    switch (result) {
    case SUBMIT_OK:
        break;
    case SUBMIT_USER_REFUSED:
        /* As Postfix's sendmail says it, with its status (it exits 75
         * after every fatal error). */
        tool_fatal(EX_TEMPFAIL, "%s", buf_cstr(&why));
    case SUBMIT_RCPT_REFUSED:
        if (refused.count == 0)
            fprintf(stderr, "sendmail: %s\n", buf_cstr(&why));
        rc = EX_NOUSER;
        break;
    case SUBMIT_REJECTED:
        fprintf(stderr, "sendmail: %s\n", buf_cstr(&why));
        rc = EX_DATAERR;
        break;
    case SUBMIT_DOWN:
    case SUBMIT_TEMPFAIL:
        if (refused.count == 0)
            fprintf(stderr, "sendmail: %s\n", buf_cstr(&why));
        rc = EX_TEMPFAIL;
        break;
    }
    strlist_free(&refused);
    buf_free(&why);
    return rc;
}

int main(int argc, char **argv)
{
    const char *prog =
        strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    const char *config_dir = NULL, *sender = NULL, *fullname = NULL;
    int extract = 0, dot_ends = 1, mode = 'm', flush = 0;
    signal(SIGPIPE, SIG_IGN);
    tool_set_name("sendmail");
    if (strcmp(prog, "mailq") == 0)
        mode = 'p';
    else if (strcmp(prog, "newaliases") == 0)
        mode = 'i';
    int opt;
    /* Sendmail's option letters; those that make no sense here are
     * accepted and ignored, as Postfix does. */
    while ((opt = getopt(argc, argv,
                         "B:C:F:N:R:UV:X:b:c:f:h:imno:p:q::r:tvx")) != -1) {
        switch (opt) {
        case 'C':
        case 'c':
            config_dir = optarg;
            break;
        case 'F':
            fullname = optarg;
            break;
        case 'f':
        case 'r':
            sender = optarg;
            break;
        case 'i':
            dot_ends = 0;
            break;
        case 'o':
            if (strcmp(optarg, "i") == 0)
                dot_ends = 0;
            break;
        case 't':
            extract = 1;
            break;
        case 'b':
            if (strlen(optarg) != 1 || !strchr("mspidD", optarg[0]))
                usage();
            mode = optarg[0];
            break;
        case 'q':
            flush = 1;
            break;
        case '?':
            usage();
            break;
        default:
            break;
        }
    }
    struct buf err = BUF_INIT;
    if (config_load(config_resolve_dir(config_dir), &err) < 0) {
        fprintf(stderr, "sendmail: %s\n", buf_cstr(&err));
        return EX_CONFIG;
    }
    buf_free(&err);
    if (flush)
        return flush_queue();
    if (mode == 's')
        return relay_smtp();
    if (mode == 'p') {
        char *args[] = {"postqueue", "-p", NULL};
        return run_tool("postqueue", args);
    }
    if (mode == 'i') {
        /* newaliases rebuilds every alias_database table; postalias
         * without arguments would only print its usage. */
        char *args[] = {"newaliases", NULL};
        return run_tool("newaliases", args);
    }
    if (sender == NULL) {
        struct passwd *pw = getpwuid(getuid());
        if (pw == NULL) {
            fprintf(stderr, "sendmail: unknown user id %ld\n", (long)getuid());
            return EX_NOUSER;
        }
        sender = pw->pw_name;
    }
    if (strcmp(sender, "<>") == 0)
        sender = "";
    struct strlist rcpts;
    strlist_init(&rcpts);
    for (int i = optind; i < argc; i++) {
        struct addrlist list;
        addrlist_init(&list);
        if (addrlist_parse(argv[i], strlen(argv[i]), 0, &list, NULL) == 0 &&
            list.count > 0) {
            for (size_t k = 0; k < list.count; k++)
                strlist_add(&rcpts, list.items[k].address);
        } else {
            strlist_add(&rcpts, argv[i]);
        }
        addrlist_free(&list);
    }
    struct buf msg = BUF_INIT;
    int rc = read_message(dot_ends, &msg);
    if (rc == EX_OK) {
        if (extract)
            extract_recipients(&msg, &rcpts);
        rc = submit(sender, fullname, &rcpts, &msg);
    }
    buf_free(&msg);
    strlist_free(&rcpts);
    return rc;
}
