/* attr.h: the attribute request/reply protocol between daemons.
 *
 * A message is a protocol name and version ("anvil/1") followed by named
 * attributes, each a byte string or a number, and an end marker. Values
 * carry explicit lengths, so any bytes may pass; every size is bounded
 * by struct attr_limits, and a reader fails closed on anything it did not
 * expect. The wire format is documented in docs/ipc.md.
 *
 * Typical client:
 *     struct attr_msg *req = attr_msg_new("anvil", 1), *reply = NULL;
 *     attr_add_str(req, "request", "connect");
 *     if (attr_call(path, 5000, req, NULL, &reply, &err) < 0) ... defer ...
 *     long long count;
 *     if (attr_get_num(reply, "count", &count, &err) < 0) ...
 * Typical server (one request per read, in a daemon's serve callback):
 *     attr_read(stream, NULL, &req, &err) ... attr_write(stream, reply). */
#ifndef POSTERN_ATTR_H
#define POSTERN_ATTR_H

#include <stddef.h>

#include "base/buf.h"
#include "base/stream.h"

enum attr_type { ATTR_STR, ATTR_NUM };

/* One attribute. Read-only for callers. */
struct attr {
    char *name;
    enum attr_type type;
    char *value; /* ATTR_STR: value_len bytes plus a NUL */
    size_t value_len;
    long long num; /* ATTR_NUM */
    int used;      /* set by the attr_get_* functions */
};

struct attr_msg;

/* Bounds applied by readers. NULL anywhere means attr_default_limits. */
struct attr_limits {
    size_t max_attrs;   /* attributes per message */
    size_t max_name;    /* bytes in a name (and in the protocol name) */
    size_t max_value;   /* bytes in a string value */
    size_t max_message; /* bytes in a whole message on the wire */
};
extern const struct attr_limits attr_default_limits;

enum attr_status {
    ATTR_OK = 0,
    ATTR_AGAIN, /* incomplete (decode) / would block (non-blocking read) */
    ATTR_EOF,   /* clean end of stream before a message began */
    ATTR_TIMEOUT,
    ATTR_IO_ERROR,
    ATTR_MALFORMED, /* syntax or bounds violation; err says what */
};

/* ---- building and inspecting messages ---- */

/* proto: 1..32 of [a-z0-9_-]; version >= 1. Invalid names are a
 * programming error (panic). */
struct attr_msg *attr_msg_new(const char *proto, unsigned version);
void attr_msg_free(struct attr_msg *msg);
const char *attr_msg_proto(const struct attr_msg *msg);
unsigned attr_msg_version(const struct attr_msg *msg);
size_t attr_msg_count(const struct attr_msg *msg);
const struct attr *attr_msg_item(const struct attr_msg *msg, size_t index);

/* Names: 1..64 of [A-Za-z0-9_.-], unique within a message (adding a
 * duplicate name is a programming error). */
void attr_add_str(struct attr_msg *msg, const char *name, const char *value);
void attr_add_bytes(struct attr_msg *msg, const char *name, const void *data,
                    size_t len);
void attr_add_num(struct attr_msg *msg, const char *name, long long value);

/* The attribute called name, or NULL (marks it used). */
const struct attr *attr_find(struct attr_msg *msg, const char *name);
/* A required string: 0, or -1 with err = "missing attribute NAME" /
 * "attribute NAME is not a string" / "... contains a NUL byte" (only when
 * len is NULL: then the caller wants a C string). */
int attr_get_str(struct attr_msg *msg, const char *name, const char **value,
                 size_t *len, struct buf *err);
/* A required number: 0, or -1 with err. */
int attr_get_num(struct attr_msg *msg, const char *name, long long *value,
                 struct buf *err);
/* An optional string: the value, or fallback when absent (NULL when it is
 * present but not a NUL-free string). */
const char *attr_opt_str(struct attr_msg *msg, const char *name,
                         const char *fallback);
/* 0 when the message is proto/version; -1 with err otherwise. */
int attr_check_proto(const struct attr_msg *msg, const char *proto,
                     unsigned version, struct buf *err);
/* Rejects leftovers: -1 with err "unexpected attribute NAME" when any
 * attribute was not read by attr_find, attr_get_str, attr_get_num or
 * attr_opt_str. */
int attr_check_all_used(const struct attr_msg *msg, struct buf *err);

/* ---- wire format ---- */

/* Appends the encoding of msg to out. */
void attr_encode(const struct attr_msg *msg, struct buf *out);
/* Decodes one message from the start of data. ATTR_OK: *out is the
 * message and *used the bytes it took. ATTR_AGAIN: data is a valid but
 * incomplete prefix. ATTR_MALFORMED: err says why. */
enum attr_status attr_decode(const char *data, size_t len,
                             const struct attr_limits *limits,
                             struct attr_msg **out, size_t *used,
                             struct buf *err);

/* Reads one message from a stream (blocking or non-blocking). Returns
 * ATTR_OK with *out, ATTR_EOF when the stream ended cleanly between
 * messages, ATTR_AGAIN (non-blocking), ATTR_TIMEOUT, ATTR_IO_ERROR, or
 * ATTR_MALFORMED (err; also a message cut short by EOF). In blocking
 * mode the stream's timeout bounds the whole message, not each read. */
enum attr_status attr_read(struct stream *s, const struct attr_limits *limits,
                           struct attr_msg **out, struct buf *err);
/* Writes msg and flushes: ATTR_OK, ATTR_AGAIN (non-blocking; flush again
 * later), ATTR_TIMEOUT or ATTR_IO_ERROR. */
enum attr_status attr_write(struct stream *s, const struct attr_msg *msg);
const char *attr_status_name(enum attr_status status);

/* ---- blocking client ---- */

/* Connects to the unix socket at path within timeout_ms. Returns the fd
 * (blocking, close-on-exec) or -1 with err, and errno from the failed
 * connect (ENOENT, ECONNREFUSED, EACCES, ...; ETIMEDOUT after the
 * timeout), so a caller can tell "nobody there" from the rest. */
int attr_connect(const char *path, int timeout_ms, struct buf *err);
/* One call: connect, send request, read one reply, close; the whole
 * exchange bounded by timeout_ms. 0 with *reply, or -1 with err naming
 * the socket. */
int attr_call(const char *path, int timeout_ms, const struct attr_msg *request,
              const struct attr_limits *limits, struct attr_msg **reply,
              struct buf *err);

#endif
