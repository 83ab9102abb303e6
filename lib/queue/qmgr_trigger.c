/* qmgr_trigger.c: trigger requests to qmgr (see qmgr_trigger.h). */
#include "queue/qmgr_trigger.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ipc/attr.h"
#include "queue/qid.h"
#include "base/stream.h"

void qmgr_trigger_path(struct buf *out, const char *queue_directory)
{
    buf_reset(out);
    buf_appendf(out, "%s/public/qmgr", queue_directory);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum qmgr_trigger_result qmgr_trigger_send(const char *queue_directory,
                                           const void *request, size_t len,
                                           int timeout_ms, struct buf *err)
{
    struct buf path = BUF_INIT;
    qmgr_trigger_path(&path, queue_directory);
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    enum qmgr_trigger_result result = QMGR_TRIGGER_ERROR;
    int fd = -1;
    if (path.len >= sizeof(addr.sun_path)) {
        buf_appendf(err, "%s: socket path too long", buf_cstr(&path));
        goto out;
    }
    memcpy(addr.sun_path, path.data, path.len);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        buf_appendf(err, "socket: %s", strerror(errno));
        goto out;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int saved = errno;
        if (saved == ENOENT || saved == ECONNREFUSED || saved == ENOTSOCK) {
            result = QMGR_TRIGGER_DOWN;
            buf_appendf(err, "connect to %s: %s", buf_cstr(&path),
                        strerror(saved));
        } else if (saved == EAGAIN) {
            result = QMGR_TRIGGER_BUSY; /* backlog full: qmgr has work */
            buf_appendf(err, "connect to %s: busy", buf_cstr(&path));
        } else {
            buf_appendf(err, "connect to %s: %s", buf_cstr(&path),
                        strerror(saved));
        }
        goto out;
    }
    const char *bytes = request;
    size_t done = 0;
    long deadline = now_ms() + timeout_ms;
    while (done < len) {
        ssize_t wrote = send(fd, bytes + done, len - done, MSG_NOSIGNAL);
        if (wrote > 0) {
            done += (size_t)wrote;
            continue;
        }
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote < 0 && errno == EAGAIN) {
            long left = deadline - now_ms();
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            if (left > 0 && poll(&pfd, 1, (int)left) >= 0)
                continue;
            result = QMGR_TRIGGER_BUSY;
            buf_appendf(err, "write to %s: timed out", buf_cstr(&path));
            goto out;
        }
        buf_appendf(err, "write to %s: %s", buf_cstr(&path),
                    wrote < 0 ? strerror(errno) : "no progress");
        result = wrote < 0 && errno == EPIPE ? QMGR_TRIGGER_DOWN
                                             : QMGR_TRIGGER_ERROR;
        goto out;
    }
    result = QMGR_TRIGGER_OK;
out:
    if (fd >= 0)
        close(fd);
    buf_free(&path);
    return result;
}

#define QMGR_REPLY_PROTO "qmgr"
#define QMGR_REPLY_VERSION 1

void qmgr_trigger_refusal_encode(struct buf *out, const char *user, long uid,
                                 const char *reason)
{
    struct attr_msg *msg = attr_msg_new(QMGR_REPLY_PROTO, QMGR_REPLY_VERSION);
    if (user) {
        attr_add_str(msg, "status", "refused");
        attr_add_str(msg, "user", user);
        attr_add_num(msg, "uid", uid);
    } else {
        attr_add_str(msg, "status", "error");
        attr_add_str(msg, "reason", reason ? reason : "unknown error");
    }
    attr_encode(msg, out);
    attr_msg_free(msg);
}

/* The answer is one small message. */
static const struct attr_limits reply_limits = {
    .max_attrs = 8,
    .max_name = 64,
    .max_value = 1024,
    .max_message = 4096,
};

static enum qmgr_trigger_result
read_answer(struct stream *s, const char *path,
            struct qmgr_trigger_refusal *refusal, struct buf *err)
{
    struct attr_msg *msg = NULL;
    struct buf why = BUF_INIT;
    enum attr_status st = attr_read(s, &reply_limits, &msg, &why);
    enum qmgr_trigger_result result = QMGR_TRIGGER_ERROR;
    const char *status, *text;
    long long uid;
    switch (st) {
    case ATTR_EOF:
        result = QMGR_TRIGGER_OK; /* taken */
        break;
    case ATTR_TIMEOUT:
        buf_appendf(err, "%s: no answer in time", path);
        result = QMGR_TRIGGER_BUSY;
        break;
    case ATTR_OK:
        if (attr_check_proto(msg, QMGR_REPLY_PROTO, QMGR_REPLY_VERSION, err) <
                0 ||
            attr_get_str(msg, "status", &status, NULL, err) < 0)
            break;
        if (strcmp(status, "refused") == 0) {
            if (attr_get_str(msg, "user", &text, NULL, err) < 0 ||
                attr_get_num(msg, "uid", &uid, err) < 0)
                break;
            buf_reset(&refusal->user);
            buf_append_str(&refusal->user, text);
            refusal->uid = (long)uid;
            result = QMGR_TRIGGER_REFUSED;
        } else {
            text = attr_opt_str(msg, "reason", NULL);
            buf_appendf(err, "%s", text ? text : "qmgr refused the request");
        }
        break;
    default:
        buf_appendf(err, "answer from %s: %s", path,
                    st == ATTR_MALFORMED ? buf_cstr(&why)
                                         : attr_status_name(st));
        break;
    }
    attr_msg_free(msg);
    buf_free(&why);
    return result;
}

enum qmgr_trigger_result
qmgr_trigger_request(const char *queue_directory, const void *request,
                     size_t len, int timeout_ms,
                     struct qmgr_trigger_refusal *refusal, struct buf *err)
{
    struct buf path = BUF_INIT;
    qmgr_trigger_path(&path, queue_directory);
    int fd = attr_connect(buf_cstr(&path), timeout_ms, err);
    if (fd < 0) {
        int saved = errno;
        buf_free(&path);
        if (saved == ENOENT || saved == ECONNREFUSED || saved == ENOTSOCK ||
            saved == ENOTDIR)
            return QMGR_TRIGGER_DOWN;
        return saved == ETIMEDOUT ? QMGR_TRIGGER_BUSY : QMGR_TRIGGER_ERROR;
    }
    struct stream *s = stream_open(fd);
    stream_set_timeout(s, timeout_ms);
    stream_write(s, request, len);
    enum qmgr_trigger_result result;
    enum stream_status st = stream_flush(s);
    if (st == STREAM_TIMEOUT) {
        buf_appendf(err, "write to %s: timed out", buf_cstr(&path));
        result = QMGR_TRIGGER_BUSY;
    } else if (st != STREAM_OK) {
        buf_appendf(err, "write to %s: %s", buf_cstr(&path),
                    strerror(stream_errno(s)));
        result = QMGR_TRIGGER_ERROR;
    } else {
        /* End of the request: qmgr's skeleton reads until EOF. */
        shutdown(fd, SHUT_WR);
        result = read_answer(s, buf_cstr(&path), refusal, err);
    }
    stream_close(s);
    buf_free(&path);
    return result;
}

static int with_argument(struct buf *out, char letter, const char *arg)
{
    buf_reset(out);
    size_t len = arg ? strlen(arg) : 0;
    if (len == 0 || len > QMGR_TRIGGER_MAX_ARG)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)arg[i];
        if (c <= 0x20 || c >= 0x7f)
            return -1;
    }
    buf_append_char(out, letter);
    buf_append(out, arg, len);
    buf_append_char(out, QMGR_TRIGGER_END);
    return 0;
}

int qmgr_trigger_site(struct buf *out, const char *site)
{
    return with_argument(out, QMGR_TRIGGER_SITE, site);
}

int qmgr_trigger_message(struct buf *out, const char *qid)
{
    if (!qid_valid(qid)) {
        buf_reset(out);
        return -1;
    }
    return with_argument(out, QMGR_TRIGGER_MESSAGE, qid);
}
