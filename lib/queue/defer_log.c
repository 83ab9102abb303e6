/* defer_log.c: per-message recipient status logs in defer/ and bounce/
 * (see defer_log.h and docs/queue-format.md). */
#include "queue/defer_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file_read.h"
#include "base/mem.h"

/* Field names, in the order the writer emits them. */
enum field {
    F_RECIPIENT,
    F_ORIG_RCPT,
    F_OFFSET,
    F_STATUS,
    F_ACTION,
    F_REASON,
    F_MTA_TYPE,
    F_MTA_NAME,
    F_DIAG_TYPE,
    F_DIAG_TEXT,
    F_LOG_TIME,
    F_COUNT
};

static const char *const FIELD_NAMES[F_COUNT] = {
    [F_RECIPIENT] = "recipient", [F_ORIG_RCPT] = "orig_rcpt",
    [F_OFFSET] = "offset",       [F_STATUS] = "status",
    [F_ACTION] = "action",       [F_REASON] = "reason",
    [F_MTA_TYPE] = "mta_type",   [F_MTA_NAME] = "mta_name",
    [F_DIAG_TYPE] = "diag_type", [F_DIAG_TEXT] = "diag_text",
    [F_LOG_TIME] = "log_time",
};

/* Fields every entry must have; the rest are optional. */
#define REQUIRED_FIELDS                                                        \
    ((1u << F_RECIPIENT) | (1u << F_OFFSET) | (1u << F_STATUS) |               \
     (1u << F_ACTION) | (1u << F_REASON) | (1u << F_LOG_TIME))

/* A line is a field name, '=', and a value of at most DEFER_LOG_MAX_TEXT
 * bytes; anything longer is damage. */
#define MAX_LINE (16 + DEFER_LOG_MAX_TEXT)

/* 1 when text is a valid value: bounded, no control characters. */
static int value_ok(const char *text, size_t len)
{
    if (len > DEFER_LOG_MAX_TEXT)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

/* Appends "name=value\n" for a value that must already be valid. */
static int put_checked(struct buf *out, enum field f, const char *value,
                       struct buf *err)
{
    if (!value_ok(value, strlen(value))) {
        buf_appendf(err, "%s: value too long or contains a control character",
                    FIELD_NAMES[f]);
        return -1;
    }
    buf_appendf(out, "%s=%s\n", FIELD_NAMES[f], value);
    return 0;
}

/* Appends "name=value\n" for free text: control characters become '?',
 * and the value is cut at DEFER_LOG_MAX_TEXT bytes without splitting a
 * UTF-8 sequence. */
static void put_text(struct buf *out, enum field f, const char *value)
{
    size_t len = strlen(value);
    if (len > DEFER_LOG_MAX_TEXT) {
        len = DEFER_LOG_MAX_TEXT;
        while (len > 0 && ((unsigned char)value[len] & 0xc0) == 0x80)
            len--; /* value[len] continues a character: cut before it */
    }
    buf_appendf(out, "%s=", FIELD_NAMES[f]);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        buf_append_char(out, c < 0x20 || c == 0x7f ? '?' : (char)c);
    }
    buf_append_char(out, '\n');
}

int defer_log_encode(const struct defer_log_entry *entry, struct buf *out,
                     struct buf *err)
{
    size_t start = out->len;
    const struct dsn *d = &entry->dsn;
    int bad = 0;
    if (entry->recipient == NULL || entry->recipient[0] == '\0') {
        buf_append_str(err, "recipient: empty");
        bad = 1;
    } else if (!dsn_status_valid(d->status)) {
        buf_appendf(err, "status: not a valid X.Y.Z code");
        bad = 1;
    } else if ((int)d->action < 0 || d->action > DSN_ACTION_EXPANDED) {
        buf_append_str(err, "action: unknown");
        bad = 1;
    }
    bad = bad || put_checked(out, F_RECIPIENT, entry->recipient, err) < 0 ||
          put_checked(out, F_ORIG_RCPT,
                      entry->orig_rcpt ? entry->orig_rcpt : "", err) < 0;
    if (!bad) {
        buf_appendf(out, "offset=%" PRIu64 "\n", entry->offset);
        buf_appendf(out, "status=%s\naction=%s\n", d->status,
                    dsn_action_name(d->action));
        put_text(out, F_REASON, d->reason ? d->reason : "");
    }
    bad =
        bad ||
        (d->mta_type && put_checked(out, F_MTA_TYPE, d->mta_type, err) < 0) ||
        (d->mta_name && put_checked(out, F_MTA_NAME, d->mta_name, err) < 0) ||
        (d->diag_type && put_checked(out, F_DIAG_TYPE, d->diag_type, err) < 0);
    if (bad) {
        buf_truncate(out, start);
        return -1;
    }
    if (d->diag_text)
        put_text(out, F_DIAG_TEXT, d->diag_text);
    buf_appendf(out, "log_time=%lld\n\n",
                (long long)(entry->log_time < 0 ? 0 : entry->log_time));
    return 0;
}

static int log_path(struct buf *path, const char *queue_directory,
                    enum queue_name log, const char *qid, struct buf *err)
{
    if ((log != QUEUE_DEFER && log != QUEUE_BOUNCE) ||
        queue_path(path, queue_directory, log, qid) < 0) {
        buf_appendf(err, "invalid queue id or log: %s", qid ? qid : "(null)");
        return -1;
    }
    return 0;
}

int defer_log_append(const char *queue_directory, enum queue_name log,
                     const char *qid, const struct defer_log_entry *entries,
                     size_t count, int sync, struct buf *err)
{
    struct buf path = BUF_INIT, text = BUF_INIT;
    int result = -1, fd = -1;
    if (log_path(&path, queue_directory, log, qid, err) < 0)
        goto out;
    for (size_t i = 0; i < count; i++) {
        if (defer_log_encode(&entries[i], &text, err) < 0) {
            buf_appendf(err, " (entry %zu for %s)", i, qid);
            goto out;
        }
    }
    fd = open(buf_cstr(&path),
              O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        buf_appendf(err, "open %s: %s", buf_cstr(&path), strerror(errno));
        goto out;
    }
    /* One write keeps the entries whole even with concurrent appenders;
     * a short write (disk full) leaves a torn entry that readers report
     * as damage, which is why the whole buffer goes in one call. */
    ssize_t wrote = write(fd, text.data, text.len);
    if (wrote < 0 || (size_t)wrote != text.len) {
        buf_appendf(err, "write %s: %s", buf_cstr(&path),
                    wrote < 0 ? strerror(errno) : "short write");
        goto out;
    }
    if (sync && fdatasync(fd) < 0) {
        buf_appendf(err, "fdatasync %s: %s", buf_cstr(&path), strerror(errno));
        goto out;
    }
    result = 0;
out:
    if (fd >= 0 && close(fd) < 0 && result == 0) {
        buf_appendf(err, "close %s: %s", buf_cstr(&path), strerror(errno));
        result = -1;
    }
    buf_free(&path);
    buf_free(&text);
    return result;
}

/* Parses a decimal number without sign or spaces, at most max. */
static int parse_u64(const char *text, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t value = 0;
    if (len == 0 || len > 20 || (len > 1 && text[0] == '0'))
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        unsigned digit = (unsigned)(text[i] - '0');
        if (value > (max - digit) / 10)
            return -1;
        value = value * 10 + digit;
    }
    *out = value;
    return 0;
}

/* The fields of the entry being parsed, as slices of the input. */
struct pending {
    unsigned seen; /* bit per enum field */
    const char *value[F_COUNT];
    size_t len[F_COUNT];
    size_t first_line;
};

static char *slice(const struct pending *p, enum field f)
{
    return (p->seen & (1u << f)) ? xstrndup(p->value[f], p->len[f]) : NULL;
}

/* Checks a complete entry and adds it to out; -1 with err set. */
static int finish_entry(const struct pending *p, struct defer_log *out,
                        size_t *cap, struct buf *err)
{
    if ((p->seen & REQUIRED_FIELDS) != REQUIRED_FIELDS) {
        for (int f = 0; f < F_COUNT; f++) {
            if ((REQUIRED_FIELDS & (1u << f)) && !(p->seen & (1u << f))) {
                buf_appendf(err, "line %zu: entry without %s", p->first_line,
                            FIELD_NAMES[f]);
                return -1;
            }
        }
    }
    if (p->len[F_RECIPIENT] == 0) {
        buf_appendf(err, "line %zu: empty recipient", p->first_line);
        return -1;
    }
    uint64_t offset, log_time;
    if (parse_u64(p->value[F_OFFSET], p->len[F_OFFSET], UINT64_MAX, &offset) <
        0) {
        buf_appendf(err, "line %zu: offset is not a number", p->first_line);
        return -1;
    }
    if (parse_u64(p->value[F_LOG_TIME], p->len[F_LOG_TIME], (uint64_t)1 << 40,
                  &log_time) < 0) {
        buf_appendf(err, "line %zu: log_time is not a time", p->first_line);
        return -1;
    }
    char *status = slice(p, F_STATUS), *action_name = slice(p, F_ACTION);
    int action = dsn_action_parse(action_name);
    struct defer_log_entry entry;
    memset(&entry, 0, sizeof(entry));
    int bad = 0;
    if (action < 0) {
        buf_appendf(err, "line %zu: unknown action", p->first_line);
        bad = 1;
    } else {
        char *reason = slice(p, F_REASON), *mta_type = slice(p, F_MTA_TYPE),
             *mta_name = slice(p, F_MTA_NAME),
             *diag_type = slice(p, F_DIAG_TYPE),
             *diag_text = slice(p, F_DIAG_TEXT);
        if (dsn_set(&entry.dsn, status, action, reason, mta_type, mta_name,
                    diag_type, diag_text) < 0) {
            buf_appendf(err, "line %zu: status is not a valid X.Y.Z code",
                        p->first_line);
            bad = 1;
        }
        free(reason);
        free(mta_type);
        free(mta_name);
        free(diag_type);
        free(diag_text);
    }
    free(status);
    free(action_name);
    if (bad)
        return -1;
    entry.recipient = slice(p, F_RECIPIENT);
    entry.orig_rcpt =
        (p->seen & (1u << F_ORIG_RCPT)) ? slice(p, F_ORIG_RCPT) : xstrdup("");
    entry.offset = offset;
    entry.log_time = (time_t)log_time;
    if (out->count == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        out->entries = xreallocarray(out->entries, *cap, sizeof(*out->entries));
    }
    out->entries[out->count++] = entry;
    return 0;
}

enum defer_log_result defer_log_parse(const char *data, size_t len,
                                      struct defer_log *out, struct buf *err)
{
    out->entries = NULL;
    out->count = 0;
    size_t cap = 0, pos = 0, line_no = 0;
    struct pending p;
    memset(&p, 0, sizeof(p));
    if (len > DEFER_LOG_MAX_SIZE) {
        buf_appendf(err, "log of %zu bytes exceeds %d", len,
                    DEFER_LOG_MAX_SIZE);
        return DEFER_LOG_CORRUPT;
    }
    while (pos < len) {
        line_no++;
        const char *line = data + pos;
        const char *nl = memchr(line, '\n', len - pos);
        if (nl == NULL) {
            buf_appendf(err, "line %zu: incomplete last line", line_no);
            return DEFER_LOG_CORRUPT;
        }
        size_t line_len = (size_t)(nl - line);
        pos += line_len + 1;
        if (line_len > MAX_LINE) {
            buf_appendf(err, "line %zu: longer than %d bytes", line_no,
                        MAX_LINE);
            return DEFER_LOG_CORRUPT;
        }
        if (line_len == 0) {
            if (p.seen == 0) {
                buf_appendf(err, "line %zu: empty entry", line_no);
                return DEFER_LOG_CORRUPT;
            }
            if (out->count >= DEFER_LOG_MAX_ENTRIES) {
                buf_appendf(err, "line %zu: more than %d entries", line_no,
                            DEFER_LOG_MAX_ENTRIES);
                return DEFER_LOG_CORRUPT;
            }
            if (finish_entry(&p, out, &cap, err) < 0)
                return DEFER_LOG_CORRUPT;
            memset(&p, 0, sizeof(p));
            continue;
        }
        const char *eq = memchr(line, '=', line_len);
        if (eq == NULL) {
            buf_appendf(err, "line %zu: no '=' in line", line_no);
            return DEFER_LOG_CORRUPT;
        }
        size_t name_len = (size_t)(eq - line);
        int field = -1;
        for (int f = 0; f < F_COUNT; f++) {
            if (strlen(FIELD_NAMES[f]) == name_len &&
                memcmp(FIELD_NAMES[f], line, name_len) == 0)
                field = f;
        }
        if (field < 0) {
            buf_appendf(err, "line %zu: unknown field", line_no);
            return DEFER_LOG_CORRUPT;
        }
        if (p.seen & (1u << field)) {
            buf_appendf(err, "line %zu: %s given twice", line_no,
                        FIELD_NAMES[field]);
            return DEFER_LOG_CORRUPT;
        }
        const char *value = eq + 1;
        size_t value_len = line_len - name_len - 1;
        if (!value_ok(value, value_len)) {
            buf_appendf(err, "line %zu: %s too long or has a control character",
                        line_no, FIELD_NAMES[field]);
            return DEFER_LOG_CORRUPT;
        }
        if (p.seen == 0)
            p.first_line = line_no;
        p.seen |= 1u << field;
        p.value[field] = value;
        p.len[field] = value_len;
    }
    if (p.seen != 0) {
        buf_appendf(err, "line %zu: incomplete entry at the end of the log",
                    p.first_line);
        return DEFER_LOG_CORRUPT;
    }
    return DEFER_LOG_OK;
}

enum defer_log_result defer_log_read(const char *queue_directory,
                                     enum queue_name log, const char *qid,
                                     struct defer_log *out, struct buf *err)
{
    out->entries = NULL;
    out->count = 0;
    struct buf path = BUF_INIT, data = BUF_INIT;
    enum defer_log_result result = DEFER_LOG_SYSERR;
    int fd = -1;
    if (log_path(&path, queue_directory, log, qid, err) < 0) {
        result = DEFER_LOG_CORRUPT; /* a bad name is the caller's damage */
        goto out;
    }
    /* O_NONBLOCK: a FIFO planted in the log directory must not hang
     * the reader; it is refused as "not a file" below. */
    fd = open(buf_cstr(&path), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) {
            result = DEFER_LOG_NOTFOUND;
        } else {
            buf_appendf(err, "open %s: %s", buf_cstr(&path), strerror(errno));
        }
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        buf_appendf(err, "fstat %s: %s", buf_cstr(&path), strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > DEFER_LOG_MAX_SIZE) {
        buf_appendf(err, "%s: %s", buf_cstr(&path),
                    S_ISREG(st.st_mode) ? "log too large" : "not a file");
        result = DEFER_LOG_CORRUPT;
        goto out;
    }
    /* A file that grew past the limit since the fstat is seen as too
     * large (EFBIG), not read whole. */
    if (file_read_fd(fd, buf_cstr(&path), DEFER_LOG_MAX_SIZE, &data, err) < 0) {
        if (errno == EFBIG)
            result = DEFER_LOG_CORRUPT;
        goto out;
    }
    result = defer_log_parse(data.data ? data.data : "", data.len, out, err);
    if (result == DEFER_LOG_CORRUPT) {
        struct buf where = BUF_INIT;
        buf_appendf(&where, "%s: ", buf_cstr(&path));
        buf_append(&where, err->data, err->len);
        buf_set(err, where.data, where.len);
        buf_free(&where);
    }
out:
    if (fd >= 0)
        close(fd);
    buf_free(&path);
    buf_free(&data);
    return result;
}

void defer_log_free(struct defer_log *log)
{
    for (size_t i = 0; i < log->count; i++) {
        free(log->entries[i].recipient);
        free(log->entries[i].orig_rcpt);
        dsn_free(&log->entries[i].dsn);
    }
    free(log->entries);
    log->entries = NULL;
    log->count = 0;
}

const struct defer_log_entry *defer_log_find(const struct defer_log *log,
                                             uint64_t offset)
{
    for (size_t i = log->count; i > 0; i--)
        if (log->entries[i - 1].offset == offset)
            return &log->entries[i - 1];
    return NULL;
}

int defer_log_remove(const char *queue_directory, enum queue_name log,
                     const char *qid, struct buf *err)
{
    struct buf path = BUF_INIT;
    int result = -1;
    if (log_path(&path, queue_directory, log, qid, err) == 0) {
        if (unlink(buf_cstr(&path)) == 0 || errno == ENOENT)
            result = 0;
        else
            buf_appendf(err, "unlink %s: %s", buf_cstr(&path), strerror(errno));
    }
    buf_free(&path);
    return result;
}
