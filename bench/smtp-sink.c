/* smtp-sink.c: a fast SMTP receiver that throws mail away, for the
 * relay benchmark (the destination Postern's and Postfix's smtp clients
 * relay to) and the tests of the smtp client.
 *
 * One process, one thread, epoll, non-blocking sockets, many sessions at
 * once. It speaks ESMTP with PIPELINING, 8BITMIME, ENHANCEDSTATUSCODES
 * and SMTPUTF8, CHUNKING (BDAT) with -B, SIZE with -S, STARTTLS with -t
 * CERT -k KEY (OpenSSL, any TLS version the library allows). It accepts
 * every envelope and every message, counts them and stores nothing, so
 * it never fsyncs: what it measures is the sender.
 *
 * Counts: connections, messages, recipients, bytes (message content as
 * it arrived: DATA's lines up to the final dot, or BDAT chunks), TLS
 * handshakes. On SIGTERM or SIGINT it prints them as one JSON object on
 * stdout and exits 0; with -s FILE it also rewrites FILE (atomically,
 * write then rename) at most every 100 ms while they change, and at exit.
 * SIGUSR1 prints them without exiting.
 *
 * Bounds: at most -c sessions at once (default 1024; a connection past
 * that gets "421 4.3.2" and is closed), command lines of 4096 bytes (a
 * longer one gets 500 and is skipped), input read 64 KiB at a time and a
 * session's replies held to 16 KiB (it stops reading the session's
 * commands until they are sent), a session idle for -i seconds (default
 * 300) is closed. Loopback only: -H must be a 127.0.0.0/8 or ::1 address.
 *
 * Usage: smtp-sink -p PORT [-H 127.0.0.1] [-c max_sessions] [-B]
 *        [-S size_limit] [-t cert.pem -k key.pem] [-s stats_file]
 *        [-n hostname] [-i idle_seconds]
 * -p 0 picks a free port; the port is printed as "port N" on stdout. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define IN_SIZE (64 * 1024)
#define OUT_SIZE (16 * 1024)
#define LINE_MAX_LEN 4096
#define REPLY_ROOM 1024 /* free output space needed to handle a command */

enum mode { MODE_COMMAND, MODE_DATA, MODE_BDAT, MODE_HANDSHAKE, MODE_CLOSING };

struct session {
    int fd;
    SSL *ssl;
    enum mode mode;
    char in[IN_SIZE];
    size_t in_len;
    char out[OUT_SIZE];
    size_t out_len, out_sent;
    int skipping_line;  /* discarding the rest of an over-long line */
    int data_at_bol;    /* DATA: at the start of a line */
    uint64_t bdat_left; /* BDAT: chunk bytes still to come */
    int bdat_last;      /* BDAT: the chunk in progress is LAST */
    int in_transaction; /* MAIL given */
    int rcpt_count;     /* in this transaction */
    uint64_t message_bytes;
    time_t last_active;
    struct session *next, *prev; /* every open session, for idle checks */
};

static const char *hostname = "smtp-sink.test";
static int max_sessions = 1024, chunking = 0, idle_seconds = 300;
static long long size_limit = 0;
static const char *stats_file;
static SSL_CTX *tls_ctx;
static int epoll_fd;
static struct session *all_sessions;
static int open_sessions;

static struct {
    uint64_t connections, refused, messages, recipients, bytes, tls, bdat;
} counts;
static int counts_dirty;
static uint64_t stats_writes; /* times the stats file was rewritten */

static volatile sig_atomic_t stop_requested, print_requested;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        print_requested = 1;
    else
        stop_requested = 1;
}

static void die(const char *what)
{
    fprintf(stderr, "smtp-sink: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void format_counts(char *out, size_t size)
{
    snprintf(out, size,
             "{\"connections\": %llu, \"refused\": %llu, \"messages\": %llu, "
             "\"recipients\": %llu, \"bytes\": %llu, \"tls\": %llu, "
             "\"bdat_messages\": %llu, \"open_sessions\": %d, "
             "\"stats_writes\": %llu}\n",
             (unsigned long long)counts.connections,
             (unsigned long long)counts.refused,
             (unsigned long long)counts.messages,
             (unsigned long long)counts.recipients,
             (unsigned long long)counts.bytes, (unsigned long long)counts.tls,
             (unsigned long long)counts.bdat, open_sessions,
             (unsigned long long)stats_writes);
}

static void write_stats_file(void)
{
    char text[512], tmp[4096];
    if (!stats_file)
        return;
    stats_writes++;
    format_counts(text, sizeof(text));
    snprintf(tmp, sizeof(tmp), "%s.tmp", stats_file);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "smtp-sink: %s: %s\n", tmp, strerror(errno));
        return;
    }
    fputs(text, f);
    if (fclose(f) != 0 || rename(tmp, stats_file) != 0)
        fprintf(stderr, "smtp-sink: %s: %s\n", stats_file, strerror(errno));
    counts_dirty = 0;
}

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_counts(void)
{
    char text[512];
    format_counts(text, sizeof(text));
    fputs(text, stdout);
    fflush(stdout);
}

/* ---- output ---- */

static void reply(struct session *s, const char *text)
{
    size_t len = strlen(text);
    if (s->out_len + len > OUT_SIZE) /* cannot happen: REPLY_ROOM is kept */
        return;
    memcpy(s->out + s->out_len, text, len);
    s->out_len += len;
}

static void watch(struct session *s)
{
    struct epoll_event ev = {.data.ptr = s};
    /* A full input buffer waits for our replies to drain first. */
    ev.events = s->in_len < IN_SIZE ? EPOLLIN : 0;
    if (s->out_len > s->out_sent ||
        (s->mode == MODE_HANDSHAKE && s->ssl && SSL_want_write(s->ssl)))
        ev.events |= EPOLLOUT;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, s->fd, &ev) != 0)
        die("epoll_ctl");
}

static void close_session(struct session *s)
{
    if (s->ssl) {
        SSL_shutdown(s->ssl);
        SSL_free(s->ssl);
    }
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    if (s->prev)
        s->prev->next = s->next;
    else
        all_sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    open_sessions--;
    counts_dirty = 1;
    free(s);
}

/* Sends what is pending. -1: the session is gone. */
static int flush_out(struct session *s)
{
    while (s->out_sent < s->out_len) {
        size_t left = s->out_len - s->out_sent;
        ssize_t n;
        if (s->ssl) {
            int w = SSL_write(s->ssl, s->out + s->out_sent, (int)left);
            if (w <= 0) {
                int err = SSL_get_error(s->ssl, w);
                if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ)
                    return 0;
                return -1;
            }
            n = w;
        } else {
            n = send(s->fd, s->out + s->out_sent, left, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    return 0;
                return -1;
            }
        }
        s->out_sent += (size_t)n;
    }
    s->out_len = s->out_sent = 0;
    return 0;
}

/* ---- the protocol ---- */

static void message_done(struct session *s, int via_bdat)
{
    if (size_limit > 0 && s->message_bytes > (uint64_t)size_limit) {
        reply(s, "552 5.3.4 Message too big\r\n");
    } else {
        counts.messages++;
        counts.bytes += s->message_bytes;
        if (via_bdat)
            counts.bdat++;
        counts_dirty = 1;
        reply(s, "250 2.0.0 Ok: sunk\r\n");
    }
    s->in_transaction = 0;
    s->rcpt_count = 0;
    s->message_bytes = 0;
}

static int verb_is(const char *line, size_t len, const char *verb)
{
    size_t vlen = strlen(verb);
    return len >= vlen && strncasecmp(line, verb, vlen) == 0 &&
           (len == vlen || line[vlen] == ' ');
}

static void command(struct session *s, const char *line, size_t len)
{
    char text[512];
    if (verb_is(line, len, "EHLO")) {
        char size_line[64] = "";
        if (size_limit > 0)
            snprintf(size_line, sizeof(size_line), "250-SIZE %lld\r\n",
                     size_limit);
        snprintf(text, sizeof(text),
                 "250-%s\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                 "250-SMTPUTF8\r\n%s%s%s250 ENHANCEDSTATUSCODES\r\n",
                 hostname, size_line, chunking ? "250-CHUNKING\r\n" : "",
                 tls_ctx && !s->ssl ? "250-STARTTLS\r\n" : "");
        reply(s, text);
        s->in_transaction = 0;
    } else if (verb_is(line, len, "HELO")) {
        snprintf(text, sizeof(text), "250 %s\r\n", hostname);
        reply(s, text);
    } else if (verb_is(line, len, "MAIL")) {
        if (s->in_transaction) {
            reply(s, "503 5.5.1 Nested MAIL command\r\n");
            return;
        }
        s->in_transaction = 1;
        s->rcpt_count = 0;
        reply(s, "250 2.1.0 Ok\r\n");
    } else if (verb_is(line, len, "RCPT")) {
        if (!s->in_transaction) {
            reply(s, "503 5.5.1 Need MAIL command\r\n");
            return;
        }
        s->rcpt_count++;
        counts.recipients++;
        reply(s, "250 2.1.5 Ok\r\n");
    } else if (verb_is(line, len, "DATA")) {
        if (!s->in_transaction || s->rcpt_count == 0) {
            reply(s, "554 5.5.1 No valid recipients\r\n");
            return;
        }
        s->mode = MODE_DATA;
        s->data_at_bol = 1;
        s->message_bytes = 0;
        reply(s, "354 End data with <CR><LF>.<CR><LF>\r\n");
    } else if (chunking && verb_is(line, len, "BDAT")) {
        char arg[64] = "", last[16] = "";
        unsigned long long chunk;
        size_t n = len - 4 < sizeof(arg) - 1 ? len - 4 : sizeof(arg) - 1;
        memcpy(arg, line + 4, n);
        arg[n] = '\0';
        int fields = sscanf(arg, " %llu %15s", &chunk, last);
        if (fields < 1 || (fields == 2 && strcasecmp(last, "LAST") != 0)) {
            reply(s, "501 5.5.4 Syntax: BDAT size [LAST]\r\n");
            return;
        }
        /* Without a transaction the chunk is read and thrown away. */
        s->mode = MODE_BDAT;
        s->bdat_left = chunk;
        s->bdat_last = fields == 2;
    } else if (verb_is(line, len, "STARTTLS") && tls_ctx && !s->ssl) {
        reply(s, "220 2.0.0 Ready to start TLS\r\n");
        s->mode = MODE_HANDSHAKE;
        s->in_len = 0; /* RFC 3207: nothing pipelined past it counts */
    } else if (verb_is(line, len, "RSET")) {
        s->in_transaction = 0;
        s->rcpt_count = 0;
        reply(s, "250 2.0.0 Ok\r\n");
    } else if (verb_is(line, len, "NOOP")) {
        reply(s, "250 2.0.0 Ok\r\n");
    } else if (verb_is(line, len, "QUIT")) {
        reply(s, "221 2.0.0 Bye\r\n");
        s->mode = MODE_CLOSING;
    } else {
        reply(s, "502 5.5.2 Command not implemented\r\n");
    }
}

/* DATA content in in[0..in_len): consumes what it can; returns the bytes
 * consumed. */
static size_t data_bytes(struct session *s, const char *p, size_t len)
{
    size_t used = 0;
    while (used < len) {
        if (s->data_at_bol && p[used] == '.') {
            if (len - used < 3) /* ".\r\n" or a dot-stuffed line? */
                return used;
            if (p[used + 1] == '\r' && p[used + 2] == '\n') {
                used += 3;
                s->mode = MODE_COMMAND;
                message_done(s, 0);
                return used;
            }
        }
        const char *nl = memchr(p + used, '\n', len - used);
        size_t take = nl ? (size_t)(nl - (p + used)) + 1 : len - used;
        s->message_bytes += take;
        s->data_at_bol = nl != NULL;
        used += take;
    }
    return used;
}

/* Works through the input; returns 0, or -1 when the session ends. */
static int process_input(struct session *s)
{
    size_t pos = 0;
    while (pos < s->in_len) {
        if (s->mode == MODE_DATA) {
            size_t used = data_bytes(s, s->in + pos, s->in_len - pos);
            if (used == 0)
                break;
            pos += used;
            continue;
        }
        if (s->mode == MODE_BDAT) {
            size_t avail = s->in_len - pos;
            size_t take = s->bdat_left < avail ? (size_t)s->bdat_left : avail;
            pos += take;
            s->bdat_left -= take;
            s->message_bytes += take;
            if (s->bdat_left > 0)
                break;
            s->mode = MODE_COMMAND;
            if (!s->in_transaction || s->rcpt_count == 0) {
                s->message_bytes = 0;
                reply(s, "503 5.5.1 Need MAIL and RCPT before BDAT\r\n");
            } else if (s->bdat_last) {
                message_done(s, 1);
            } else {
                reply(s, "250 2.0.0 Chunk received\r\n");
            }
            continue;
        }
        if (s->mode != MODE_COMMAND)
            break; /* closing or handshaking: the rest is ignored */
        if (OUT_SIZE - s->out_len < REPLY_ROOM)
            break; /* the client reads our replies first */
        char *nl = memchr(s->in + pos, '\n', s->in_len - pos);
        if (!nl) {
            if (s->in_len - pos > LINE_MAX_LEN) {
                s->skipping_line = 1;
                pos = s->in_len;
                reply(s, "500 5.5.2 Line too long\r\n");
            }
            break;
        }
        size_t len = (size_t)(nl - (s->in + pos));
        char *line = s->in + pos;
        pos += len + 1;
        if (s->skipping_line) {
            s->skipping_line = 0;
            continue;
        }
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len > LINE_MAX_LEN) {
            reply(s, "500 5.5.2 Line too long\r\n");
            continue;
        }
        command(s, line, len);
        if (s->mode == MODE_HANDSHAKE)
            return 0; /* in_len was reset */
    }
    memmove(s->in, s->in + pos, s->in_len - pos);
    s->in_len -= pos;
    return 0;
}

/* Reads what is there. 1: read something, 0: nothing now, -1: gone. */
static int read_input(struct session *s)
{
    size_t room = IN_SIZE - s->in_len;
    if (room == 0)
        return 0;
    ssize_t n;
    if (s->ssl) {
        int r = SSL_read(s->ssl, s->in + s->in_len, (int)room);
        if (r <= 0) {
            int err = SSL_get_error(s->ssl, r);
            if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
                return 0;
            return -1;
        }
        n = r;
    } else {
        n = recv(s->fd, s->in + s->in_len, room, 0);
        if (n == 0)
            return -1;
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
    }
    s->in_len += (size_t)n;
    s->last_active = time(NULL);
    return 1;
}

static int handshake(struct session *s)
{
    if (!s->ssl) {
        s->ssl = SSL_new(tls_ctx);
        if (!s->ssl || SSL_set_fd(s->ssl, s->fd) != 1)
            return -1;
        SSL_set_accept_state(s->ssl);
    }
    int r = SSL_accept(s->ssl);
    if (r == 1) {
        counts.tls++;
        counts_dirty = 1;
        s->mode = MODE_COMMAND;
        s->in_transaction = 0;
        return 0;
    }
    int err = SSL_get_error(s->ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        return 0;
    ERR_clear_error();
    return -1;
}

static void session_event(struct session *s, uint32_t events)
{
    s->last_active = time(NULL);
    if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
        close_session(s);
        return;
    }
    for (int round = 0; round < 64; round++) {
        if (flush_out(s) < 0) {
            close_session(s);
            return;
        }
        if (s->out_len > 0)
            break; /* wait for EPOLLOUT */
        if (s->mode == MODE_CLOSING) {
            close_session(s);
            return;
        }
        if (s->mode == MODE_HANDSHAKE) {
            if (handshake(s) < 0) {
                close_session(s);
                return;
            }
            if (s->mode == MODE_HANDSHAKE)
                break;
        }
        int got = read_input(s);
        if (got < 0) {
            close_session(s);
            return;
        }
        size_t before = s->in_len;
        enum mode mode_before = s->mode;
        process_input(s);
        /* Stop when neither reading nor processing made progress. An
         * SSL session may hold decrypted bytes that epoll cannot see, so
         * it loops while SSL_read returns data. */
        if (got == 0 && s->in_len == before && s->mode == mode_before &&
            s->out_len == 0)
            break;
    }
    watch(s);
}

static void accept_clients(int listen_fd)
{
    for (int i = 0; i < 256; i++) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        counts.connections++;
        counts_dirty = 1;
        if (open_sessions >= max_sessions) {
            static const char busy[] = "421 4.3.2 Too many sessions\r\n";
            ssize_t ignored = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
            (void)ignored;
            close(fd);
            counts.refused++;
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct session *s = calloc(1, sizeof(*s));
        if (!s) {
            close(fd);
            continue;
        }
        s->fd = fd;
        s->mode = MODE_COMMAND;
        s->last_active = time(NULL);
        s->next = all_sessions;
        if (all_sessions)
            all_sessions->prev = s;
        all_sessions = s;
        open_sessions++;
        char greeting[300];
        snprintf(greeting, sizeof(greeting), "220 %s ESMTP smtp-sink\r\n",
                 hostname);
        reply(s, greeting);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
            die("epoll_ctl");
        session_event(s, 0);
    }
}

static void close_idle(void)
{
    time_t now = time(NULL);
    struct session *s = all_sessions;
    while (s) {
        struct session *next = s->next;
        if (now - s->last_active > idle_seconds)
            close_session(s);
        s = next;
    }
}

static int loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

static int listen_on(const char *host, int port)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        sslen = sizeof(*sin);
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sslen = sizeof(*sin6);
    } else {
        fprintf(stderr, "smtp-sink: bad address %s\n", host);
        exit(2);
    }
    int fd =
        socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sslen) != 0)
        die("bind");
    if (listen(fd, 1024) != 0)
        die("listen");
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0)
        die("getsockname");
    printf("port %d\n",
           ntohs(ss.ss_family == AF_INET ? sin->sin_port : sin6->sin6_port));
    fflush(stdout);
    return fd;
}

static void usage(void)
{
    fprintf(stderr, "usage: smtp-sink -p PORT [-H 127.0.0.1] [-c max_sessions] "
                    "[-B] [-S size_limit] [-t cert.pem -k key.pem] "
                    "[-s stats_file] [-n hostname] [-i idle_seconds]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *cert = NULL, *key = NULL;
    int port = -1, opt;
    while ((opt = getopt(argc, argv, "p:H:c:BS:t:k:s:n:i:")) != -1) {
        switch (opt) {
        case 'p':
            port = atoi(optarg);
            break;
        case 'H':
            host = optarg;
            break;
        case 'c':
            max_sessions = atoi(optarg);
            break;
        case 'B':
            chunking = 1;
            break;
        case 'S':
            size_limit = atoll(optarg);
            break;
        case 't':
            cert = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 's':
            stats_file = optarg;
            break;
        case 'n':
            hostname = optarg;
            break;
        case 'i':
            idle_seconds = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (port < 0 || port > 65535 || max_sessions < 1 || idle_seconds < 1 ||
        strlen(hostname) > 200 || !cert != !key ||
        (stats_file && strlen(stats_file) > 4000))
        usage();
    if (!loopback(host)) {
        fprintf(stderr, "smtp-sink: %s is not a loopback address\n", host);
        return 2;
    }
    if (cert) {
        tls_ctx = SSL_CTX_new(TLS_server_method());
        if (!tls_ctx ||
            SSL_CTX_use_certificate_chain_file(tls_ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM) != 1) {
            fprintf(stderr, "smtp-sink: cannot load %s / %s\n", cert, key);
            ERR_print_errors_fp(stderr);
            return 1;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int listen_fd = listen_on(host, port);
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0)
        die("epoll_create1");
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &lev) != 0)
        die("epoll_ctl");
    write_stats_file();

    struct epoll_event events[256];
    time_t last_idle_check = time(NULL);
    double last_stats_write = monotonic_seconds();
    while (!stop_requested) {
        int n = epoll_wait(epoll_fd, events, 256, 100);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == NULL)
                accept_clients(listen_fd);
            else
                session_event(events[i].data.ptr, events[i].events);
        }
        if (print_requested) {
            print_requested = 0;
            print_counts();
        }
        /* At most every 100 ms: a rewrite per epoll batch cost the sink
         * more CPU than the sessions did at a thousand messages/s. */
        if (counts_dirty && monotonic_seconds() - last_stats_write >= 0.1) {
            write_stats_file();
            last_stats_write = monotonic_seconds();
        }
        if (time(NULL) != last_idle_check) {
            last_idle_check = time(NULL);
            close_idle();
        }
    }
    while (all_sessions)
        close_session(all_sessions);
    write_stats_file();
    print_counts();
    SSL_CTX_free(tls_ctx);
    return 0;
}
