/* qfile_writer.c: creates, fills and commits one queue file (see
 * qfile_writer.h and docs/queue-format.md).
 *
 * Records are gathered in one buffer and written in large pieces, so a
 * small message reaches the file in a single write(2); content larger
 * than the buffer goes out with writev(2) straight from the caller's
 * bytes. Fields known only at the end (header, content length) are
 * patched in the buffer when still there, else with pwrite(2). */
#include "queue/qfile_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/mem.h"
#include "queue/qfile_pool.h"
#include "queue/qid.h"
#include "base/str.h"

/* Pending bytes are written once this many have gathered. */
#define WRITER_FLUSH_AT (64 * 1024)

enum writer_state {
    WRITER_OPEN,      /* taking envelope records and content */
    WRITER_FINISHED,  /* end record written, file synced */
    WRITER_COMMITTED, /* renamed into place */
    WRITER_FAILED,    /* a write failed: only free is left */
};

enum content_state { CONTENT_NONE, CONTENT_OPEN, CONTENT_DONE };

struct qfile_writer {
    int fd;
    char *dir;
    char *temp_path;
    char qid[QID_BUF_SIZE];
    enum writer_state state;
    struct buf pending; /* bytes not yet written; file offset `flushed` */
    uint64_t flushed;   /* bytes already in the file */
    struct qfile_header header;
    enum content_state content;
    uint64_t content_size;
    int body_scan; /* 0 mid-line, 1 after LF, 2 after LF CR */
    int body_found;
    uint64_t created_sec;
    uint32_t created_usec;
    int have_sender, have_arrival, have_ret, have_envid, have_encoding;
    struct strlist attr_names;
    int recycled; /* the file came from the pool: truncate at finish */
    /* Where each pending recipient record starts (its type byte), for
     * qfile_writer_recipients_drop. */
    uint64_t *rcpt_offsets;
    size_t rcpt_offset_count, rcpt_offset_cap;
};

static uint64_t writer_offset(const struct qfile_writer *w)
{
    return w->flushed + w->pending.len;
}

static int fail_errno(struct qfile_writer *w, const char *what, struct buf *err)
{
    buf_appendf(err, "%s %s: %s", what, w->temp_path, strerror(errno));
    w->state = WRITER_FAILED;
    return -1;
}

/* Writes every byte of the iovecs, resuming after partial writes. */
static int write_iov(struct qfile_writer *w, struct iovec *iov, int count,
                     struct buf *err)
{
    while (count > 0) {
        ssize_t put = writev(w->fd, iov, count);
        if (put < 0 && errno == EINTR)
            continue;
        if (put < 0)
            return fail_errno(w, "write", err);
        w->flushed += (uint64_t)put;
        size_t left = (size_t)put;
        while (count > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            count--;
        }
        if (count > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

static int flush_pending(struct qfile_writer *w, struct buf *err)
{
    if (w->pending.len == 0)
        return 0;
    struct iovec iov = {w->pending.data, w->pending.len};
    if (write_iov(w, &iov, 1, err) < 0)
        return -1;
    buf_reset(&w->pending);
    return 0;
}

/* Overwrites len bytes at a file offset already produced, in the buffer
 * or in the file, whichever holds them. */
static int patch(struct qfile_writer *w, uint64_t offset,
                 const unsigned char *data, size_t len, struct buf *err)
{
    while (len > 0 && offset < w->flushed) {
        size_t part = len;
        if (offset + part > w->flushed)
            part = (size_t)(w->flushed - offset);
        ssize_t put = pwrite(w->fd, data, part, (off_t)offset);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0)
            return fail_errno(w, "write", err);
        offset += (uint64_t)put;
        data += put;
        len -= (size_t)put;
    }
    if (len > 0)
        memcpy(w->pending.data + (offset - w->flushed), data, len);
    return 0;
}

static int check_open(struct qfile_writer *w, int in_content, struct buf *err)
{
    if (w->state != WRITER_OPEN) {
        buf_append_str(err, w->state == WRITER_FAILED
                                ? "queue file writer failed earlier"
                                : "queue file already finished");
        return -1;
    }
    if (in_content != (w->content == CONTENT_OPEN)) {
        buf_append_str(err, in_content ? "message content is not open"
                                       : "envelope record while the "
                                         "message content is open");
        return -1;
    }
    return 0;
}

static int append_record(struct qfile_writer *w, char type, const void *payload,
                         size_t len, struct buf *err)
{
    unsigned char head[QFILE_REC_HDR_LEN];
    head[0] = (unsigned char)type;
    qfile_put_u32(head + 1, (uint32_t)len);
    buf_append(&w->pending, head, sizeof(head));
    buf_append(&w->pending, payload, len);
    if (w->pending.len >= WRITER_FLUSH_AT)
        return flush_pending(w, err);
    return 0;
}

static int check_text(const char *what, const char *text, struct buf *err)
{
    if (!qfile_text_ok(text, strlen(text))) {
        buf_appendf(err,
                    "%s is longer than %d bytes or contains control "
                    "characters",
                    what, QFILE_MAX_TEXT);
        return -1;
    }
    return 0;
}

/* The queue directory a writer's directory (incoming/) sits in: where
 * the pool of reusable files is (lib/queue/qfile_pool.h). */
static char *parent_dir(const char *dir)
{
    const char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return xstrdup(".");
    if (slash == dir)
        return xstrdup("/");
    return xstrndup(dir, (size_t)(slash - dir));
}

static int create_temp(struct qfile_writer *w, struct buf *err)
{
    static unsigned counter;
    /* A pooled file is written where it lies in recycle/ and renamed from
     * there to its queue id: one rename (lib/queue/qfile_pool.h). */
    char *queue_dir = parent_dir(w->dir), *pooled = NULL;
    w->fd = qfile_pool_take(queue_dir, &pooled);
    free(queue_dir);
    if (w->fd >= 0) {
        w->temp_path = pooled;
        w->recycled = 1;
        return 0;
    }
    for (int attempt = 0; attempt < 8; attempt++) {
        uint32_t random_bits = 0;
        if (getrandom(&random_bits, sizeof(random_bits), GRND_NONBLOCK) < 0)
            random_bits = (uint32_t)time(NULL);
        free(w->temp_path);
        /* A leading dot: never a valid queue id, so scanners skip it. */
        /* Atomic: smtpd may create writers from several I/O threads. */
        unsigned serial = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
        w->temp_path = xasprintf("%s/.t%ld.%u.%08x", w->dir, (long)getpid(),
                                 serial, random_bits);
        w->fd =
            open(w->temp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (w->fd >= 0)
            return 0;
        if (errno != EEXIST)
            break;
    }
    buf_appendf(err, "create %s: %s", w->temp_path, strerror(errno));
    return -1;
}

struct qfile_writer *qfile_writer_create(const char *dir, struct buf *err)
{
    struct qfile_writer *w = xcalloc(1, sizeof(*w));
    w->fd = -1;
    w->dir = xstrdup(dir);
    buf_init(&w->pending);
    strlist_init(&w->attr_names);
    w->state = WRITER_FAILED; /* until the file exists */
    if (create_temp(w, err) < 0) {
        qfile_writer_free(w);
        return NULL;
    }
    struct stat st;
    struct timespec now;
    if (fstat(w->fd, &st) < 0) {
        fail_errno(w, "fstat", err);
        qfile_writer_free(w);
        return NULL;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    w->created_sec = (uint64_t)now.tv_sec;
    w->created_usec = (uint32_t)(now.tv_nsec / 1000);
    qid_make(w->qid, w->created_sec, w->created_usec, (uint64_t)st.st_ino);
    w->state = WRITER_OPEN;
    w->header.version = QFILE_VERSION;
    w->body_scan = 1; /* the content starts at the beginning of a line */

    unsigned char header[QFILE_HEADER_LEN];
    buf_append(&w->pending, QFILE_MAGIC, QFILE_MAGIC_LEN);
    qfile_header_encode(&w->header, header); /* patched by finish */
    append_record(w, QFILE_REC_HEADER, header, sizeof(header), err);
    return w;
}

const char *qfile_writer_qid(const struct qfile_writer *w)
{
    return w->qid;
}

uint64_t qfile_writer_size(const struct qfile_writer *w)
{
    return writer_offset(w);
}

uint64_t qfile_writer_content_size(const struct qfile_writer *w)
{
    return w->content_size;
}

int qfile_writer_arrival(struct qfile_writer *w, uint64_t seconds,
                         uint32_t micros, struct buf *err)
{
    if (check_open(w, 0, err) < 0)
        return -1;
    if (w->have_arrival || micros >= 1000000) {
        buf_append_str(err, w->have_arrival ? "arrival time given twice"
                                            : "microseconds out of range");
        return -1;
    }
    unsigned char payload[12];
    qfile_put_u64(payload, seconds);
    qfile_put_u32(payload + 8, micros);
    w->have_arrival = 1;
    return append_record(w, QFILE_REC_ARRIVAL, payload, sizeof(payload), err);
}

int qfile_writer_sender(struct qfile_writer *w, const char *sender,
                        struct buf *err)
{
    if (check_open(w, 0, err) < 0 || check_text("sender", sender, err) < 0)
        return -1;
    if (w->have_sender) {
        buf_append_str(err, "sender given twice");
        return -1;
    }
    w->have_sender = 1;
    return append_record(w, QFILE_REC_SENDER, sender, strlen(sender), err);
}

int qfile_writer_recipient(struct qfile_writer *w,
                           const struct qfile_recipient *rcpt, struct buf *err)
{
    if (check_open(w, 0, err) < 0)
        return -1;
    if (rcpt->address == NULL || rcpt->address[0] == '\0') {
        buf_append_str(err, "empty recipient address");
        return -1;
    }
    struct buf payload = BUF_INIT;
    int result = qfile_recipient_encode(rcpt, &payload, err);
    if (result == 0) {
        if (!rcpt->done) {
            if (w->rcpt_offset_count == w->rcpt_offset_cap) {
                w->rcpt_offset_cap =
                    w->rcpt_offset_cap ? 2 * w->rcpt_offset_cap : 8;
                w->rcpt_offsets =
                    xreallocarray(w->rcpt_offsets, w->rcpt_offset_cap,
                                  sizeof(*w->rcpt_offsets));
            }
            w->rcpt_offsets[w->rcpt_offset_count++] = writer_offset(w);
        }
        w->header.recipient_count++;
        result =
            append_record(w, rcpt->done ? QFILE_REC_RCPT_DONE : QFILE_REC_RCPT,
                          payload.data, payload.len, err);
    }
    buf_free(&payload);
    return result;
}

int qfile_writer_recipients_drop(struct qfile_writer *w, struct buf *err)
{
    if (w->state != WRITER_OPEN) {
        buf_append_str(err, "queue file writer is not open");
        return -1;
    }
    /* The type byte is the done mark: the same one-byte change an agent
     * makes after a delivery. */
    const unsigned char done = (unsigned char)QFILE_REC_RCPT_DONE;
    for (size_t i = 0; i < w->rcpt_offset_count; i++)
        if (patch(w, w->rcpt_offsets[i], &done, 1, err) < 0)
            return -1;
    w->rcpt_offset_count = 0;
    return 0;
}

int qfile_writer_dsn_ret(struct qfile_writer *w, char ret, struct buf *err)
{
    if (check_open(w, 0, err) < 0)
        return -1;
    if (w->have_ret || (ret != QFILE_RET_FULL && ret != QFILE_RET_HDRS)) {
        buf_append_str(err, w->have_ret ? "DSN RET given twice"
                                        : "DSN RET must be FULL or HDRS");
        return -1;
    }
    w->have_ret = 1;
    return append_record(w, QFILE_REC_DSN_RET, &ret, 1, err);
}

int qfile_writer_dsn_envid(struct qfile_writer *w, const char *envid,
                           struct buf *err)
{
    if (check_open(w, 0, err) < 0 || check_text("ENVID", envid, err) < 0)
        return -1;
    if (w->have_envid) {
        buf_append_str(err, "DSN ENVID given twice");
        return -1;
    }
    w->have_envid = 1;
    return append_record(w, QFILE_REC_DSN_ENVID, envid, strlen(envid), err);
}

int qfile_writer_encoding(struct qfile_writer *w, uint32_t flags,
                          struct buf *err)
{
    if (check_open(w, 0, err) < 0)
        return -1;
    if (w->have_encoding || (flags & ~QFILE_ENC_ALL)) {
        buf_append_str(err, w->have_encoding ? "encoding given twice"
                                             : "unknown encoding flags");
        return -1;
    }
    unsigned char payload[4];
    qfile_put_u32(payload, flags);
    w->have_encoding = 1;
    return append_record(w, QFILE_REC_ENCODING, payload, sizeof(payload), err);
}

int qfile_writer_attr(struct qfile_writer *w, const char *name,
                      const char *value, struct buf *err)
{
    if (check_open(w, 0, err) < 0 ||
        check_text("attribute value", value, err) < 0)
        return -1;
    if (!qfile_attr_name_ok(name, strlen(name))) {
        buf_append_str(err, "attribute name must be 1-64 of [a-z0-9_]");
        return -1;
    }
    if (w->attr_names.count >= QFILE_MAX_ATTRS) {
        buf_appendf(err, "more than %d attributes", QFILE_MAX_ATTRS);
        return -1;
    }
    for (size_t i = 0; i < w->attr_names.count; i++) {
        if (strcmp(w->attr_names.items[i], name) == 0) {
            buf_appendf(err, "attribute %s given twice", name);
            return -1;
        }
    }
    strlist_add(&w->attr_names, name);
    struct buf payload = BUF_INIT;
    buf_appendf(&payload, "%s=%s", name, value);
    int result =
        append_record(w, QFILE_REC_ATTR, payload.data, payload.len, err);
    buf_free(&payload);
    return result;
}

int qfile_writer_flags(struct qfile_writer *w, uint32_t flags, struct buf *err)
{
    if (check_open(w, w->content == CONTENT_OPEN, err) < 0)
        return -1;
    if (flags & ~QFILE_FLAG_ALL) {
        buf_appendf(err, "unknown queue file flags 0x%x", flags);
        return -1;
    }
    w->header.flags = flags;
    return 0;
}

int qfile_writer_warn_time(struct qfile_writer *w, uint64_t warn_time,
                           struct buf *err)
{
    if (check_open(w, w->content == CONTENT_OPEN, err) < 0)
        return -1;
    w->header.warn_time = warn_time;
    return 0;
}

int qfile_writer_content_begin(struct qfile_writer *w, struct buf *err)
{
    if (check_open(w, 0, err) < 0)
        return -1;
    if (w->content != CONTENT_NONE) {
        buf_append_str(err, "message content given twice");
        return -1;
    }
    /* The length is a placeholder until content_end knows it. */
    if (append_record(w, QFILE_REC_CONTENT, "", 0, err) < 0)
        return -1;
    w->content = CONTENT_OPEN;
    w->header.content_offset = writer_offset(w);
    return 0;
}

/* Finds the first empty line: the body starts after it. */
static void scan_body(struct qfile_writer *w, const unsigned char *data,
                      size_t len)
{
    for (size_t i = 0; i < len && !w->body_found; i++) {
        if (data[i] == '\n' && w->body_scan != 0) {
            w->body_found = 1;
            w->header.body_offset = w->content_size + i + 1;
        } else if (data[i] == '\n') {
            w->body_scan = 1;
        } else if (data[i] == '\r' && w->body_scan == 1) {
            w->body_scan = 2;
        } else {
            w->body_scan = 0;
        }
    }
}

int qfile_writer_content_append(struct qfile_writer *w, const void *data,
                                size_t len, struct buf *err)
{
    if (check_open(w, 1, err) < 0)
        return -1;
    if (len > QFILE_MAX_CONTENT - w->content_size) {
        buf_append_str(err, "message too large for a queue file");
        return -1;
    }
    scan_body(w, data, len);
    w->content_size += len;
    if (w->pending.len + len < WRITER_FLUSH_AT) {
        buf_append(&w->pending, data, len);
        return 0;
    }
    /* Large data: one writev of what is pending and the caller's bytes,
     * without copying them into the buffer first. */
    struct iovec iov[2] = {{w->pending.data, w->pending.len},
                           {(void *)data, len}};
    int result = w->pending.len ? write_iov(w, iov, 2, err)
                                : write_iov(w, iov + 1, 1, err);
    buf_reset(&w->pending);
    return result;
}

int qfile_writer_content_end(struct qfile_writer *w, struct buf *err)
{
    if (check_open(w, 1, err) < 0)
        return -1;
    unsigned char length[4];
    qfile_put_u32(length, (uint32_t)w->content_size);
    if (patch(w, w->header.content_offset - 4, length, 4, err) < 0)
        return -1;
    w->content = CONTENT_DONE;
    w->header.message_size = w->content_size;
    if (!w->body_found)
        w->header.body_offset = w->content_size;
    return 0;
}

int qfile_writer_finish(struct qfile_writer *w, struct buf *err)
{
    if (w->state == WRITER_OPEN && w->content == CONTENT_OPEN) {
        buf_append_str(err, "message content not ended");
        return -1;
    }
    if (check_open(w, 0, err) < 0)
        return -1;
    if (!w->have_sender || w->header.recipient_count == 0 ||
        w->content != CONTENT_DONE) {
        buf_append_str(err, !w->have_sender ? "queue file has no sender"
                            : w->header.recipient_count == 0
                                ? "queue file has no recipients"
                                : "queue file has no message content");
        return -1;
    }
    if (!w->have_arrival &&
        qfile_writer_arrival(w, w->created_sec, w->created_usec, err) < 0)
        return -1;
    w->header.end_offset = writer_offset(w);
    unsigned char header[QFILE_HEADER_LEN];
    qfile_header_encode(&w->header, header);
    if (patch(w, QFILE_HEADER_POS, header, sizeof(header), err) < 0 ||
        append_record(w, QFILE_REC_END, "", 0, err) < 0 ||
        flush_pending(w, err) < 0)
        return -1;
    /* A recycled file may be longer than this message: cut the rest off
     * before the sync, so the sync covers the new length too. */
    if (w->recycled && ftruncate(w->fd, (off_t)w->flushed) < 0)
        return fail_errno(w, "ftruncate", err);
    /* fdatasync also writes the size and block map, all a reader needs;
     * only timestamps are left to the kernel. */
    if (fdatasync(w->fd) < 0)
        return fail_errno(w, "fdatasync", err);
    w->state = WRITER_FINISHED;
    return 0;
}

int qfile_writer_commit(struct qfile_writer *w, struct buf *err)
{
    if (w->state != WRITER_FINISHED) {
        buf_append_str(err, "queue file not finished");
        return -1;
    }
    char *final_path = xasprintf("%s/%s", w->dir, w->qid);
    int result = renameat2(AT_FDCWD, w->temp_path, AT_FDCWD, final_path,
                           RENAME_NOREPLACE);
    if (result < 0 && (errno == EINVAL || errno == ENOSYS)) {
        /* File systems without RENAME_NOREPLACE: link() also refuses to
         * replace, and the temporary name is then removed. */
        result = link(w->temp_path, final_path);
        if (result == 0)
            unlink(w->temp_path);
    }
    if (result < 0) {
        /* EEXIST would need a copied-in file with our inode and time. */
        buf_appendf(err, "rename %s to %s: %s", w->temp_path, final_path,
                    strerror(errno));
        free(final_path);
        return -1;
    }
    free(final_path);
    w->state = WRITER_COMMITTED;
    return 0;
}

int qfile_writer_commit_replace(struct qfile_writer *w, const char *path,
                                struct buf *err)
{
    if (w->state != WRITER_FINISHED) {
        buf_append_str(err, "queue file not finished");
        return -1;
    }
    if (rename(w->temp_path, path) < 0) {
        buf_appendf(err, "rename %s to %s: %s", w->temp_path, path,
                    strerror(errno));
        return -1;
    }
    w->state = WRITER_COMMITTED;
    return 0;
}

void qfile_writer_free(struct qfile_writer *w)
{
    if (w == NULL)
        return;
    /* The name goes before the fd: a pooled file's claim (its flock)
     * ends with the close, and the name must not outlive it. */
    if (w->state != WRITER_COMMITTED && w->fd >= 0)
        unlink(w->temp_path);
    if (w->fd >= 0)
        close(w->fd);
    free(w->dir);
    free(w->temp_path);
    free(w->rcpt_offsets);
    buf_free(&w->pending);
    strlist_free(&w->attr_names);
    free(w);
}
