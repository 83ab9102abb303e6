/* attr.c: attribute request/reply messages, their wire format, and a
 * blocking unix-socket client (attr.h, docs/ipc.md). */
#include "ipc/attr.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"

#define ATTR_PROTO_MAX 32
#define ATTR_NAME_MAX 64
/* Decimal digits in a length or number field. */
#define ATTR_DIGITS_MAX 20

const struct attr_limits attr_default_limits = {
    .max_attrs = 128,
    .max_name = ATTR_NAME_MAX,
    .max_value = 64 * 1024,
    .max_message = 1024 * 1024,
};

struct attr_msg {
    char *proto;
    unsigned version;
    struct attr *items;
    size_t count, cap;
};

/* ---- messages ---- */

static int proto_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static int name_char(char c)
{
    return proto_char(c) || (c >= 'A' && c <= 'Z') || c == '.';
}

static int valid_token(const char *s, size_t len, size_t max, int (*ok)(char))
{
    if (len == 0 || len > max)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!ok(s[i]))
            return 0;
    return 1;
}

struct attr_msg *attr_msg_new(const char *proto, unsigned version)
{
    if (!valid_token(proto, strlen(proto), ATTR_PROTO_MAX, proto_char) ||
        version == 0)
        log_panic("attr_msg_new: bad protocol \"%s\" version %u", proto,
                  version);
    struct attr_msg *msg = xcalloc(1, sizeof(*msg));
    msg->proto = xstrdup(proto);
    msg->version = version;
    return msg;
}

void attr_msg_free(struct attr_msg *msg)
{
    if (!msg)
        return;
    for (size_t i = 0; i < msg->count; i++) {
        free(msg->items[i].name);
        free(msg->items[i].value);
    }
    free(msg->items);
    free(msg->proto);
    free(msg);
}

const char *attr_msg_proto(const struct attr_msg *msg)
{
    return msg->proto;
}

unsigned attr_msg_version(const struct attr_msg *msg)
{
    return msg->version;
}

size_t attr_msg_count(const struct attr_msg *msg)
{
    return msg->count;
}

const struct attr *attr_msg_item(const struct attr_msg *msg, size_t index)
{
    return index < msg->count ? &msg->items[index] : NULL;
}

static struct attr *lookup(const struct attr_msg *msg, const char *name,
                           size_t name_len)
{
    for (size_t i = 0; i < msg->count; i++)
        if (strlen(msg->items[i].name) == name_len &&
            memcmp(msg->items[i].name, name, name_len) == 0)
            return &msg->items[i];
    return NULL;
}

static struct attr *append(struct attr_msg *msg, const char *name,
                           size_t name_len)
{
    if (msg->count == msg->cap) {
        msg->cap = msg->cap ? msg->cap * 2 : 8;
        msg->items = xreallocarray(msg->items, msg->cap, sizeof(*msg->items));
    }
    struct attr *a = &msg->items[msg->count++];
    memset(a, 0, sizeof(*a));
    a->name = xstrndup(name, name_len);
    return a;
}

static struct attr *add_checked(struct attr_msg *msg, const char *name)
{
    size_t len = strlen(name);
    if (!valid_token(name, len, ATTR_NAME_MAX, name_char))
        log_panic("attr: bad attribute name \"%s\"", name);
    if (lookup(msg, name, len))
        log_panic("attr: duplicate attribute \"%s\"", name);
    return append(msg, name, len);
}

void attr_add_bytes(struct attr_msg *msg, const char *name, const void *data,
                    size_t len)
{
    struct attr *a = add_checked(msg, name);
    a->type = ATTR_STR;
    a->value = xmemdup(data, len);
    a->value_len = len;
}

void attr_add_str(struct attr_msg *msg, const char *name, const char *value)
{
    attr_add_bytes(msg, name, value, strlen(value));
}

void attr_add_num(struct attr_msg *msg, const char *name, long long value)
{
    struct attr *a = add_checked(msg, name);
    a->type = ATTR_NUM;
    a->num = value;
}

const struct attr *attr_find(struct attr_msg *msg, const char *name)
{
    struct attr *a = lookup(msg, name, strlen(name));
    if (a)
        a->used = 1;
    return a;
}

int attr_get_str(struct attr_msg *msg, const char *name, const char **value,
                 size_t *len, struct buf *err)
{
    const struct attr *a = attr_find(msg, name);
    if (!a) {
        buf_appendf(err, "missing attribute %s", name);
        return -1;
    }
    if (a->type != ATTR_STR) {
        buf_appendf(err, "attribute %s is not a string", name);
        return -1;
    }
    if (!len && memchr(a->value, '\0', a->value_len)) {
        buf_appendf(err, "attribute %s contains a NUL byte", name);
        return -1;
    }
    *value = a->value;
    if (len)
        *len = a->value_len;
    return 0;
}

int attr_get_num(struct attr_msg *msg, const char *name, long long *value,
                 struct buf *err)
{
    const struct attr *a = attr_find(msg, name);
    if (!a) {
        buf_appendf(err, "missing attribute %s", name);
        return -1;
    }
    if (a->type != ATTR_NUM) {
        buf_appendf(err, "attribute %s is not a number", name);
        return -1;
    }
    *value = a->num;
    return 0;
}

const char *attr_opt_str(struct attr_msg *msg, const char *name,
                         const char *fallback)
{
    const struct attr *a = attr_find(msg, name);
    if (!a)
        return fallback;
    if (a->type != ATTR_STR || memchr(a->value, '\0', a->value_len))
        return NULL;
    return a->value;
}

int attr_check_proto(const struct attr_msg *msg, const char *proto,
                     unsigned version, struct buf *err)
{
    if (strcmp(msg->proto, proto) != 0 || msg->version != version) {
        buf_appendf(err, "protocol %s/%u, expected %s/%u", msg->proto,
                    msg->version, proto, version);
        return -1;
    }
    return 0;
}

int attr_check_all_used(const struct attr_msg *msg, struct buf *err)
{
    for (size_t i = 0; i < msg->count; i++) {
        if (!msg->items[i].used) {
            buf_appendf(err, "unexpected attribute %s", msg->items[i].name);
            return -1;
        }
    }
    return 0;
}

/* ---- encoding ---- */

void attr_encode(const struct attr_msg *msg, struct buf *out)
{
    buf_appendf(out, "@%s/%u\n", msg->proto, msg->version);
    for (size_t i = 0; i < msg->count; i++) {
        const struct attr *a = &msg->items[i];
        if (a->type == ATTR_NUM) {
            buf_appendf(out, "n %s %lld\n", a->name, a->num);
        } else {
            buf_appendf(out, "s %s %zu\n", a->name, a->value_len);
            buf_append(out, a->value, a->value_len);
            buf_append_char(out, '\n');
        }
    }
    buf_append_str(out, ".\n");
}

/* ---- decoding ---- */

struct cursor {
    const char *data;
    size_t len, pos;
    size_t max_message;
};

/* Finds the line at the cursor, of at most max bytes before its LF.
 * ATTR_OK with *line and *line_len (LF excluded, cursor moved past it). */
static enum attr_status next_line(struct cursor *c, size_t max,
                                  const char **line, size_t *line_len,
                                  struct buf *err, const char *what)
{
    size_t avail = c->len - c->pos;
    size_t look = avail < max + 1 ? avail : max + 1;
    const char *start = c->data + c->pos;
    const char *lf = memchr(start, '\n', look);
    if (!lf) {
        if (avail > max) {
            buf_appendf(err, "%s line too long", what);
            return ATTR_MALFORMED;
        }
        return ATTR_AGAIN;
    }
    *line = start;
    *line_len = (size_t)(lf - start);
    c->pos += *line_len + 1;
    return ATTR_OK;
}

/* Parses a decimal field: unsigned when negative_ok is 0. No leading
 * zeros (one canonical form), no sign on zero. */
static int parse_decimal(const char *s, size_t len, int negative_ok,
                         long long *out)
{
    int negative = 0;
    if (len > 0 && s[0] == '-' && negative_ok) {
        negative = 1;
        s++, len--;
    }
    if (len == 0 || len > 19 || (s[0] == '0' && (len > 1 || negative)))
        return -1;
    unsigned long long value = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        value = value * 10 + (unsigned)(s[i] - '0');
    }
    if (value > (unsigned long long)INT64_MAX + (negative ? 1 : 0))
        return -1;
    *out = negative ? (long long)(0 - value) : (long long)value;
    return 0;
}

/* Splits "NAME FIELD" (after the type and its space). */
static int split_name(const char *line, size_t len, size_t max_name,
                      const char **name, size_t *name_len, const char **field,
                      size_t *field_len)
{
    const char *space = memchr(line, ' ', len);
    if (!space)
        return -1;
    *name = line;
    *name_len = (size_t)(space - line);
    *field = space + 1;
    *field_len = len - *name_len - 1;
    return valid_token(*name, *name_len, max_name, name_char) ? 0 : -1;
}

static enum attr_status decode_body(struct cursor *c,
                                    const struct attr_limits *lim,
                                    struct attr_msg *msg, struct buf *err)
{
    for (;;) {
        const char *line;
        size_t line_len;
        enum attr_status st = next_line(c, 3 + lim->max_name + ATTR_DIGITS_MAX,
                                        &line, &line_len, err, "attribute");
        if (st != ATTR_OK)
            return st;
        if (line_len == 1 && line[0] == '.')
            return ATTR_OK;
        if (line_len < 3 || (line[0] != 's' && line[0] != 'n') ||
            line[1] != ' ') {
            buf_appendf(err, "bad attribute line");
            return ATTR_MALFORMED;
        }
        const char *name, *field;
        size_t name_len, field_len;
        long long number;
        if (split_name(line + 2, line_len - 2, lim->max_name, &name, &name_len,
                       &field, &field_len) < 0) {
            buf_appendf(err, "bad attribute name");
            return ATTR_MALFORMED;
        }
        if (lookup(msg, name, name_len)) {
            buf_appendf(err, "duplicate attribute %.*s", (int)name_len, name);
            return ATTR_MALFORMED;
        }
        if (msg->count >= lim->max_attrs) {
            buf_appendf(err, "more than %zu attributes", lim->max_attrs);
            return ATTR_MALFORMED;
        }
        if (parse_decimal(field, field_len, line[0] == 'n', &number) < 0) {
            buf_appendf(err, "bad %s for attribute %.*s",
                        line[0] == 'n' ? "number" : "length", (int)name_len,
                        name);
            return ATTR_MALFORMED;
        }
        if (line[0] == 'n') {
            struct attr *a = append(msg, name, name_len);
            a->type = ATTR_NUM;
            a->num = number;
            continue;
        }
        size_t value_len = (size_t)number;
        if (value_len > lim->max_value) {
            buf_appendf(err, "attribute %.*s longer than %zu bytes",
                        (int)name_len, name, lim->max_value);
            return ATTR_MALFORMED;
        }
        if (c->len - c->pos < value_len + 1)
            return ATTR_AGAIN;
        if (c->data[c->pos + value_len] != '\n') {
            buf_appendf(err, "attribute %.*s: value not followed by newline",
                        (int)name_len, name);
            return ATTR_MALFORMED;
        }
        struct attr *a = append(msg, name, name_len);
        a->type = ATTR_STR;
        a->value = xmemdup(c->data + c->pos, value_len);
        a->value_len = value_len;
        c->pos += value_len + 1;
    }
}

enum attr_status attr_decode(const char *data, size_t len,
                             const struct attr_limits *limits,
                             struct attr_msg **out, size_t *used,
                             struct buf *err)
{
    const struct attr_limits *lim = limits ? limits : &attr_default_limits;
    struct cursor c = {data, len, 0, lim->max_message};
    const char *line;
    size_t line_len;
    *out = NULL;
    *used = 0;
    /* Only look as far as a message may reach. */
    if (c.len > lim->max_message)
        c.len = lim->max_message;

    enum attr_status st = next_line(&c, 1 + ATTR_PROTO_MAX + 1 + 10, &line,
                                    &line_len, err, "header");
    if (st != ATTR_OK)
        goto incomplete;
    const char *slash = line_len > 0 ? memchr(line, '/', line_len) : NULL;
    long long version;
    if (line[0] != '@' || !slash ||
        !valid_token(line + 1, (size_t)(slash - line) - 1, ATTR_PROTO_MAX,
                     proto_char) ||
        parse_decimal(slash + 1, line_len - (size_t)(slash - line) - 1, 0,
                      &version) < 0 ||
        version < 1 || version > UINT32_MAX) {
        buf_appendf(err, "bad message header");
        return ATTR_MALFORMED;
    }
    struct attr_msg *msg = xcalloc(1, sizeof(*msg));
    msg->proto = xstrndup(line + 1, (size_t)(slash - line) - 1);
    msg->version = (unsigned)version;
    st = decode_body(&c, lim, msg, err);
    if (st != ATTR_OK) {
        attr_msg_free(msg);
        goto incomplete;
    }
    *out = msg;
    *used = c.pos;
    return ATTR_OK;

incomplete:
    if (st == ATTR_AGAIN && len >= lim->max_message) {
        buf_appendf(err, "message longer than %zu bytes", lim->max_message);
        return ATTR_MALFORMED;
    }
    return st;
}

/* ---- streams ---- */

static uint64_t clock_ms(void);

/* One message is one operation: the stream's timeout bounds the whole
 * read, so a peer cannot stretch it by sending a byte at a time. */
static enum attr_status read_message(struct stream *s,
                                     const struct attr_limits *limits,
                                     struct attr_msg **out, struct buf *err,
                                     int timeout)
{
    uint64_t deadline = timeout >= 0 ? clock_ms() + (uint64_t)timeout : 0;
    for (;;) {
        size_t avail, used;
        const char *data = stream_peek(s, &avail);
        if (avail > 0) {
            enum attr_status st =
                attr_decode(data, avail, limits, out, &used, err);
            if (st == ATTR_OK)
                stream_consume(s, used);
            if (st != ATTR_AGAIN)
                return st;
        }
        if (deadline) {
            uint64_t now = clock_ms();
            if (now >= deadline)
                return ATTR_TIMEOUT;
            stream_set_timeout(s, (int)(deadline - now));
        }
        switch (stream_fill(s)) {
        case STREAM_OK:
            continue;
        case STREAM_AGAIN:
            return ATTR_AGAIN;
        case STREAM_EOF:
            if (avail == 0)
                return ATTR_EOF;
            buf_appendf(err, "message cut short by end of stream");
            return ATTR_MALFORMED;
        case STREAM_TIMEOUT:
            return ATTR_TIMEOUT;
        default:
            return ATTR_IO_ERROR;
        }
    }
}

enum attr_status attr_read(struct stream *s, const struct attr_limits *limits,
                           struct attr_msg **out, struct buf *err)
{
    int timeout = stream_timeout(s);
    *out = NULL;
    enum attr_status st = read_message(s, limits, out, err, timeout);
    stream_set_timeout(s, timeout);
    return st;
}

enum attr_status attr_write(struct stream *s, const struct attr_msg *msg)
{
    struct buf wire = BUF_INIT;
    attr_encode(msg, &wire);
    stream_write(s, wire.data, wire.len);
    buf_free(&wire);
    switch (stream_flush(s)) {
    case STREAM_OK:
        return ATTR_OK;
    case STREAM_AGAIN:
        return ATTR_AGAIN;
    case STREAM_TIMEOUT:
        return ATTR_TIMEOUT;
    default:
        return ATTR_IO_ERROR;
    }
}

const char *attr_status_name(enum attr_status status)
{
    switch (status) {
    case ATTR_OK:
        return "ok";
    case ATTR_AGAIN:
        return "again";
    case ATTR_EOF:
        return "end of stream";
    case ATTR_TIMEOUT:
        return "timeout";
    case ATTR_IO_ERROR:
        return "I/O error";
    case ATTR_MALFORMED:
        return "malformed message";
    }
    return "unknown";
}

/* ---- client ---- */

static uint64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int ms_left(uint64_t deadline)
{
    uint64_t now = clock_ms();
    return now >= deadline ? 0 : (int)(deadline - now);
}

int attr_connect(const char *path, int timeout_ms, struct buf *err)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        buf_appendf(err, "socket path too long: %s", path);
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path));
    uint64_t deadline =
        clock_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int saved = errno;
        buf_appendf(err, "socket: %s", strerror(saved));
        errno = saved;
        return -1;
    }
    for (;;) {
        if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
            break;
        /* A full backlog gives EAGAIN on unix sockets: retry a little. */
        if (errno == EAGAIN || errno == EINTR) {
            if (ms_left(deadline) == 0) {
                buf_appendf(err, "connect to %s: timed out", path);
                close(fd);
                errno = ETIMEDOUT;
                return -1;
            }
            poll(NULL, 0, 10);
            continue;
        }
        if (errno == EINPROGRESS) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            int soerr = 0;
            socklen_t soerr_len = sizeof(soerr);
            if (poll(&pfd, 1, ms_left(deadline)) <= 0) {
                buf_appendf(err, "connect to %s: timed out", path);
                close(fd);
                errno = ETIMEDOUT;
                return -1;
            }
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &soerr_len);
            if (soerr == 0)
                break;
            errno = soerr;
        }
        int saved = errno;
        buf_appendf(err, "connect to %s: %s", path, strerror(saved));
        close(fd);
        errno = saved;
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}

int attr_call(const char *path, int timeout_ms, const struct attr_msg *request,
              const struct attr_limits *limits, struct attr_msg **reply,
              struct buf *err)
{
    uint64_t deadline =
        clock_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
    *reply = NULL;
    int fd = attr_connect(path, timeout_ms, err);
    if (fd < 0)
        return -1;
    struct stream *s = stream_open(fd);
    stream_set_timeout(s, ms_left(deadline));
    enum attr_status st = attr_write(s, request);
    if (st == ATTR_OK) {
        struct buf why = BUF_INIT;
        stream_set_timeout(s, ms_left(deadline));
        st = attr_read(s, limits, reply, &why);
        if (st == ATTR_MALFORMED)
            buf_appendf(err, "reply from %s: %s", path, buf_cstr(&why));
        else if (st == ATTR_EOF)
            buf_appendf(err, "reply from %s: connection closed", path);
        else if (st != ATTR_OK)
            buf_appendf(err, "reply from %s: %s", path, attr_status_name(st));
        buf_free(&why);
    } else {
        buf_appendf(err, "request to %s: %s", path, attr_status_name(st));
    }
    stream_close(s);
    return st == ATTR_OK ? 0 : -1;
}
