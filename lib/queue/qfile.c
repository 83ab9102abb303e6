/* qfile.c: queue file encoding shared by writer and reader, and the
 * in-place updates (done marking, header patches) made to committed
 * files. See qfile.h and docs/queue-format.md. */
#include "queue/qfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"

void qfile_put_u16(unsigned char *out, uint16_t value)
{
    out[0] = (unsigned char)(value >> 8);
    out[1] = (unsigned char)value;
}

void qfile_put_u32(unsigned char *out, uint32_t value)
{
    for (int i = 3; i >= 0; i--) {
        out[i] = (unsigned char)value;
        value >>= 8;
    }
}

void qfile_put_u64(unsigned char *out, uint64_t value)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (unsigned char)value;
        value >>= 8;
    }
}

uint16_t qfile_get_u16(const unsigned char *in)
{
    return (uint16_t)((in[0] << 8) | in[1]);
}

uint32_t qfile_get_u32(const unsigned char *in)
{
    uint32_t value = 0;
    for (int i = 0; i < 4; i++)
        value = (value << 8) | in[i];
    return value;
}

uint64_t qfile_get_u64(const unsigned char *in)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = (value << 8) | in[i];
    return value;
}

void qfile_header_encode(const struct qfile_header *header,
                         unsigned char out[QFILE_HEADER_LEN])
{
    memset(out, 0, QFILE_HEADER_LEN);
    qfile_put_u32(out + 0, header->version);
    qfile_put_u32(out + 4, header->flags);
    qfile_put_u64(out + 8, header->message_size);
    qfile_put_u64(out + 16, header->content_offset);
    qfile_put_u64(out + 24, header->body_offset);
    qfile_put_u64(out + 32, header->recipient_count);
    qfile_put_u64(out + 40, header->end_offset);
    qfile_put_u64(out + 48, header->warn_time);
}

void qfile_header_decode(const unsigned char in[QFILE_HEADER_LEN],
                         struct qfile_header *header)
{
    header->version = qfile_get_u32(in + 0);
    header->flags = qfile_get_u32(in + 4);
    header->message_size = qfile_get_u64(in + 8);
    header->content_offset = qfile_get_u64(in + 16);
    header->body_offset = qfile_get_u64(in + 24);
    header->recipient_count = qfile_get_u64(in + 32);
    header->end_offset = qfile_get_u64(in + 40);
    header->warn_time = qfile_get_u64(in + 48);
}

int qfile_text_ok(const char *text, size_t len)
{
    if (len > QFILE_MAX_TEXT)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

int qfile_attr_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > QFILE_MAX_ATTR_NAME)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

int qfile_notify_ok(unsigned notify)
{
    if (notify & ~QFILE_NOTIFY_ALL)
        return 0;
    /* RFC 3461: NEVER cannot be combined with the other keywords. */
    if ((notify & QFILE_NOTIFY_NEVER) && notify != QFILE_NOTIFY_NEVER)
        return 0;
    return 1;
}

static int append_text16(struct buf *out, const char *what, const char *text,
                         struct buf *err)
{
    size_t len = text ? strlen(text) : 0;
    if (!qfile_text_ok(text, len)) {
        buf_appendf(err,
                    "recipient %s is longer than %d bytes or contains "
                    "control characters",
                    what, QFILE_MAX_TEXT);
        return -1;
    }
    unsigned char prefix[2];
    qfile_put_u16(prefix, (uint16_t)len);
    buf_append(out, prefix, 2);
    buf_append(out, text ? text : "", len);
    return 0;
}

int qfile_recipient_encode(const struct qfile_recipient *rcpt, struct buf *out,
                           struct buf *err)
{
    if (!qfile_notify_ok(rcpt->notify)) {
        buf_appendf(err, "invalid DSN NOTIFY bits 0x%x", rcpt->notify);
        return -1;
    }
    size_t start = out->len;
    buf_append_char(out, (char)rcpt->notify);
    if (append_text16(out, "address", rcpt->address, err) < 0 ||
        append_text16(out, "ORCPT", rcpt->orcpt, err) < 0 ||
        append_text16(out, "original address", rcpt->original, err) < 0) {
        buf_truncate(out, start);
        return -1;
    }
    return 0;
}

/* Takes one length-prefixed text field from payload[*pos..len). */
static enum qfile_result take_text16(const unsigned char *payload, size_t len,
                                     size_t *pos, const char *what, char **out,
                                     struct buf *err)
{
    if (len - *pos < 2) {
        buf_appendf(err, "recipient record ends before its %s length", what);
        return QFILE_CORRUPT;
    }
    size_t field_len = qfile_get_u16(payload + *pos);
    *pos += 2;
    if (field_len > len - *pos) {
        buf_appendf(err, "recipient %s length %zu exceeds the record", what,
                    field_len);
        return QFILE_CORRUPT;
    }
    if (!qfile_text_ok((const char *)payload + *pos, field_len)) {
        buf_appendf(err,
                    "recipient %s is longer than %d bytes or contains "
                    "control characters",
                    what, QFILE_MAX_TEXT);
        return QFILE_CORRUPT;
    }
    *out = xstrndup((const char *)payload + *pos, field_len);
    *pos += field_len;
    return QFILE_OK;
}

enum qfile_result qfile_recipient_decode(const unsigned char *payload,
                                         size_t len,
                                         struct qfile_recipient *rcpt,
                                         struct buf *err)
{
    memset(rcpt, 0, sizeof(*rcpt));
    if (len < 1) {
        buf_append_str(err, "empty recipient record");
        return QFILE_CORRUPT;
    }
    rcpt->notify = payload[0];
    if (!qfile_notify_ok(rcpt->notify)) {
        buf_appendf(err, "invalid DSN NOTIFY bits 0x%x", rcpt->notify);
        return QFILE_CORRUPT;
    }
    size_t pos = 1;
    enum qfile_result result;
    if ((result = take_text16(payload, len, &pos, "address", &rcpt->address,
                              err)) != QFILE_OK ||
        (result = take_text16(payload, len, &pos, "ORCPT", &rcpt->orcpt,
                              err)) != QFILE_OK ||
        (result = take_text16(payload, len, &pos, "original address",
                              &rcpt->original, err)) != QFILE_OK) {
        qfile_recipient_free(rcpt);
        return result;
    }
    if (pos != len) {
        buf_appendf(err, "%zu unexpected bytes after the recipient", len - pos);
        qfile_recipient_free(rcpt);
        return QFILE_CORRUPT;
    }
    if (rcpt->address[0] == '\0') {
        buf_append_str(err, "empty recipient address");
        qfile_recipient_free(rcpt);
        return QFILE_CORRUPT;
    }
    return QFILE_OK;
}

void qfile_recipient_free(struct qfile_recipient *rcpt)
{
    free(rcpt->address);
    free(rcpt->orcpt);
    free(rcpt->original);
    rcpt->address = rcpt->orcpt = rcpt->original = NULL;
}

/* Reads exactly len bytes at offset: QFILE_OK, QFILE_CORRUPT when the
 * file is shorter, QFILE_SYSERR on an I/O error. */
static enum qfile_result pread_exact(int fd, void *out, size_t len,
                                     uint64_t offset, struct buf *err)
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
        if (got == 0) {
            buf_appendf(err, "offset %llu: file ends early",
                        (unsigned long long)(offset + done));
            return QFILE_CORRUPT;
        }
        done += (size_t)got;
    }
    return QFILE_OK;
}

static enum qfile_result pwrite_exact(int fd, const void *data, size_t len,
                                      uint64_t offset, enum qfile_sync sync,
                                      struct buf *err)
{
    size_t done = 0;
    while (done < len) {
        ssize_t put = pwrite(fd, (const char *)data + done, len - done,
                             (off_t)(offset + done));
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0) {
            buf_appendf(err, "write at offset %llu: %s",
                        (unsigned long long)(offset + done),
                        put < 0 ? strerror(errno) : "no progress");
            return QFILE_SYSERR;
        }
        done += (size_t)put;
    }
    if (sync == QFILE_SYNC && fdatasync(fd) < 0) {
        buf_appendf(err, "fdatasync: %s", strerror(errno));
        return QFILE_SYSERR;
    }
    return QFILE_OK;
}

/* Checks the magic and the header record, so that updates land only on
 * a queue file of the version we know; returns the decoded header. */
static enum qfile_result check_header_head(int fd, struct qfile_header *h,
                                           struct buf *err)
{
    unsigned char head[QFILE_FIRST_RECORD];
    enum qfile_result result = pread_exact(fd, head, sizeof(head), 0, err);
    if (result != QFILE_OK)
        return result;
    if (memcmp(head, QFILE_MAGIC, QFILE_MAGIC_LEN) != 0) {
        buf_append_str(err, "not a queue file (bad magic)");
        return QFILE_CORRUPT;
    }
    if (head[QFILE_MAGIC_LEN] != QFILE_REC_HEADER ||
        qfile_get_u32(head + QFILE_MAGIC_LEN + 1) != QFILE_HEADER_LEN) {
        buf_append_str(err, "offset 8: bad header record");
        return QFILE_CORRUPT;
    }
    qfile_header_decode(head + QFILE_HEADER_POS, h);
    if (h->version != QFILE_VERSION) {
        buf_appendf(err, "unsupported queue file version %u", h->version);
        return QFILE_CORRUPT;
    }
    return QFILE_OK;
}

enum qfile_result qfile_mark_done(int fd, uint64_t offset, enum qfile_sync sync,
                                  struct buf *err)
{
    struct qfile_header h;
    enum qfile_result result = check_header_head(fd, &h, err);
    if (result != QFILE_OK)
        return result;
    unsigned char head[QFILE_REC_HDR_LEN];
    if (h.content_offset > h.end_offset ||
        h.message_size > h.end_offset - h.content_offset) {
        buf_append_str(err, "header places the content outside the file");
        return QFILE_CORRUPT;
    }
    /* Only between the header and the end record, and never inside the
     * content, where message bytes could look like a record. */
    int in_content = offset < h.content_offset + h.message_size &&
                     offset + QFILE_REC_HDR_LEN > h.content_offset;
    if (offset < QFILE_FIRST_RECORD || offset >= h.end_offset || in_content) {
        buf_appendf(err, "offset %llu: not a recipient record",
                    (unsigned long long)offset);
        return QFILE_CORRUPT;
    }
    if ((result = pread_exact(fd, head, sizeof(head), offset, err)) != QFILE_OK)
        return result;
    if (head[0] == QFILE_REC_RCPT_DONE)
        return QFILE_OK;
    if (head[0] != QFILE_REC_RCPT ||
        qfile_get_u32(head + 1) > QFILE_MAX_RECORD) {
        buf_appendf(err, "offset %llu: not a recipient record",
                    (unsigned long long)offset);
        return QFILE_CORRUPT;
    }
    /* The one-byte write that cannot tear: see docs/queue-format.md. */
    unsigned char done = QFILE_REC_RCPT_DONE;
    return pwrite_exact(fd, &done, 1, offset, sync, err);
}

enum qfile_result qfile_patch_flags(int fd, uint32_t flags,
                                    enum qfile_sync sync, struct buf *err)
{
    if (flags & ~QFILE_FLAG_ALL) {
        buf_appendf(err, "unknown queue file flags 0x%x", flags);
        return QFILE_CORRUPT;
    }
    struct qfile_header h;
    enum qfile_result result = check_header_head(fd, &h, err);
    if (result != QFILE_OK)
        return result;
    unsigned char field[4];
    qfile_put_u32(field, flags);
    return pwrite_exact(fd, field, sizeof(field), QFILE_OFF_FLAGS, sync, err);
}

enum qfile_result qfile_patch_warn_time(int fd, uint64_t warn_time,
                                        enum qfile_sync sync, struct buf *err)
{
    struct qfile_header h;
    enum qfile_result result = check_header_head(fd, &h, err);
    if (result != QFILE_OK)
        return result;
    unsigned char field[8];
    qfile_put_u64(field, warn_time);
    return pwrite_exact(fd, field, sizeof(field), QFILE_OFF_WARN_TIME, sync,
                        err);
}
