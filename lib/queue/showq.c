/* showq.c: the showq/1 records, sent by the showq daemon and read by
 * postqueue and mailq (showq.h, docs/ipc.md). */
#include "queue/showq.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/attr.h"
#include "base/mem.h"
#include "queue/qid.h"

void showq_path(struct buf *out, const char *queue_directory)
{
    buf_reset(out);
    buf_appendf(out, "%s/public/showq", queue_directory);
}

/* ---- server side ---- */

static struct attr_msg *record(const char *type)
{
    struct attr_msg *msg = attr_msg_new(SHOWQ_PROTO, SHOWQ_VERSION);
    attr_add_str(msg, "record", type);
    return msg;
}

/* Appends msg to the stream's output and frees it. */
static void put(struct stream *s, struct attr_msg *msg)
{
    struct buf wire = BUF_INIT;
    attr_encode(msg, &wire);
    stream_write(s, wire.data, wire.len);
    buf_free(&wire);
    attr_msg_free(msg);
}

void showq_send_ok(struct stream *s)
{
    struct attr_msg *msg = record("status");
    attr_add_str(msg, "status", "ok");
    put(s, msg);
}

void showq_send_refused(struct stream *s, const char *user, long uid)
{
    struct attr_msg *msg = record("status");
    attr_add_str(msg, "status", "refused");
    attr_add_str(msg, "user", user);
    attr_add_num(msg, "uid", uid);
    put(s, msg);
}

void showq_send_error(struct stream *s, const char *reason)
{
    struct attr_msg *msg = record("status");
    attr_add_str(msg, "status", "error");
    attr_add_str(msg, "reason", reason);
    put(s, msg);
}

void showq_send_entry(struct stream *s, const struct queue_list_entry *entry)
{
    struct attr_msg *msg = record("message");
    const char *queue = queue_dir_name(entry->queue);
    attr_add_str(msg, "queue_name", queue ? queue : "");
    attr_add_str(msg, "queue_id", entry->queue_id);
    attr_add_num(msg, "arrival_time", (long long)entry->arrival_time);
    attr_add_num(msg, "message_size", (long long)entry->message_size);
    attr_add_str(msg, "sender", entry->sender);
    attr_add_num(msg, "recipients", (long long)entry->recipient_count);
    put(s, msg);
    for (size_t i = 0; i < entry->recipient_count; i++) {
        const struct queue_list_recipient *rcpt = &entry->recipients[i];
        msg = record("recipient");
        attr_add_str(msg, "address", rcpt->address);
        if (rcpt->delay_reason && *rcpt->delay_reason)
            attr_add_str(msg, "delay_reason", rcpt->delay_reason);
        put(s, msg);
    }
}

void showq_send_end(struct stream *s, const char *error)
{
    struct attr_msg *msg = record("end");
    if (error)
        attr_add_str(msg, "error", error);
    put(s, msg);
}

/* ---- client side ---- */

/* Records are small: an address or a reason is at most a few KiB
 * (QFILE_MAX_TEXT, DEFER_LOG_MAX_TEXT). */
static const struct attr_limits showq_limits = {
    .max_attrs = 16,
    .max_name = 64,
    .max_value = 64 * 1024,
    .max_message = 256 * 1024,
};

/* Reads the next record: its type in *type (owned by *msg), or -1 with
 * err. */
static int next_record(struct stream *s, struct attr_msg **msg,
                       const char **type, struct buf *err)
{
    struct buf why = BUF_INIT;
    *msg = NULL;
    enum attr_status st = attr_read(s, &showq_limits, msg, &why);
    if (st != ATTR_OK) {
        if (st == ATTR_EOF)
            buf_append_str(err, "connection closed before the end of the "
                                "listing");
        else if (st == ATTR_MALFORMED)
            buf_appendf(err, "malformed showq reply: %s", buf_cstr(&why));
        else
            buf_appendf(err, "reading the showq reply: %s",
                        attr_status_name(st));
        buf_free(&why);
        return -1;
    }
    buf_free(&why);
    if (attr_check_proto(*msg, SHOWQ_PROTO, SHOWQ_VERSION, err) < 0 ||
        attr_get_str(*msg, "record", type, NULL, err) < 0) {
        attr_msg_free(*msg);
        *msg = NULL;
        return -1;
    }
    return 0;
}

static int get_count(struct attr_msg *msg, const char *name, uint64_t *out,
                     struct buf *err)
{
    long long value;
    if (attr_get_num(msg, name, &value, err) < 0)
        return -1;
    if (value < 0) {
        buf_appendf(err, "malformed showq reply: negative %s", name);
        return -1;
    }
    *out = (uint64_t)value;
    return 0;
}

/* Reads one message record's recipients and prints the message. */
static int read_message(struct stream *s, struct attr_msg *head,
                        struct queue_list_printer *printer, struct buf *err)
{
    struct queue_list_entry entry;
    memset(&entry, 0, sizeof(entry));
    const char *queue_name;
    uint64_t count;
    if (attr_get_str(head, "queue_name", &queue_name, NULL, err) < 0 ||
        attr_get_str(head, "queue_id", &entry.queue_id, NULL, err) < 0 ||
        get_count(head, "arrival_time", &entry.arrival_time, err) < 0 ||
        get_count(head, "message_size", &entry.message_size, err) < 0 ||
        attr_get_str(head, "sender", &entry.sender, NULL, err) < 0 ||
        get_count(head, "recipients", &count, err) < 0)
        return -1;
    if (queue_dir_lookup(queue_name, &entry.queue) < 0 ||
        !queue_dir_holds_messages(entry.queue) ||
        entry.queue == QUEUE_CORRUPT) {
        buf_append_str(err, "malformed showq reply: bad queue_name");
        return -1;
    }
    if (!qid_valid(entry.queue_id)) {
        buf_append_str(err, "malformed showq reply: bad queue_id");
        return -1;
    }
    /* Grown as records arrive: the count is not trusted for memory. */
    struct queue_list_recipient *rcpts = NULL;
    struct attr_msg **held = NULL;
    size_t have = 0, cap = 0;
    int rc = 0;
    while ((uint64_t)have < count) {
        struct attr_msg *msg;
        const char *type;
        if (next_record(s, &msg, &type, err) < 0) {
            rc = -1;
            break;
        }
        const char *address;
        if (strcmp(type, "recipient") != 0 ||
            attr_get_str(msg, "address", &address, NULL, err) < 0) {
            if (err->len == 0)
                buf_appendf(err,
                            "malformed showq reply: %s record among "
                            "recipients",
                            type);
            attr_msg_free(msg);
            rc = -1;
            break;
        }
        if (have == cap) {
            cap = cap ? cap * 2 : 8;
            rcpts = xreallocarray(rcpts, cap, sizeof(*rcpts));
            held = xreallocarray(held, cap, sizeof(*held));
        }
        rcpts[have].address = address;
        rcpts[have].delay_reason = attr_opt_str(msg, "delay_reason", NULL);
        held[have++] = msg;
    }
    if (rc == 0) {
        entry.recipients = rcpts;
        entry.recipient_count = have;
        queue_list_print(printer, &entry);
    }
    for (size_t i = 0; i < have; i++)
        attr_msg_free(held[i]);
    free(held);
    free(rcpts);
    return rc;
}

enum showq_result showq_read_listing(struct stream *s,
                                     struct queue_list_printer *printer,
                                     struct showq_refusal *refusal,
                                     struct buf *err)
{
    struct attr_msg *msg;
    const char *type, *status;
    if (next_record(s, &msg, &type, err) < 0)
        return SHOWQ_ERROR;
    if (strcmp(type, "status") != 0 ||
        attr_get_str(msg, "status", &status, NULL, err) < 0) {
        if (err->len == 0)
            buf_appendf(err, "malformed showq reply: %s record first", type);
        attr_msg_free(msg);
        return SHOWQ_ERROR;
    }
    enum showq_result result = SHOWQ_OK;
    if (strcmp(status, "refused") == 0) {
        const char *user;
        long long uid;
        if (attr_get_str(msg, "user", &user, NULL, err) < 0 ||
            attr_get_num(msg, "uid", &uid, err) < 0) {
            result = SHOWQ_ERROR;
        } else {
            buf_reset(&refusal->user);
            buf_append_str(&refusal->user, user);
            refusal->uid = (long)uid;
            result = SHOWQ_REFUSED;
        }
    } else if (strcmp(status, "error") == 0) {
        const char *reason = attr_opt_str(msg, "reason", "unknown error");
        buf_appendf(err, "showq: %s", reason ? reason : "unknown error");
        result = SHOWQ_ERROR;
    } else if (strcmp(status, "ok") != 0) {
        buf_append_str(err, "malformed showq reply: bad status");
        result = SHOWQ_ERROR;
    }
    attr_msg_free(msg);
    while (result == SHOWQ_OK) {
        if (next_record(s, &msg, &type, err) < 0)
            return SHOWQ_ERROR;
        if (strcmp(type, "end") == 0) {
            const char *error = attr_opt_str(msg, "error", NULL);
            if (error) {
                buf_append_str(err, error);
                result = SHOWQ_INCOMPLETE;
            }
            attr_msg_free(msg);
            break;
        }
        if (strcmp(type, "message") != 0) {
            buf_appendf(err, "malformed showq reply: unexpected %s record",
                        type);
            attr_msg_free(msg);
            return SHOWQ_ERROR;
        }
        int rc = read_message(s, msg, printer, err);
        attr_msg_free(msg);
        if (rc < 0)
            return SHOWQ_ERROR;
    }
    return result;
}

enum showq_result showq_list(const char *queue_directory, int timeout_ms,
                             struct queue_list_printer *printer,
                             struct showq_refusal *refusal, struct buf *err)
{
    struct buf path = BUF_INIT;
    showq_path(&path, queue_directory);
    int fd = attr_connect(buf_cstr(&path), timeout_ms, err);
    if (fd < 0) {
        int saved = errno;
        buf_free(&path);
        errno = saved;
        if (saved == ENOENT || saved == ECONNREFUSED || saved == ENOTSOCK ||
            saved == ENOTDIR)
            return SHOWQ_DOWN;
        if (saved == EACCES || saved == EPERM)
            return SHOWQ_NOACCESS;
        return SHOWQ_ERROR;
    }
    buf_free(&path);
    struct stream *s = stream_open(fd);
    stream_set_timeout(s, timeout_ms);
    enum showq_result result = showq_read_listing(s, printer, refusal, err);
    stream_close(s);
    return result;
}
