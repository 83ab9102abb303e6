/* qfile_reader.c: validating reader of queue files (see qfile_reader.h
 * and docs/queue-format.md). Every length comes from the file and is
 * checked against the file's own end record before it is used. */
#include "queue/qfile_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"

/* Envelope bytes are read in pieces of this size. */
#define READER_CHUNK (64 * 1024)

struct qfile_reader {
    int fd;
    int owns_fd;
    uint64_t file_size;
    struct qfile_header header;
    struct buf window; /* file bytes from window_offset on */
    uint64_t window_offset;
    uint64_t next; /* offset of the next record */
    int at_end;
    uint64_t content_pos; /* streaming position within the content */
};

static enum qfile_result corrupt(struct buf *err, uint64_t offset,
                                 const char *why)
{
    buf_appendf(err, "offset %llu: %s", (unsigned long long)offset, why);
    return QFILE_CORRUPT;
}

/* Reads len bytes at offset into out (which has room). */
static enum qfile_result read_at(int fd, void *out, size_t len, uint64_t offset,
                                 struct buf *err)
{
    size_t done = 0;
    while (done < len) {
        ssize_t got =
            pread(fd, (char *)out + done, len - done, (off_t)(offset + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            buf_appendf(err, "read at offset %llu: %s",
                        (unsigned long long)(offset + done), strerror(errno));
            return QFILE_SYSERR;
        }
        if (got == 0)
            return corrupt(err, offset + done, "file ends early");
        done += (size_t)got;
    }
    return QFILE_OK;
}

/* Makes file bytes [offset, offset + len) available in the window; the
 * caller has checked that they lie within the file. */
static enum qfile_result ensure(struct qfile_reader *r, uint64_t offset,
                                size_t len, const unsigned char **out,
                                struct buf *err)
{
    if (offset < r->window_offset ||
        offset + len > r->window_offset + r->window.len) {
        size_t want = len > READER_CHUNK ? len : READER_CHUNK;
        if (want > r->file_size - offset)
            want = (size_t)(r->file_size - offset);
        buf_reset(&r->window);
        buf_reserve(&r->window, want);
        r->window_offset = offset;
        enum qfile_result result =
            read_at(r->fd, r->window.data, want, offset, err);
        if (result != QFILE_OK)
            return result;
        r->window.len = want;
    }
    *out = (const unsigned char *)r->window.data + (offset - r->window_offset);
    return QFILE_OK;
}

/* The checks that make every later offset safe: header fields agree with
 * each other and with the file size, and the end record is in place. */
static enum qfile_result check_header(struct qfile_reader *r, struct buf *err)
{
    /* One read from offset 0 fills the window: for a small message it
     * holds the header, the envelope, the content and the end record. */
    const unsigned char *head;
    size_t have = r->file_size < QFILE_FIRST_RECORD ? (size_t)r->file_size
                                                    : QFILE_FIRST_RECORD;
    enum qfile_result result = ensure(r, 0, have, &head, err);
    if (result != QFILE_OK)
        return result;
    if (have < QFILE_MAGIC_LEN ||
        memcmp(head, QFILE_MAGIC, QFILE_MAGIC_LEN) != 0) {
        buf_append_str(err, "not a queue file (bad magic)");
        return QFILE_CORRUPT;
    }
    if (have < QFILE_FIRST_RECORD)
        return corrupt(err, have, "file ends inside the header");
    if (head[QFILE_MAGIC_LEN] != QFILE_REC_HEADER ||
        qfile_get_u32(head + QFILE_MAGIC_LEN + 1) != QFILE_HEADER_LEN)
        return corrupt(err, QFILE_MAGIC_LEN, "bad header record");
    struct qfile_header *h = &r->header;
    qfile_header_decode(head + QFILE_HEADER_POS, h);
    if (h->version != QFILE_VERSION) {
        buf_appendf(err, "unsupported queue file version %u", h->version);
        return QFILE_CORRUPT;
    }
    if (h->flags & ~QFILE_FLAG_ALL)
        return corrupt(err, QFILE_OFF_FLAGS, "unknown header flags");
    if (qfile_get_u64(head + QFILE_HEADER_POS + 56) != 0)
        return corrupt(err, QFILE_HEADER_POS + 56, "reserved field not zero");
    if (r->file_size < QFILE_FIRST_RECORD + QFILE_REC_HDR_LEN ||
        h->end_offset != r->file_size - QFILE_REC_HDR_LEN) {
        buf_appendf(err,
                    "end record offset %llu does not match the file "
                    "size %llu (truncated or extended file)",
                    (unsigned long long)h->end_offset,
                    (unsigned long long)r->file_size);
        return QFILE_CORRUPT;
    }
    unsigned char end_copy[QFILE_REC_HDR_LEN];
    const unsigned char *end = end_copy;
    if (h->end_offset + QFILE_REC_HDR_LEN <= r->window.len)
        end = (const unsigned char *)r->window.data + h->end_offset;
    else if ((result = read_at(r->fd, end_copy, sizeof(end_copy), h->end_offset,
                               err)) != QFILE_OK)
        return result;
    if (end[0] != QFILE_REC_END || qfile_get_u32(end + 1) != 0)
        return corrupt(err, h->end_offset, "no end record");
    if (h->content_offset < QFILE_FIRST_RECORD + QFILE_REC_HDR_LEN ||
        h->content_offset > h->end_offset ||
        h->message_size > h->end_offset - h->content_offset ||
        h->message_size > QFILE_MAX_CONTENT)
        return corrupt(err, QFILE_OFF_CONTENT,
                       "content offset or size outside the file");
    if (h->body_offset > h->message_size)
        return corrupt(err, QFILE_OFF_BODY, "body offset beyond the content");
    /* The smallest recipient record is 5 + 7 bytes. */
    if (h->recipient_count == 0 ||
        h->recipient_count > (h->end_offset - QFILE_FIRST_RECORD) / 12)
        return corrupt(err, QFILE_OFF_RCPT_COUNT,
                       "recipient count impossible for the file size");
    return QFILE_OK;
}

static enum qfile_result reader_init(int fd, int owns_fd,
                                     struct qfile_reader **out, struct buf *err)
{
    *out = NULL;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        buf_appendf(err, "fstat: %s", strerror(errno));
        if (owns_fd)
            close(fd);
        return QFILE_SYSERR;
    }
    struct qfile_reader *r = xcalloc(1, sizeof(*r));
    r->fd = fd;
    r->owns_fd = owns_fd;
    r->file_size = (uint64_t)st.st_size;
    buf_init(&r->window);
    enum qfile_result result;
    if (!S_ISREG(st.st_mode)) {
        buf_append_str(err, "not a regular file");
        result = QFILE_CORRUPT;
    } else {
        result = check_header(r, err);
    }
    if (result != QFILE_OK) {
        qfile_reader_close(r);
        return result;
    }
    r->next = QFILE_FIRST_RECORD;
    *out = r;
    return QFILE_OK;
}

enum qfile_result qfile_reader_open(const char *path, int writable,
                                    struct qfile_reader **out, struct buf *err)
{
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC |
                            O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        *out = NULL;
        buf_appendf(err, "open %s: %s", path, strerror(errno));
        /* A symlink planted in a queue directory is damage, not a
         * temporary problem. */
        return errno == ELOOP ? QFILE_CORRUPT : QFILE_SYSERR;
    }
    return reader_init(fd, 1, out, err);
}

enum qfile_result qfile_reader_fdopen(int fd, struct qfile_reader **out,
                                      struct buf *err)
{
    return reader_init(fd, 0, out, err);
}

void qfile_reader_close(struct qfile_reader *r)
{
    if (r == NULL)
        return;
    if (r->owns_fd)
        close(r->fd);
    buf_free(&r->window);
    free(r);
}

int qfile_reader_fd(const struct qfile_reader *r)
{
    return r->fd;
}

const struct qfile_header *qfile_reader_header(const struct qfile_reader *r)
{
    return &r->header;
}

void qfile_reader_rewind(struct qfile_reader *r)
{
    /* Drop cached bytes: a recipient may have been marked done since. */
    buf_reset(&r->window);
    r->window_offset = 0;
    r->next = QFILE_FIRST_RECORD;
    r->at_end = 0;
}

static int envelope_type(char type)
{
    return type != '\0' && strchr("TSRDPIXA", type) != NULL;
}

enum qfile_result qfile_read_record(struct qfile_reader *r,
                                    struct qfile_record *rec, struct buf *err)
{
    const struct qfile_header *h = &r->header;
    memset(rec, 0, sizeof(*rec));
    if (r->at_end || r->next == h->end_offset) {
        r->at_end = 1;
        rec->type = QFILE_REC_END;
        rec->offset = h->end_offset;
        return QFILE_OK;
    }
    uint64_t offset = r->next;
    if (offset > h->end_offset || h->end_offset - offset < QFILE_REC_HDR_LEN)
        return corrupt(err, offset, "record runs into the end record");
    const unsigned char *head;
    enum qfile_result result = ensure(r, offset, QFILE_REC_HDR_LEN, &head, err);
    if (result != QFILE_OK)
        return result;
    char type = (char)head[0];
    uint64_t len = qfile_get_u32(head + 1);
    uint64_t payload_offset = offset + QFILE_REC_HDR_LEN;
    rec->type = type;
    rec->offset = offset;
    if (type == QFILE_REC_CONTENT) {
        if (payload_offset != h->content_offset)
            return corrupt(err, offset,
                           "content record where the header "
                           "does not place it");
        if (len != h->message_size)
            return corrupt(err, offset,
                           "content length differs from the "
                           "header's message size");
        rec->len = (size_t)len;
        r->next = payload_offset + len;
        return QFILE_OK;
    }
    if (type == QFILE_REC_END)
        return corrupt(err, offset, "end record before the end of the file");
    if (type == QFILE_REC_HEADER)
        return corrupt(err, offset, "second header record");
    if (!envelope_type(type)) {
        buf_appendf(err, "offset %llu: unknown record type 0x%02x",
                    (unsigned long long)offset, (unsigned)head[0]);
        return QFILE_CORRUPT;
    }
    if (len > QFILE_MAX_RECORD) {
        buf_appendf(err, "offset %llu: record '%c' length %llu exceeds %d",
                    (unsigned long long)offset, type, (unsigned long long)len,
                    QFILE_MAX_RECORD);
        return QFILE_CORRUPT;
    }
    if (len > h->end_offset - payload_offset)
        return corrupt(err, offset, "record runs into the end record");
    if ((result = ensure(r, payload_offset, (size_t)len, &rec->payload, err)) !=
        QFILE_OK)
        return result;
    rec->len = (size_t)len;
    r->next = payload_offset + len;
    return QFILE_OK;
}

/* Payload checks per envelope record type, filling env. */
static enum qfile_result decode_record(const struct qfile_record *rec,
                                       struct qfile_envelope *env,
                                       struct buf *err)
{
    const char *text = (const char *)rec->payload;
    switch (rec->type) {
    case QFILE_REC_ARRIVAL:
        if (rec->len != 12 || qfile_get_u32(rec->payload + 8) >= 1000000)
            return corrupt(err, rec->offset, "malformed arrival time");
        env->arrival_sec = qfile_get_u64(rec->payload);
        env->arrival_usec = qfile_get_u32(rec->payload + 8);
        return QFILE_OK;
    case QFILE_REC_SENDER:
        if (!qfile_text_ok(text, rec->len))
            return corrupt(err, rec->offset, "malformed sender");
        env->sender = xstrndup(text, rec->len);
        return QFILE_OK;
    case QFILE_REC_RCPT:
    case QFILE_REC_RCPT_DONE: {
        struct qfile_recipient rcpt;
        struct buf why = BUF_INIT;
        if (qfile_recipient_decode(rec->payload, rec->len, &rcpt, &why) !=
            QFILE_OK) {
            corrupt(err, rec->offset, buf_cstr(&why));
            buf_free(&why);
            return QFILE_CORRUPT;
        }
        buf_free(&why);
        rcpt.done = rec->type == QFILE_REC_RCPT_DONE;
        rcpt.offset = rec->offset;
        env->recipients =
            xreallocarray(env->recipients, env->recipient_count + 1,
                          sizeof(*env->recipients));
        env->recipients[env->recipient_count++] = rcpt;
        env->done_count += (size_t)rcpt.done;
        return QFILE_OK;
    }
    case QFILE_REC_DSN_RET:
        if (rec->len != 1 ||
            (text[0] != QFILE_RET_FULL && text[0] != QFILE_RET_HDRS))
            return corrupt(err, rec->offset, "malformed DSN RET");
        env->dsn_ret = text[0];
        return QFILE_OK;
    case QFILE_REC_DSN_ENVID:
        if (!qfile_text_ok(text, rec->len))
            return corrupt(err, rec->offset, "malformed DSN ENVID");
        env->envid = xstrndup(text, rec->len);
        return QFILE_OK;
    case QFILE_REC_ENCODING:
        if (rec->len != 4 ||
            (qfile_get_u32(rec->payload) & ~QFILE_ENC_ALL) != 0)
            return corrupt(err, rec->offset, "malformed encoding record");
        env->encoding = qfile_get_u32(rec->payload);
        return QFILE_OK;
    case QFILE_REC_ATTR: {
        const char *equals = memchr(text, '=', rec->len);
        size_t name_len = equals ? (size_t)(equals - text) : 0;
        if (equals == NULL || !qfile_attr_name_ok(text, name_len) ||
            !qfile_text_ok(equals + 1, rec->len - name_len - 1))
            return corrupt(err, rec->offset, "malformed attribute");
        if (env->attr_count >= QFILE_MAX_ATTRS)
            return corrupt(err, rec->offset, "too many attributes");
        char *name = xstrndup(text, name_len);
        if (qfile_envelope_attr(env, name) != NULL) {
            free(name);
            return corrupt(err, rec->offset, "duplicate attribute");
        }
        env->attrs =
            xreallocarray(env->attrs, env->attr_count + 1, sizeof(*env->attrs));
        env->attrs[env->attr_count].name = name;
        env->attrs[env->attr_count++].value =
            xstrndup(equals + 1, rec->len - name_len - 1);
        return QFILE_OK;
    }
    case QFILE_REC_CONTENT:
        return QFILE_OK;
    default:
        return corrupt(err, rec->offset, "unexpected record");
    }
}

/* Records that may appear at most once, by type. */
static const char SINGLE_TYPES[] = "TSPIXM";

enum qfile_result qfile_read_envelope(struct qfile_reader *r,
                                      struct qfile_envelope *env,
                                      struct buf *err)
{
    int seen[sizeof(SINGLE_TYPES)] = {0};
    memset(env, 0, sizeof(*env));
    /* Restart without dropping the window: the reader's own updates keep
     * it current (qfile_reader_mark_done). The patchable header fields
     * are taken again, for changes made before a rewind. */
    r->next = QFILE_FIRST_RECORD;
    r->at_end = 0;
    const unsigned char *head;
    enum qfile_result result = ensure(r, 0, QFILE_FIRST_RECORD, &head, err);
    if (result != QFILE_OK)
        return result;
    r->header.flags = qfile_get_u32(head + QFILE_OFF_FLAGS);
    r->header.warn_time = qfile_get_u64(head + QFILE_OFF_WARN_TIME);
    if (r->header.flags & ~QFILE_FLAG_ALL)
        return corrupt(err, QFILE_OFF_FLAGS, "unknown header flags");
    env->header = r->header;
    for (;;) {
        struct qfile_record rec;
        result = qfile_read_record(r, &rec, err);
        if (result != QFILE_OK)
            return result;
        if (rec.type == QFILE_REC_END)
            break;
        const char *single = strchr(SINGLE_TYPES, rec.type);
        if (single != NULL && seen[single - SINGLE_TYPES]++)
            return corrupt(err, rec.offset,
                           rec.type == QFILE_REC_CONTENT
                               ? "second content record"
                               : "record given twice");
        if ((result = decode_record(&rec, env, err)) != QFILE_OK)
            return result;
    }
    if (!seen[strchr(SINGLE_TYPES, QFILE_REC_CONTENT) - SINGLE_TYPES])
        return corrupt(err, r->header.end_offset, "no content record");
    if (env->sender == NULL)
        return corrupt(err, r->header.end_offset, "no sender record");
    if (!seen[0])
        return corrupt(err, r->header.end_offset, "no arrival record");
    if (env->recipient_count != r->header.recipient_count)
        return corrupt(err, QFILE_OFF_RCPT_COUNT,
                       "recipient count differs from the recipient records");
    return QFILE_OK;
}

void qfile_envelope_free(struct qfile_envelope *env)
{
    for (size_t i = 0; i < env->recipient_count; i++)
        qfile_recipient_free(&env->recipients[i]);
    for (size_t i = 0; i < env->attr_count; i++) {
        free(env->attrs[i].name);
        free(env->attrs[i].value);
    }
    free(env->recipients);
    free(env->attrs);
    free(env->sender);
    free(env->envid);
    memset(env, 0, sizeof(*env));
}

const char *qfile_envelope_attr(const struct qfile_envelope *env,
                                const char *name)
{
    for (size_t i = 0; i < env->attr_count; i++)
        if (strcmp(env->attrs[i].name, name) == 0)
            return env->attrs[i].value;
    return NULL;
}

enum qfile_result qfile_content_read(struct qfile_reader *r, struct buf *chunk,
                                     size_t max, struct buf *err)
{
    buf_reset(chunk);
    uint64_t left = r->header.message_size - r->content_pos;
    size_t len = left < max ? (size_t)left : max;
    if (len == 0)
        return QFILE_OK;
    uint64_t offset = r->header.content_offset + r->content_pos;
    if (offset >= r->window_offset &&
        offset + len <= r->window_offset + r->window.len) {
        /* Already read with the envelope (small messages). */
        buf_append(chunk, r->window.data + (offset - r->window_offset), len);
        r->content_pos += len;
        return QFILE_OK;
    }
    buf_reserve(chunk, len);
    enum qfile_result result = read_at(r->fd, chunk->data, len, offset, err);
    if (result != QFILE_OK)
        return result;
    chunk->len = len;
    chunk->data[len] = '\0';
    r->content_pos += len;
    return QFILE_OK;
}

int qfile_content_seek(struct qfile_reader *r, uint64_t position)
{
    if (position > r->header.message_size)
        return -1;
    r->content_pos = position;
    return 0;
}

/* Applies an in-place change to the cached bytes too. */
static void window_patch(struct qfile_reader *r, uint64_t offset,
                         const unsigned char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (offset + i >= r->window_offset &&
            offset + i < r->window_offset + r->window.len)
            r->window.data[offset + i - r->window_offset] = (char)data[i];
}

enum qfile_result qfile_reader_mark_done(struct qfile_reader *r,
                                         uint64_t offset, enum qfile_sync sync,
                                         struct buf *err)
{
    const struct qfile_header *h = &r->header;
    if (offset >= r->window_offset &&
        offset + QFILE_REC_HDR_LEN <= r->window_offset + r->window.len &&
        offset >= QFILE_FIRST_RECORD &&
        offset + QFILE_REC_HDR_LEN <= h->end_offset &&
        (offset + QFILE_REC_HDR_LEN <= h->content_offset ||
         offset >= h->content_offset + h->message_size)) {
        /* The record head is in hand and the header was validated at
         * open: check from memory and save two reads. Only R->D ever
         * changes in place, so a stale 'R' costs at most a rewrite. */
        const unsigned char *head =
            (const unsigned char *)r->window.data + (offset - r->window_offset);
        if ((head[0] == QFILE_REC_RCPT || head[0] == QFILE_REC_RCPT_DONE) &&
            qfile_get_u32(head + 1) <= QFILE_MAX_RECORD) {
            unsigned char done = QFILE_REC_RCPT_DONE;
            ssize_t put;
            do
                put = pwrite(r->fd, &done, 1, (off_t)offset);
            while (put < 0 && errno == EINTR);
            if (put != 1) {
                buf_appendf(err, "write at offset %llu: %s",
                            (unsigned long long)offset,
                            put < 0 ? strerror(errno) : "no progress");
                return QFILE_SYSERR;
            }
            if (sync == QFILE_SYNC && fdatasync(r->fd) < 0) {
                buf_appendf(err, "fdatasync: %s", strerror(errno));
                return QFILE_SYSERR;
            }
            r->window.data[offset - r->window_offset] = (char)done;
            return QFILE_OK;
        }
    }
    enum qfile_result result = qfile_mark_done(r->fd, offset, sync, err);
    if (result == QFILE_OK) {
        unsigned char done = QFILE_REC_RCPT_DONE;
        window_patch(r, offset, &done, 1);
    }
    return result;
}

enum qfile_result qfile_reader_patch_flags(struct qfile_reader *r,
                                           uint32_t flags, enum qfile_sync sync,
                                           struct buf *err)
{
    enum qfile_result result = qfile_patch_flags(r->fd, flags, sync, err);
    if (result == QFILE_OK) {
        unsigned char field[4];
        qfile_put_u32(field, flags);
        window_patch(r, QFILE_OFF_FLAGS, field, sizeof(field));
        r->header.flags = flags;
    }
    return result;
}

enum qfile_result qfile_reader_patch_warn_time(struct qfile_reader *r,
                                               uint64_t warn_time,
                                               enum qfile_sync sync,
                                               struct buf *err)
{
    enum qfile_result result =
        qfile_patch_warn_time(r->fd, warn_time, sync, err);
    if (result == QFILE_OK) {
        unsigned char field[8];
        qfile_put_u64(field, warn_time);
        window_patch(r, QFILE_OFF_WARN_TIME, field, sizeof(field));
        r->header.warn_time = warn_time;
    }
    return result;
}

const struct qfile_recipient *
qfile_envelope_recipient_at(const struct qfile_envelope *env, uint64_t offset)
{
    for (size_t i = 0; i < env->recipient_count; i++)
        if (env->recipients[i].offset == offset)
            return &env->recipients[i];
    return NULL;
}
