/* auth_client.c: the client side of Dovecot's authentication protocol on
 * the event loop (auth_client.h): one shared connection per process,
 * requests multiplexed by id, reconnection on demand after a loss. */
#include "auth/auth_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/base64.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"

/* The protocol version we speak: 1.2, as Dovecot 2.3's clients do; any
 * 1.x server answers it. */
#define AUTH_CLIENT_MAJOR 1
#define AUTH_CLIENT_MINOR 2

#define LOST_REASON "Connection lost to authentication server"
#define CONNECT_REASON "Can't connect to authentication server"
#define TIMEOUT_REASON "Authentication server did not answer in time"

/* ---- parsing the server's lines ---- */

static int parse_uint(const char *text, unsigned *out)
{
    if (text == NULL || *text < '0' || *text > '9')
        return -1;
    unsigned long value = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (unsigned long)(*p - '0');
        if (value > 0xffffffffUL)
            return -1;
    }
    *out = (unsigned)value;
    return 0;
}

static const struct {
    const char *name;
    unsigned flag;
} mech_props[] = {
    {"anonymous", AUTH_MECH_ANONYMOUS},
    {"plaintext", AUTH_MECH_PLAINTEXT},
    {"dictionary", AUTH_MECH_DICTIONARY},
    {"active", AUTH_MECH_ACTIVE},
    {"forward-secrecy", AUTH_MECH_FORWARD_SECRECY},
    {"mutual-auth", AUTH_MECH_MUTUAL_AUTH},
    {"private", AUTH_MECH_PRIVATE},
};

static const struct {
    const char *name;
    enum auth_server_cmd cmd;
} server_cmds[] = {
    {"VERSION", AUTH_SERVER_VERSION}, {"MECH", AUTH_SERVER_MECH},
    {"SPID", AUTH_SERVER_SPID},       {"CUID", AUTH_SERVER_CUID},
    {"COOKIE", AUTH_SERVER_COOKIE},   {"DONE", AUTH_SERVER_DONE},
    {"OK", AUTH_SERVER_OK},           {"CONT", AUTH_SERVER_CONT},
    {"FAIL", AUTH_SERVER_FAIL},
};

int auth_server_line_parse(struct auth_server_line *out, const char *text,
                           size_t len)
{
    struct auth_line keep = out->line;
    memset(out, 0, sizeof(*out));
    out->line = keep;
    out->cmd = AUTH_SERVER_UNKNOWN;
    if (auth_line_split(&out->line, text, len) < 0 || out->line.count == 0 ||
        out->line.fields[0][0] == '\0')
        return -1;
    const struct auth_line *l = &out->line;
    for (size_t i = 0; i < sizeof(server_cmds) / sizeof(server_cmds[0]); i++)
        if (strcmp(l->fields[0], server_cmds[i].name) == 0)
            out->cmd = server_cmds[i].cmd;
    switch (out->cmd) {
    case AUTH_SERVER_VERSION:
        if (l->count < 3 || parse_uint(l->fields[1], &out->major) < 0 ||
            parse_uint(l->fields[2], &out->minor) < 0)
            return -1;
        return 0;
    case AUTH_SERVER_MECH:
        if (l->count < 2 || l->fields[1][0] == '\0')
            return -1;
        out->mech = l->fields[1];
        for (size_t f = 2; f < l->count; f++)
            for (size_t i = 0; i < sizeof(mech_props) / sizeof(mech_props[0]);
                 i++)
                if (strcmp(l->fields[f], mech_props[i].name) == 0)
                    out->mech_flags |= mech_props[i].flag;
        return 0;
    case AUTH_SERVER_OK:
    case AUTH_SERVER_CONT:
    case AUTH_SERVER_FAIL:
        if (l->count < 2 || parse_uint(l->fields[1], &out->id) < 0 ||
            out->id == 0)
            return -1;
        if (out->cmd == AUTH_SERVER_CONT) {
            /* CONT id data: the challenge is a required parameter. */
            if (l->count < 3)
                return -1;
            out->data = l->fields[2];
            return 0;
        }
        out->user = auth_line_param(l, 2, "user");
        if (out->cmd == AUTH_SERVER_FAIL) {
            out->reason = auth_line_param(l, 2, "reason");
            out->temp = auth_line_param(l, 2, "temp") != NULL;
        }
        return 0;
    default:
        return 0;
    }
}

void auth_server_line_free(struct auth_server_line *out)
{
    auth_line_free(&out->line);
}

int auth_base64_valid(const char *text)
{
    /* The one strict decoder decides; the decoded bytes may be a
     * password, so they are wiped. */
    struct buf scratch = BUF_INIT;
    int ok = base64_decode(text, strlen(text), &scratch) == 0;
    if (scratch.data)
        explicit_bzero(scratch.data, scratch.len);
    buf_free(&scratch);
    return ok;
}

/* ---- the client ---- */

enum conn_state {
    CONN_DOWN,      /* no connection */
    CONN_HANDSHAKE, /* connected, waiting for DONE */
    CONN_READY,
    CONN_FAILING, /* could not connect: the failure is delivered soon */
};

struct auth_request {
    struct auth_client *client;
    struct auth_request *next;
    unsigned id;
    auth_request_cb cb;
    void *ctx;
    struct event_timer timer;
};

struct auth_client {
    struct event_loop *loop;
    char *path;
    char *service;
    uint64_t timeout_ms;
    int fd;
    enum conn_state state;
    int got_version;
    struct buf in, out;
    struct buf held; /* AUTH lines written before the handshake ended */
    struct auth_mech *mechs;
    size_t mech_count;
    struct auth_wait *waits;
    struct auth_request *requests;
    unsigned next_id;
    struct event_timer conn_timer; /* handshake limit; delivers FAILING */
    struct auth_server_line reply;
};

static void conn_fail(struct auth_client *c, const char *reason);

static void mechs_clear(struct auth_client *c)
{
    for (size_t i = 0; i < c->mech_count; i++)
        free(c->mechs[i].name);
    free(c->mechs);
    c->mechs = NULL;
    c->mech_count = 0;
}

static void request_free(struct auth_request *r)
{
    event_timer_stop(r->client->loop, &r->timer);
    free(r);
}

static void request_unlink(struct auth_request *r)
{
    struct auth_client *c = r->client;
    for (struct auth_request **p = &c->requests; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    r->next = NULL;
}

/* Ends a request: it leaves the list before its callback runs, so the
 * callback may start others; it is freed after. */
static void request_end(struct auth_request *r,
                        const struct auth_result *result)
{
    request_unlink(r);
    event_timer_stop(r->client->loop, &r->timer);
    r->cb(r->ctx, result);
    request_free(r);
}

static void close_fd(struct auth_client *c)
{
    if (c->fd >= 0) {
        event_fd_remove(c->loop, c->fd);
        close(c->fd);
        c->fd = -1;
    }
    buf_reset(&c->in);
    buf_reset(&c->out);
}

/* Writes what is buffered; asks for writability when the socket is
 * full. A write error drops what is buffered and leaves the failure to
 * the read side (the peer's EOF or error comes as a read event), so no
 * callback ever runs from inside a caller's call. */
static void conn_flush(struct auth_client *c)
{
    while (c->out.len > 0) {
        ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
        if (n > 0) {
            buf_consume(&c->out, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        log_warn("SASL: write to auth socket %s: %s", c->path,
                 n < 0 ? strerror(errno) : "short write");
        buf_reset(&c->out);
        break;
    }
    event_fd_set(c->loop, c->fd, EVENT_READ | (c->out.len ? EVENT_WRITE : 0));
}

static void handshake_done(struct auth_client *c)
{
    c->state = CONN_READY;
    event_timer_stop(c->loop, &c->conn_timer);
    if (c->held.len) {
        buf_append(&c->out, c->held.data, c->held.len);
        buf_reset(&c->held);
        conn_flush(c);
    }
    struct auth_wait *waits = c->waits;
    c->waits = NULL;
    while (waits) {
        struct auth_wait *w = waits;
        waits = w->next;
        w->next = NULL;
        w->linked = 0;
        w->cb(w->ctx, 1);
    }
}

static struct auth_request *request_find(struct auth_client *c, unsigned id)
{
    for (struct auth_request *r = c->requests; r; r = r->next)
        if (r->id == id)
            return r;
    return NULL;
}

/* One line from the server. 0, or -1 after conn_fail. */
static int handle_line(struct auth_client *c, const char *text, size_t len)
{
    struct auth_server_line *l = &c->reply;
    if (auth_server_line_parse(l, text, len) < 0) {
        log_warn("SASL: protocol error from auth socket %s", c->path);
        conn_fail(c, LOST_REASON);
        return -1;
    }
    if (c->state == CONN_HANDSHAKE) {
        if (!c->got_version) {
            if (l->cmd != AUTH_SERVER_VERSION || l->major != AUTH_CLIENT_MAJOR) {
                log_warn("SASL: protocol version mismatch on auth socket %s "
                         "(want %d.x)",
                         c->path, AUTH_CLIENT_MAJOR);
                conn_fail(c, LOST_REASON);
                return -1;
            }
            c->got_version = 1;
            return 0;
        }
        if (l->cmd == AUTH_SERVER_MECH) {
            c->mechs =
                xreallocarray(c->mechs, c->mech_count + 1, sizeof(*c->mechs));
            c->mechs[c->mech_count].name = xstrdup(l->mech);
            c->mechs[c->mech_count].flags = l->mech_flags;
            c->mech_count++;
        } else if (l->cmd == AUTH_SERVER_DONE) {
            handshake_done(c);
            if (c->state != CONN_READY)
                return -1;
        }
        /* SPID, CUID, COOKIE: for master logins, which we never do. */
        return 0;
    }
    if (l->cmd != AUTH_SERVER_OK && l->cmd != AUTH_SERVER_CONT &&
        l->cmd != AUTH_SERVER_FAIL)
        return 0;
    struct auth_request *r = request_find(c, l->id);
    if (r == NULL)
        return 0; /* aborted or timed out: its answer comes late */
    struct auth_result result = {0};
    result.user = l->user;
    if (l->cmd == AUTH_SERVER_CONT) {
        result.kind = AUTH_RESULT_CONT;
        result.challenge = l->data;
        event_timer_start(c->loop, &r->timer, c->timeout_ms);
        r->cb(r->ctx, &result);
        return 0;
    }
    if (l->cmd == AUTH_SERVER_OK) {
        result.kind = AUTH_RESULT_OK;
        result.fields = &l->line;
    } else {
        result.kind = l->temp ? AUTH_RESULT_TEMP : AUTH_RESULT_FAIL;
        result.reason = l->reason;
    }
    request_end(r, &result);
    return 0;
}

static void on_readable(struct auth_client *c)
{
    for (;;) {
        buf_reserve(&c->in, 4096);
        ssize_t n = read(c->fd, c->in.data + c->in.len, 4096);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            if (n < 0)
                log_warn("SASL: read from auth socket %s: %s", c->path,
                         strerror(errno));
            else
                log_warn("SASL: auth socket %s: connection closed by the "
                         "server",
                         c->path);
            conn_fail(c, LOST_REASON);
            return;
        }
        c->in.len += (size_t)n;
        size_t start = 0;
        for (;;) {
            char *lf = memchr(c->in.data + start, '\n', c->in.len - start);
            if (lf == NULL)
                break;
            size_t len = (size_t)(lf - (c->in.data + start));
            /* handle_line may end the connection (and reset c->in). */
            int fd = c->fd;
            if (handle_line(c, c->in.data + start, len) < 0 || c->fd != fd)
                return;
            start += len + 1;
        }
        buf_consume(&c->in, start);
        if (c->in.len > AUTH_LINE_MAX) {
            log_warn("SASL: line too long from auth socket %s", c->path);
            conn_fail(c, LOST_REASON);
            return;
        }
    }
}

static void on_fd(struct event_loop *loop, int fd, unsigned events, void *ctx)
{
    (void)loop;
    (void)fd;
    struct auth_client *c = ctx;
    if (events & EVENT_WRITE)
        conn_flush(c);
    if (events & (EVENT_READ | EVENT_ERROR))
        on_readable(c);
}

/* Every request and wait in flight fails; the connection is closed. The
 * lists are taken first: callbacks may start new requests, which then
 * make a new connection. */
static void conn_fail(struct auth_client *c, const char *reason)
{
    close_fd(c);
    buf_reset(&c->held);
    c->state = CONN_DOWN;
    c->got_version = 0;
    event_timer_stop(c->loop, &c->conn_timer);
    struct auth_request *requests = c->requests;
    struct auth_wait *waits = c->waits;
    c->requests = NULL;
    c->waits = NULL;
    while (requests) {
        struct auth_request *r = requests;
        requests = r->next;
        r->next = NULL;
        struct auth_result result = {AUTH_RESULT_TEMP, NULL, NULL, reason, NULL};
        event_timer_stop(c->loop, &r->timer);
        r->cb(r->ctx, &result);
        request_free(r);
    }
    while (waits) {
        struct auth_wait *w = waits;
        waits = w->next;
        w->next = NULL;
        w->linked = 0;
        w->cb(w->ctx, 0);
    }
}

static void on_conn_timer(struct event_loop *loop, void *ctx)
{
    (void)loop;
    struct auth_client *c = ctx;
    if (c->state == CONN_FAILING) {
        conn_fail(c, CONNECT_REASON);
        return;
    }
    log_warn("SASL: auth socket %s: no handshake in time", c->path);
    conn_fail(c, LOST_REASON);
}

/* Connects when there is no connection. A failure is logged and
 * delivered from the loop (CONN_FAILING), never from inside the call. */
static void conn_start(struct auth_client *c)
{
    if (c->state != CONN_DOWN)
        return;
    mechs_clear(c);
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    int fd = -1;
    if (strlen(c->path) >= sizeof(sun.sun_path)) {
        log_warn("SASL: auth socket path too long: %s", c->path);
    } else {
        memcpy(sun.sun_path, c->path, strlen(c->path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
            log_warn("SASL: Connect to auth socket '%s' failed: %s", c->path,
                     strerror(errno));
            close(fd);
            fd = -1;
        } else if (fd < 0) {
            log_warn("SASL: socket: %s", strerror(errno));
        }
    }
    if (fd < 0 || event_fd_add(c->loop, fd, EVENT_READ, on_fd, c) < 0) {
        if (fd >= 0)
            close(fd);
        c->state = CONN_FAILING;
        event_timer_start(c->loop, &c->conn_timer, 0);
        return;
    }
    c->fd = fd;
    c->state = CONN_HANDSHAKE;
    c->got_version = 0;
    buf_appendf(&c->out, "VERSION\t%d\t%d\nCPID\t%ld\n", AUTH_CLIENT_MAJOR,
                AUTH_CLIENT_MINOR, (long)getpid());
    event_timer_start(c->loop, &c->conn_timer, c->timeout_ms);
    conn_flush(c);
}

struct auth_client *auth_client_new(struct event_loop *loop, const char *path,
                                    const char *service, uint64_t timeout_ms)
{
    struct auth_client *c = xcalloc(1, sizeof(*c));
    c->loop = loop;
    c->path = xstrdup(path);
    c->service = xstrdup(service);
    c->timeout_ms = timeout_ms;
    c->fd = -1;
    c->state = CONN_DOWN;
    c->next_id = 1;
    buf_init(&c->in);
    buf_init(&c->out);
    buf_init(&c->held);
    event_timer_init(&c->conn_timer, on_conn_timer, c);
    c->reply = (struct auth_server_line)AUTH_SERVER_LINE_INIT;
    return c;
}

void auth_client_free(struct auth_client *c)
{
    if (c == NULL)
        return;
    close_fd(c);
    event_timer_stop(c->loop, &c->conn_timer);
    while (c->requests) {
        struct auth_request *r = c->requests;
        c->requests = r->next;
        request_free(r);
    }
    for (struct auth_wait *w = c->waits; w; w = w->next)
        w->linked = 0;
    mechs_clear(c);
    buf_free(&c->in);
    buf_free(&c->out);
    buf_free(&c->held);
    auth_server_line_free(&c->reply);
    free(c->path);
    free(c->service);
    free(c);
}

int auth_client_ready(const struct auth_client *c)
{
    return c->state == CONN_READY;
}

int auth_client_wait_ready(struct auth_client *c, struct auth_wait *w,
                           void (*cb)(void *ctx, int ready), void *ctx)
{
    if (c->state == CONN_READY)
        return 1;
    auth_client_wait_cancel(c, w);
    w->cb = cb;
    w->ctx = ctx;
    w->next = c->waits;
    w->linked = 1;
    c->waits = w;
    conn_start(c);
    return 0;
}

void auth_client_wait_cancel(struct auth_client *c, struct auth_wait *w)
{
    if (!w->linked)
        return;
    for (struct auth_wait **p = &c->waits; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    w->next = NULL;
    w->linked = 0;
}

size_t auth_client_mech_count(const struct auth_client *c)
{
    return c->mech_count;
}

const struct auth_mech *auth_client_mech(const struct auth_client *c,
                                         size_t index)
{
    return index < c->mech_count ? &c->mechs[index] : NULL;
}

const struct auth_mech *auth_client_mech_find(const struct auth_client *c,
                                              const char *name)
{
    for (size_t i = 0; i < c->mech_count; i++)
        if (strcasecmp(c->mechs[i].name, name) == 0)
            return &c->mechs[i];
    return NULL;
}

static void on_request_timer(struct event_loop *loop, void *ctx)
{
    (void)loop;
    struct auth_request *r = ctx;
    log_warn("SASL: auth socket %s: no answer to request %u in time",
             r->client->path, r->id);
    struct auth_result result = {AUTH_RESULT_TEMP, NULL, NULL, TIMEOUT_REASON,
                                 NULL};
    request_end(r, &result);
}

/* Sends line (ending in LF) now, or after the handshake. */
static void send_line(struct auth_client *c, const struct buf *line)
{
    if (c->state == CONN_READY) {
        buf_append(&c->out, line->data, line->len);
        conn_flush(c);
    } else {
        buf_append(&c->held, line->data, line->len);
    }
}

struct auth_request *auth_client_request(struct auth_client *c,
                                         const struct auth_request_info *info,
                                         auth_request_cb cb, void *ctx)
{
    struct auth_request *r = xcalloc(1, sizeof(*r));
    r->client = c;
    r->cb = cb;
    r->ctx = ctx;
    r->id = c->next_id++;
    if (c->next_id == 0)
        c->next_id = 1;
    event_timer_init(&r->timer, on_request_timer, r);

    struct buf line = BUF_INIT;
    buf_appendf(&line, "AUTH\t%u", r->id);
    auth_line_add(&line, info->mech);
    auth_line_add_param(&line, "service", c->service);
    /* As Postfix: a SASL exchange only, never a master login. */
    auth_line_add(&line, "nologin");
    if (info->local_ip && *info->local_ip)
        auth_line_add_param(&line, "lip", info->local_ip);
    if (info->remote_ip && *info->remote_ip)
        auth_line_add_param(&line, "rip", info->remote_ip);
    if (info->local_port && *info->local_port)
        auth_line_add_param(&line, "lport", info->local_port);
    if (info->remote_port && *info->remote_port)
        auth_line_add_param(&line, "rport", info->remote_port);
    if (info->secured)
        auth_line_add(&line, "secured");
    if (info->initial_response)
        auth_line_add_param(&line, "resp", info->initial_response);
    buf_append_char(&line, '\n');

    conn_start(c);
    r->next = c->requests;
    c->requests = r;
    if (c->state != CONN_FAILING) {
        send_line(c, &line);
        event_timer_start(c->loop, &r->timer, c->timeout_ms);
    }
    /* else: it fails with the connection, from the loop. */
    buf_free(&line);
    return r;
}

int auth_request_continue(struct auth_request *r, const char *data)
{
    if (!auth_base64_valid(data))
        return -1;
    struct auth_client *c = r->client;
    struct buf line = BUF_INIT;
    buf_appendf(&line, "CONT\t%u", r->id);
    auth_line_add(&line, data);
    buf_append_char(&line, '\n');
    event_timer_start(c->loop, &r->timer, c->timeout_ms);
    send_line(c, &line);
    buf_free(&line);
    return 0;
}

void auth_request_abort(struct auth_request *r)
{
    if (r == NULL)
        return;
    request_unlink(r);
    request_free(r);
}
