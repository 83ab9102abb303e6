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
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "message/addrlist.h"
#include "base/buf.h"
#include "config/config.h"
#include "message/header.h"
#include "base/log.h"
#include "base/mem.h"
#include "queue/qmgr_trigger.h"
#include "base/str.h"
#include "base/stream.h"

#define SENDMAIL_TIMEOUT_MS (300 * 1000)

static void usage(void)
{
    fprintf(stderr, "usage: sendmail [-t] [-i] [-f sender] [-F fullname] "
                    "[-C config_dir] [-bm|-bs|-bp|-bi] [-q] [recipient ...]\n");
    exit(EX_USAGE);
}

static int connect_submit(struct stream **out)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    int n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/public/submit",
                     cfg_str("queue_directory"));
    if (n < 0 || (size_t)n >= sizeof(sun.sun_path)) {
        log_error("queue directory path too long");
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        log_error("connect to %s: %s (is the mail system running?)",
                  sun.sun_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *out = stream_open(fd);
    stream_set_timeout(*out, SENDMAIL_TIMEOUT_MS);
    return 0;
}

/* Reads one (possibly multi-line) reply; returns the code or -1. The
 * last line is left in `text`. */
static int read_reply(struct stream *s, struct buf *text)
{
    for (;;) {
        if (stream_read_line(s, text, 4096) != STREAM_OK)
            return -1;
        if (text->len < 3)
            return -1;
        if (text->len == 3 || text->data[3] != '-')
            return atoi(text->data);
    }
}

static int command(struct stream *s, struct buf *reply, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int command(struct stream *s, struct buf *reply, const char *fmt, ...)
{
    struct buf line = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&line, fmt, ap);
    va_end(ap);
    buf_append(&line, "\r\n", 2);
    stream_write(s, line.data, line.len);
    buf_free(&line);
    if (stream_flush(s) != STREAM_OK)
        return -1;
    return read_reply(s, reply);
}

/* -bs: relays SMTP between stdin/stdout and smtpd. */
static int relay_smtp(void)
{
    struct stream *s;
    if (connect_submit(&s) < 0)
        return EX_TEMPFAIL;
    int fd = stream_release(s);
    struct pollfd p[2] = {{0, POLLIN, 0}, {fd, POLLIN, 0}};
    char data[16384];
    for (;;) {
        if (poll(p, 2, SENDMAIL_TIMEOUT_MS) <= 0)
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
    if (r == QMGR_TRIGGER_REFUSED) {
        fprintf(stderr,
                "sendmail: fatal: User %s(%ld) is not allowed to flush the "
                "mail queue\n",
                buf_cstr(&refusal.user), refusal.uid);
        rc = EX_UNAVAILABLE; /* what Postfix's postqueue -f exits with */
    } else if (r == QMGR_TRIGGER_DOWN || r == QMGR_TRIGGER_ERROR) {
        fprintf(stderr, "sendmail: mail system is down: %s\n", buf_cstr(&err));
        rc = EX_UNAVAILABLE;
    }
    buf_free(&refusal.user);
    buf_free(&err);
    return rc;
}

/* A 5xx greeting from the local intake is smtpd refusing us (not in
 * authorized_submit_users): said as Postfix's sendmail says it, without
 * the SMTP codes, and with its exit status (EX_TEMPFAIL: Postfix's
 * sendmail exits 75 after every fatal error). */
static int refused_at_greeting(const struct buf *reply)
{
    const char *text = reply->len > 4 ? reply->data + 4 : "";
    /* Skip an enhanced status code "5.7.1 ". */
    if (text[0] >= '2' && text[0] <= '5' && text[1] == '.') {
        const char *space = strchr(text, ' ');
        if (space)
            text = space + 1;
    }
    fprintf(stderr, "sendmail: fatal: %s\n", text);
    return EX_TEMPFAIL;
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
    struct stream *s;
    if (connect_submit(&s) < 0)
        return EX_TEMPFAIL;
    struct buf reply = BUF_INIT;
    int rc = EX_OK, code;
    if ((code = read_reply(s, &reply)) >= 500) {
        rc = refused_at_greeting(&reply);
        goto done;
    }
    if (code != 220 || (code = command(s, &reply, "EHLO localhost")) != 250 ||
        (code = command(s, &reply, "MAIL FROM:<%s>", sender)) != 250) {
        fprintf(stderr, "sendmail: %s\n",
                code < 0 ? "lost connection" : reply.data);
        rc = code >= 500 ? EX_DATAERR : EX_TEMPFAIL;
        goto done;
    }
    size_t accepted = 0;
    for (size_t i = 0; i < rcpts->count; i++) {
        code = command(s, &reply, "RCPT TO:<%s>", rcpts->items[i]);
        if (code == 250 || code == 251) {
            accepted++;
            continue;
        }
        fprintf(stderr, "sendmail: %s: %s\n", rcpts->items[i],
                code < 0 ? "lost connection" : reply.data);
        rc = code >= 500 ? EX_NOUSER : EX_TEMPFAIL;
        if (code < 0)
            goto done;
    }
    if (accepted == 0 || rc != EX_OK)
        goto done;
    if ((code = command(s, &reply, "DATA")) != 354) {
        fprintf(stderr, "sendmail: %s\n",
                code < 0 ? "lost connection" : reply.data);
        rc = code >= 500 ? EX_DATAERR : EX_TEMPFAIL;
        goto done;
    }
    size_t pos = 0;
    while (pos < msg->len) {
        const char *nl = memchr(msg->data + pos, '\n', msg->len - pos);
        size_t end = nl ? (size_t)(nl - msg->data) : msg->len;
        if (msg->data[pos] == '.')
            stream_write(s, ".", 1);
        stream_write(s, msg->data + pos, end - pos);
        stream_write(s, "\r\n", 2);
        pos = end + 1;
    }
    code = command(s, &reply, ".");
    if (code != 250) {
        fprintf(stderr, "sendmail: %s\n",
                code < 0 ? "lost connection" : reply.data);
        rc = code >= 500 ? EX_DATAERR : EX_TEMPFAIL;
        goto done;
    }
    (void)command(s, &reply, "QUIT");
done:
    buf_free(&reply);
    stream_close(s);
    return rc;
}

int main(int argc, char **argv)
{
    const char *prog =
        strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    const char *config_dir = NULL, *sender = NULL, *fullname = NULL;
    int extract = 0, dot_ends = 1, mode = 'm', flush = 0;
    signal(SIGPIPE, SIG_IGN);
    log_set_program("sendmail");
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
