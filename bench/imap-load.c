/* imap-load.c: IMAP load generator for Postern's benchmarks (bench/imap).
 *
 * Logs in to an IMAP server on loopback and times one workload, then
 * prints one JSON object with the figures:
 *
 *   envelope  SELECT the mailbox, then FETCH 1:* (FLAGS ENVELOPE): the
 *             time of each and of both together (what a client does when
 *             it opens a large folder)
 *   bodies    FETCH 1:* BODY.PEEK[]: every full body, messages/s and MB/s
 *             (-c sessions at once, each fetching the whole mailbox)
 *   search    UID SEARCH TEXT WORD: time and number of hits (-q WORD)
 *   idle      logs in -c sessions, SELECTs the mailbox in each, prints
 *             the line "ready N" on stdout and keeps them open until its
 *             stdin is closed (or -T seconds), so the caller can measure
 *             the server's memory per idle session
 *
 * The response reader follows literals ({n}) so that message bytes are
 * never mistaken for a tagged completion. With -t the connection uses
 * implicit TLS (port 993 style); certificates are not verified: the
 * server is a benchmark instance on loopback.
 *
 * Loopback only: the host must be a 127.0.0.0/8 or ::1 address.
 * Usage: imap-load -p PORT -u USER -w PASSWORD [-H 127.0.0.1] [-t]
 *        [-b MAILBOX] [-c sessions] [-q word] [-T timeout_s] MODE      */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static const char *host = "127.0.0.1", *user, *password;
static const char *mailbox = "INBOX", *word = "zyxwvut";
static int port, sessions = 1, use_tls, timeout_s = 600;
static SSL_CTX *tls_ctx;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "imap-load: %s\n", what);
    exit(2);
}

/* One connection with a read buffer large enough for full bodies. */
struct conn {
    int fd;
    SSL *ssl;
    char *in;
    size_t in_len, in_cap, in_pos;
    unsigned tag;
    /* what the last command's responses held */
    unsigned long fetches, hits;
    unsigned long long bytes, literal_bytes;
};

static ssize_t conn_read(struct conn *c, char *data, size_t len)
{
    if (c->ssl) {
        int n = SSL_read(c->ssl, data, (int)len);
        return n > 0 ? n : -1;
    }
    for (;;) {
        ssize_t n = read(c->fd, data, len);
        if (n >= 0 || errno != EINTR)
            return n;
    }
}

static int conn_write(struct conn *c, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = c->ssl ? SSL_write(c->ssl, data, (int)len)
                           : write(c->fd, data, len);
        if (n <= 0) {
            if (!c->ssl && n < 0 && errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Makes sure at least `want` unread bytes are buffered. */
static int conn_fill(struct conn *c, size_t want)
{
    if (c->in_pos > 0 && c->in_pos == c->in_len)
        c->in_pos = c->in_len = 0;
    while (c->in_len - c->in_pos < want) {
        if (c->in_pos > 0) {
            memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
            c->in_len -= c->in_pos;
            c->in_pos = 0;
        }
        if (c->in_cap - c->in_len < 65536) {
            c->in_cap = c->in_cap ? c->in_cap * 2 : 262144;
            c->in = realloc(c->in, c->in_cap);
            if (!c->in)
                die("out of memory");
        }
        ssize_t n = conn_read(c, c->in + c->in_len, c->in_cap - c->in_len);
        if (n <= 0)
            return -1;
        c->in_len += (size_t)n;
        c->bytes += (unsigned long long)n;
    }
    return 0;
}

/* Returns the next line (without CRLF, NUL-terminated in the buffer) or
 * NULL on EOF. The line stays valid until the next call. */
static char *conn_line(struct conn *c, size_t *len_out)
{
    for (;;) {
        char *start = c->in + c->in_pos;
        char *lf = memchr(start, '\n', c->in_len - c->in_pos);
        if (lf) {
            size_t len = (size_t)(lf - start);
            c->in_pos += len + 1;
            if (len > 0 && start[len - 1] == '\r')
                len--;
            start[len] = '\0';
            *len_out = len;
            return start;
        }
        if (conn_fill(c, c->in_len - c->in_pos + 1) < 0)
            return NULL;
    }
}

/* Skips n literal bytes. */
static int conn_skip(struct conn *c, unsigned long long n)
{
    c->literal_bytes += n;
    while (n > 0) {
        size_t have = c->in_len - c->in_pos;
        if (have == 0) {
            if (conn_fill(c, 1) < 0)
                return -1;
            continue;
        }
        size_t take = have < n ? have : (size_t)n;
        c->in_pos += take;
        n -= take;
    }
    return 0;
}

/* The literal length announced at the end of a line ("{123}"), or -1. */
static long long line_literal(const char *line, size_t len)
{
    if (len < 3 || line[len - 1] != '}')
        return -1;
    size_t i = len - 1;
    while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
        i--;
    if (i == 0 || i == len - 1 || line[i - 1] != '{')
        return -1;
    return atoll(line + i);
}

/* Reads responses up to the tagged completion of command `tag`, counting
 * FETCH responses and SEARCH hits. Returns 0 for OK, -1 otherwise. */
static int conn_wait(struct conn *c, const char *tag)
{
    size_t taglen = strlen(tag);
    int in_untagged = 0;
    for (;;) {
        size_t len;
        char *line = conn_line(c, &len);
        if (!line)
            return -1;
        if (!in_untagged && len > taglen && memcmp(line, tag, taglen) == 0 &&
            line[taglen] == ' ')
            return strncmp(line + taglen + 1, "OK", 2) == 0 ? 0 : -1;
        if (!in_untagged && len > 2 && line[0] == '*') {
            if (strstr(line, " FETCH "))
                c->fetches++;
            if (strncmp(line, "* SEARCH", 8) == 0)
                for (const char *p = line + 8; *p; p++)
                    if (*p == ' ' && p[1] >= '0' && p[1] <= '9')
                        c->hits++;
        }
        long long lit = line_literal(line, len);
        if (lit >= 0) {
            if (conn_skip(c, (unsigned long long)lit) < 0)
                return -1;
            in_untagged = 1; /* the rest of this response follows */
        } else {
            in_untagged = 0;
        }
    }
}

/* Sends "TAG command" and waits for its completion. */
static int conn_cmd(struct conn *c, const char *command)
{
    char tag[16], line[1024];
    snprintf(tag, sizeof tag, "b%u", ++c->tag);
    int n = snprintf(line, sizeof line, "%s %s\r\n", tag, command);
    if (n < 0 || (size_t)n >= sizeof line)
        die("command too long");
    c->fetches = c->hits = 0;
    if (conn_write(c, line, (size_t)n) < 0)
        return -1;
    return conn_wait(c, tag);
}

static int loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, addr, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* Connects, reads the greeting and logs in. */
static int conn_open(struct conn *c)
{
    memset(c, 0, sizeof *c);
    struct sockaddr_storage ss;
    socklen_t sslen;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        sslen = sizeof *s4;
    } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        sslen = sizeof *s6;
    } else {
        die("bad host address");
    }
    c->fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&ss, sslen) < 0)
        return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (use_tls) {
        c->ssl = SSL_new(tls_ctx);
        SSL_set_fd(c->ssl, c->fd);
        if (SSL_connect(c->ssl) != 1)
            return -1;
    }
    size_t len;
    const char *greeting = conn_line(c, &len);
    if (!greeting || strncmp(greeting, "* OK", 4) != 0)
        return -1;
    char login[512];
    snprintf(login, sizeof login, "LOGIN \"%s\" \"%s\"", user, password);
    return conn_cmd(c, login);
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0) {
        conn_cmd(c, "LOGOUT");
        if (c->ssl)
            SSL_free(c->ssl);
        close(c->fd);
    }
    free(c->in);
    c->in = NULL;
    c->fd = -1;
}

static void select_mailbox(struct conn *c)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "SELECT \"%s\"", mailbox);
    if (conn_cmd(c, cmd) < 0)
        die("SELECT failed");
}

static int run_envelope(void)
{
    struct conn c;
    if (conn_open(&c) < 0)
        die("login failed");
    double t0 = now();
    select_mailbox(&c);
    double t1 = now();
    if (conn_cmd(&c, "FETCH 1:* (FLAGS ENVELOPE)") < 0)
        die("FETCH failed");
    double t2 = now();
    printf("{\"mode\": \"envelope\", \"select_seconds\": %.4f, "
           "\"fetch_seconds\": %.4f, \"total_seconds\": %.4f, "
           "\"messages\": %lu, \"bytes\": %llu}\n",
           t1 - t0, t2 - t1, t2 - t0, c.fetches, c.bytes);
    conn_close(&c);
    return 0;
}

struct body_job {
    unsigned long fetches;
    unsigned long long literal_bytes;
    int failed;
};

static void *body_thread(void *arg)
{
    struct body_job *job = arg;
    struct conn c;
    if (conn_open(&c) < 0) {
        job->failed = 1;
        return NULL;
    }
    select_mailbox(&c);
    if (conn_cmd(&c, "FETCH 1:* BODY.PEEK[]") < 0)
        job->failed = 1;
    job->fetches = c.fetches;
    job->literal_bytes = c.literal_bytes;
    conn_close(&c);
    return NULL;
}

static int run_bodies(void)
{
    pthread_t *threads = calloc((size_t)sessions, sizeof *threads);
    struct body_job *jobs = calloc((size_t)sessions, sizeof *jobs);
    if (!threads || !jobs)
        die("out of memory");
    double t0 = now();
    for (int i = 0; i < sessions; i++)
        pthread_create(&threads[i], NULL, body_thread, &jobs[i]);
    unsigned long fetches = 0;
    unsigned long long bytes = 0;
    int failed = 0;
    for (int i = 0; i < sessions; i++) {
        pthread_join(threads[i], NULL);
        fetches += jobs[i].fetches;
        bytes += jobs[i].literal_bytes;
        failed += jobs[i].failed;
    }
    double t = now() - t0;
    printf("{\"mode\": \"bodies\", \"sessions\": %d, \"seconds\": %.4f, "
           "\"messages\": %lu, \"body_bytes\": %llu, "
           "\"messages_per_second\": %.0f, \"mbytes_per_second\": %.1f, "
           "\"failed\": %d}\n",
           sessions, t, fetches, bytes, fetches / t, bytes / t / 1e6, failed);
    free(threads);
    free(jobs);
    return failed ? 1 : 0;
}

static int run_search(void)
{
    struct conn c;
    if (conn_open(&c) < 0)
        die("login failed");
    select_mailbox(&c);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "UID SEARCH TEXT \"%s\"", word);
    double t0 = now();
    if (conn_cmd(&c, cmd) < 0)
        die("SEARCH failed");
    double t = now() - t0;
    printf("{\"mode\": \"search\", \"word\": \"%s\", \"seconds\": %.4f, "
           "\"hits\": %lu}\n", word, t, c.hits);
    conn_close(&c);
    return 0;
}

static int run_idle(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct conn *conns = calloc((size_t)sessions, sizeof *conns);
    if (!conns)
        die("out of memory");
    double t0 = now();
    int open = 0;
    for (int i = 0; i < sessions; i++) {
        if (conn_open(&conns[i]) < 0)
            break;
        select_mailbox(&conns[i]);
        /* The buffers of an idle client are the load generator's, not
         * the server's; keep ours small too. */
        free(conns[i].in);
        conns[i].in = NULL;
        conns[i].in_cap = conns[i].in_len = conns[i].in_pos = 0;
        open++;
    }
    printf("ready %d %.2f\n", open, now() - t0);
    fflush(stdout);
    struct pollfd pfd = {.fd = 0, .events = POLLIN};
    double end = now() + timeout_s;
    while (now() < end) {
        int n = poll(&pfd, 1, 1000);
        if (n > 0) {
            char junk[64];
            if (read(0, junk, sizeof junk) <= 0)
                break;
        }
    }
    for (int i = 0; i < open; i++)
        conn_close(&conns[i]);
    free(conns);
    return open == sessions ? 0 : 1;
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "H:p:u:w:tb:c:q:T:")) != -1) {
        switch (opt) {
        case 'H': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'u': user = optarg; break;
        case 'w': password = optarg; break;
        case 't': use_tls = 1; break;
        case 'b': mailbox = optarg; break;
        case 'c': sessions = atoi(optarg); break;
        case 'q': word = optarg; break;
        case 'T': timeout_s = atoi(optarg); break;
        default: die("usage: imap-load -p PORT -u USER -w PASSWORD "
                     "[-H host] [-t] [-b mailbox] [-c sessions] [-q word] "
                     "[-T secs] envelope|bodies|search|idle");
        }
    }
    if (optind != argc - 1 || port <= 0 || !user || !password ||
        sessions < 1)
        die("usage: imap-load -p PORT -u USER -w PASSWORD ... MODE");
    if (!loopback(host))
        die("the host must be a loopback address");
    if (strchr(user, '"') || strchr(password, '"') || strchr(mailbox, '"') ||
        strchr(word, '"'))
        die("no double quotes in user, password, mailbox or word");
    if (use_tls) {
        tls_ctx = SSL_CTX_new(TLS_client_method());
        if (!tls_ctx)
            die("SSL_CTX_new failed");
        SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
    }
    const char *mode = argv[optind];
    if (strcmp(mode, "envelope") == 0)
        return run_envelope();
    if (strcmp(mode, "bodies") == 0)
        return run_bodies();
    if (strcmp(mode, "search") == 0)
        return run_search();
    if (strcmp(mode, "idle") == 0)
        return run_idle();
    die("unknown mode");
    return 2;
}
