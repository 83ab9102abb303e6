/* smtp-load.c: SMTP load generator for Postern's benchmarks.
 *
 * Opens C concurrent SMTP sessions to HOST:PORT and sends N messages in
 * all, each of about S bytes to R recipients, one message per MAIL
 * transaction and many transactions per session. It records the time
 * from the end of DATA ("." sent) to the 250 reply for each message and,
 * with -w DIR, watches Maildir new/ directories under DIR with inotify to
 * time the end of DATA to the file appearing in new/ (matched by the
 * X-Bench-Id header). Prints one JSON object with the figures.
 *
 * For the submission workload, -t makes STARTTLS after EHLO (and EHLO
 * again), -a USER:PASSWORD authenticates with AUTH PLAIN, and -m M ends
 * each session with QUIT after M messages, so that every session pays
 * for its connection, handshake and login. Certificates are not
 * verified: the peer is a benchmark instance on loopback.
 *
 * Loopback only: the host must be a 127.0.0.0/8 or ::1 address.
 * Usage: smtp-load -p PORT [-H 127.0.0.1] [-c sessions] [-n messages]
 *        [-s size] [-r rcpts] [-d domain] [-u users] [-w maildir_root]
 *        [-T timeout_s] [-t] [-a user:password] [-m per_session]     */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <poll.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static const char *host = "127.0.0.1";
static int port = 0, sessions = 10, messages = 1000, size = 4096, rcpts = 1;
static int users = 10, timeout_s = 600;
static const char *domain = "bench.test", *watch_root = NULL;

static int use_starttls = 0, per_session = 0;
static char *auth_line;      /* "AUTH PLAIN <base64>\r\n", or NULL */
static SSL_CTX *tls_ctx;

static atomic_int next_message;
static atomic_int sessions_done;
static atomic_int accepted, failed;
static double *accept_latency; /* per message, seconds */
static double *data_end_time;  /* per message, monotonic seconds */
static double *delivered_time; /* first file in new/, monotonic seconds */
static atomic_int delivered_files;
static double start_time;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct conn {
    int fd;
    SSL *ssl; /* after STARTTLS */
    char in[8192];
    size_t in_len;
};

static ssize_t conn_read(struct conn *c, char *data, size_t len)
{
    if (c->ssl) {
        int n = SSL_read(c->ssl, data, (int)len);
        return n > 0 ? n : -1;
    }
    return read(c->fd, data, len);
}

static void conn_close(struct conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* Reads one complete (possibly multi-line) reply; returns its code. */
static int read_reply(struct conn *c)
{
    for (;;) {
        char *line = c->in;
        for (;;) {
            char *eol = memchr(line, '\n', c->in_len - (size_t)(line - c->in));
            if (!eol)
                break;
            if (eol - line >= 4 && line[3] == ' ') {
                int code = atoi(line);
                size_t used = (size_t)(eol + 1 - c->in);
                memmove(c->in, eol + 1, c->in_len - used);
                c->in_len -= used;
                return code;
            }
            line = eol + 1;
        }
        if (c->in_len == sizeof(c->in))
            return -1;
        ssize_t n = conn_read(c, c->in + c->in_len, sizeof(c->in) - c->in_len);
        if (n <= 0)
            return -1;
        c->in_len += (size_t)n;
    }
}

static int send_all(struct conn *c, const char *data, size_t len)
{
    while (len) {
        ssize_t n;
        if (c->ssl) {
            int w = SSL_write(c->ssl, data, (int)len);
            n = w > 0 ? w : -1;
        } else {
            n = write(c->fd, data, len);
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int command(struct conn *c, const char *text, int expect)
{
    if (send_all(c, text, strlen(text)) < 0)
        return -1;
    int code = read_reply(c);
    return code / 100 == expect ? 0 : -1;
}

static int connect_server(void)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
            return -1;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        len = sizeof(*sin);
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1 &&
               IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        len = sizeof(*sin6);
    } else {
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct timeval tv = {timeout_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static char *body_template;

/* Connects, reads the greeting, says EHLO, and makes STARTTLS and AUTH
 * when asked. Returns 0 when the session is ready for MAIL. */
static int open_session(struct conn *c)
{
    c->fd = connect_server();
    c->in_len = 0;
    if (c->fd < 0 || read_reply(c) != 220 ||
        command(c, "EHLO load.bench.test\r\n", 2) < 0)
        return -1;
    if (use_starttls) {
        if (command(c, "STARTTLS\r\n", 2) < 0 || c->in_len != 0)
            return -1;
        c->ssl = SSL_new(tls_ctx);
        if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 ||
            SSL_connect(c->ssl) != 1 ||
            command(c, "EHLO load.bench.test\r\n", 2) < 0)
            return -1;
    }
    if (auth_line && command(c, auth_line, 2) < 0)
        return -1;
    return 0;
}

/* base64 of data[0..len), for the AUTH PLAIN initial response. */
static char *base64_of(const unsigned char *data, size_t len)
{
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc(len / 3 * 4 + 5), *p = out;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        *p++ = digits[v >> 18 & 63];
        *p++ = digits[v >> 12 & 63];
        *p++ = i + 1 < len ? digits[v >> 6 & 63] : '=';
        *p++ = i + 2 < len ? digits[v & 63] : '=';
    }
    *p = 0;
    return out;
}

/* Builds "AUTH PLAIN base64(\0user\0password)\r\n" from "user:password". */
static char *make_auth_line(const char *user_password)
{
    const char *colon = strchr(user_password, ':');
    if (!colon)
        return NULL;
    size_t user_len = (size_t)(colon - user_password);
    size_t pass_len = strlen(colon + 1);
    unsigned char *plain = malloc(user_len + pass_len + 2);
    plain[0] = 0;
    memcpy(plain + 1, user_password, user_len);
    plain[1 + user_len] = 0;
    memcpy(plain + 2 + user_len, colon + 1, pass_len);
    char *coded = base64_of(plain, user_len + pass_len + 2);
    char *line = malloc(strlen(coded) + 16);
    sprintf(line, "AUTH PLAIN %s\r\n", coded);
    free(plain);
    free(coded);
    return line;
}

static void *session_main(void *arg)
{
    (void)arg;
    struct conn c = {.fd = -1};
    char line[512];
    int in_session = 0;
    while (now() - start_time < timeout_s) {
        int id = atomic_fetch_add(&next_message, 1);
        if (id >= messages)
            break;
        if (c.fd < 0 && open_session(&c) < 0) {
            atomic_fetch_add(&failed, 1);
            conn_close(&c);
            continue;
        }
        int ok = command(&c, "MAIL FROM:<load@bench.test>\r\n", 2) == 0;
        for (int r = 0; ok && r < rcpts; r++) {
            snprintf(line, sizeof(line), "RCPT TO:<user%d@%s>\r\n",
                     (id * rcpts + r) % users, domain);
            ok = command(&c, line, 2) == 0;
        }
        ok = ok && command(&c, "DATA\r\n", 3) == 0;
        if (ok) {
            char head[512];
            int head_len = snprintf(
                head, sizeof(head),
                "From: <load@bench.test>\r\nTo: <user@%s>\r\n"
                "Subject: bench %d\r\nMessage-ID: <%d.bench@bench.test>\r\n"
                "X-Bench-Id: %d\r\n\r\n",
                domain, id, id, id);
            ok = send_all(&c, head, (size_t)head_len) == 0 &&
                 send_all(&c, body_template, strlen(body_template)) == 0 &&
                 send_all(&c, ".\r\n", 3) == 0;
            double sent = now();
            data_end_time[id] = sent;
            ok = ok && read_reply(&c) == 250;
            accept_latency[id] = now() - sent;
        }
        if (ok) {
            atomic_fetch_add(&accepted, 1);
            if (per_session > 0 && ++in_session >= per_session) {
                if (command(&c, "QUIT\r\n", 2) == 0)
                    atomic_fetch_add(&sessions_done, 1);
                conn_close(&c);
                in_session = 0;
            }
        } else {
            atomic_fetch_add(&failed, 1);
            conn_close(&c);
            in_session = 0;
        }
    }
    if (c.fd >= 0) {
        if (command(&c, "QUIT\r\n", 2) == 0)
            atomic_fetch_add(&sessions_done, 1);
        conn_close(&c);
    }
    return NULL;
}

/* Finds the X-Bench-Id of a delivered file. */
static int bench_id_of(const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[512];
    int id = -1;
    while (fp && fgets(line, sizeof(line), fp)) {
        if (strncmp(line, "X-Bench-Id: ", 12) == 0) {
            id = atoi(line + 12);
            break;
        }
        if (line[0] == '\n' || line[0] == '\r')
            break;
    }
    if (fp)
        fclose(fp);
    return id;
}

#define MAX_WATCHES 4096
static char *watch_paths[MAX_WATCHES];

static void *watch_main(void *arg)
{
    int ifd = *(int *)arg;
    char events[65536] __attribute__((aligned(8)));
    int expected = messages * rcpts;
    while (atomic_load(&delivered_files) < expected &&
           now() - start_time < timeout_s) {
        struct pollfd pfd = {ifd, POLLIN, 0};
        if (poll(&pfd, 1, 200) <= 0)
            continue;
        ssize_t n = read(ifd, events, sizeof(events));
        double t = now();
        for (ssize_t off = 0; off < n;) {
            struct inotify_event *ev = (struct inotify_event *)(events + off);
            off += (ssize_t)sizeof(*ev) + ev->len;
            if (ev->wd < 0 || ev->wd >= MAX_WATCHES || !watch_paths[ev->wd] ||
                ev->len == 0)
                continue;
            char path[PATH_MAX];
            snprintf(path, sizeof(path), "%s/%s", watch_paths[ev->wd],
                     ev->name);
            int id = bench_id_of(path);
            atomic_fetch_add(&delivered_files, 1);
            if (id >= 0 && id < messages && delivered_time[id] == 0)
                delivered_time[id] = t;
        }
    }
    return NULL;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(double *values, int count, double p)
{
    if (count == 0)
        return 0;
    qsort(values, (size_t)count, sizeof(double), compare_double);
    int index = (int)(p * (count - 1) + 0.5);
    return values[index];
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "H:p:c:n:s:r:d:u:w:T:ta:m:")) != -1) {
        switch (opt) {
        case 'H': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'c': sessions = atoi(optarg); break;
        case 'n': messages = atoi(optarg); break;
        case 's': size = atoi(optarg); break;
        case 'r': rcpts = atoi(optarg); break;
        case 'd': domain = optarg; break;
        case 'u': users = atoi(optarg); break;
        case 'w': watch_root = optarg; break;
        case 'T': timeout_s = atoi(optarg); break;
        case 't': use_starttls = 1; break;
        case 'a':
            if (!(auth_line = make_auth_line(optarg))) {
                fprintf(stderr, "smtp-load: -a wants user:password\n");
                return 2;
            }
            break;
        case 'm': per_session = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: see the comment at the top of smtp-load.c\n");
            return 2;
        }
    }
    if (port <= 0 || sessions <= 0 || messages <= 0 || rcpts <= 0 ||
        users <= 0 || size < 0) {
        fprintf(stderr, "smtp-load: bad arguments (need -p PORT)\n");
        return 2;
    }
    if (use_starttls) {
        tls_ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
    }
    /* Body: lines of 76 characters up to the requested size. */
    body_template = malloc((size_t)size + 80);
    size_t used = 0;
    while (used + 78 <= (size_t)size) {
        memset(body_template + used, 'x', 76);
        memcpy(body_template + used + 76, "\r\n", 2);
        used += 78;
    }
    body_template[used] = 0;
    accept_latency = calloc((size_t)messages, sizeof(double));
    data_end_time = calloc((size_t)messages, sizeof(double));
    delivered_time = calloc((size_t)messages, sizeof(double));

    int ifd = -1;
    pthread_t watcher;
    if (watch_root) {
        ifd = inotify_init1(IN_CLOEXEC);
        DIR *dir = opendir(watch_root);
        struct dirent *ent;
        while (dir && (ent = readdir(dir)) != NULL) {
            if (ent->d_name[0] == '.')
                continue;
            char path[PATH_MAX];
            snprintf(path, sizeof(path), "%s/%s/new", watch_root, ent->d_name);
            int wd = inotify_add_watch(ifd, path, IN_MOVED_TO | IN_CREATE);
            if (wd >= 0 && wd < MAX_WATCHES)
                watch_paths[wd] = strdup(path);
        }
        if (dir)
            closedir(dir);
    }
    start_time = now();
    if (watch_root)
        pthread_create(&watcher, NULL, watch_main, &ifd);
    pthread_t *threads = calloc((size_t)sessions, sizeof(pthread_t));
    for (int i = 0; i < sessions; i++)
        pthread_create(&threads[i], NULL, session_main, NULL);
    for (int i = 0; i < sessions; i++)
        pthread_join(threads[i], NULL);
    double accept_done = now();
    if (watch_root)
        pthread_join(watcher, NULL);
    double all_done = now();

    int ok = atomic_load(&accepted);
    double *lat = calloc((size_t)messages, sizeof(double));
    int lat_count = 0;
    for (int i = 0; i < messages; i++)
        if (accept_latency[i] > 0)
            lat[lat_count++] = accept_latency[i];
    double *dlat = calloc((size_t)messages, sizeof(double));
    int dlat_count = 0;
    for (int i = 0; i < messages; i++)
        if (delivered_time[i] > 0 && data_end_time[i] > 0)
            dlat[dlat_count++] = delivered_time[i] - data_end_time[i];
    printf("{\"sessions\": %d, \"messages\": %d, \"size\": %d, "
           "\"recipients\": %d, \"accepted\": %d, \"failed\": %d, "
           "\"accept_seconds\": %.3f, \"accepted_per_second\": %.1f, "
           "\"accept_latency_median_ms\": %.3f, \"accept_latency_p99_ms\": %.3f",
           sessions, messages, size, rcpts, ok, atomic_load(&failed),
           accept_done - start_time, ok / (accept_done - start_time),
           percentile(lat, lat_count, 0.5) * 1000,
           percentile(lat, lat_count, 0.99) * 1000);
    if (per_session > 0)
        printf(", \"sessions_completed\": %d, \"sessions_per_second\": %.1f",
               atomic_load(&sessions_done),
               atomic_load(&sessions_done) / (accept_done - start_time));
    if (watch_root)
        printf(", \"delivered_files\": %d, \"delivered_seconds\": %.3f, "
               "\"delivered_messages_per_second\": %.1f, "
               "\"files_per_second\": %.1f, "
               "\"delivery_latency_median_ms\": %.3f, "
               "\"delivery_latency_p99_ms\": %.3f",
               atomic_load(&delivered_files), all_done - start_time,
               dlat_count / (all_done - start_time),
               atomic_load(&delivered_files) / (all_done - start_time),
               percentile(dlat, dlat_count, 0.5) * 1000,
               percentile(dlat, dlat_count, 0.99) * 1000);
    printf("}\n");
    return ok == messages ? 0 : 1;
}
