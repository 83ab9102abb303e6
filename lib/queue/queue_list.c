/* queue_list.c: the queue scan and the mailq / postqueue -p / -j listing
 * formats (queue_list.h). */
#include "queue/queue_list.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queue/defer_log.h"
#include "base/mem.h"
#include "queue/qfile_reader.h"
#include "queue/qid.h"
#include "queue/qtool.h"
#include "queue/queue_dirs.h"
#include "base/str.h"

/* maildrop/ last, as Postfix's showq: mail postsuper -r requeued that
 * qmgr has not rewritten yet (lib/queue/requeue.h). */
static const enum queue_name LISTED[] = {QUEUE_INCOMING, QUEUE_ACTIVE,
                                         QUEUE_DEFERRED, QUEUE_HOLD,
                                         QUEUE_MAILDROP};

/* Columns of Postfix's long-queue-id listing. */
#define LIST_ID_WIDTH 17
#define LIST_SIZE_WIDTH 8
#define LIST_TIME_WIDTH 19
#define LIST_REASON_WIDTH 76

/* Length of the valid UTF-8 sequence at s (at most len bytes), or 0. */
static size_t utf8_length(const unsigned char *s, size_t len)
{
    size_t need;
    uint32_t min, cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0)
        need = 2, min = 0x80, cp = s[0] & 0x1f;
    else if ((s[0] & 0xf0) == 0xe0)
        need = 3, min = 0x800, cp = s[0] & 0x0f;
    else if ((s[0] & 0xf8) == 0xf0)
        need = 4, min = 0x10000, cp = s[0] & 0x07;
    else
        return 0;
    if (need > len)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return need;
}

void queue_list_json_quote(struct buf *out, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text);
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            buf_append_char(out, '\\');
            buf_append_char(out, (char)c);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            buf_appendf(out, "\\u%04x", c);
            i++;
        } else {
            size_t n = utf8_length(s + i, len - i);
            if (n == 0) {
                buf_append_char(out, '?');
                i++;
            } else {
                buf_append(out, s + i, n);
                i += n;
            }
        }
    }
}

/* Non-printable bytes (there should be none: the reader refuses control
 * characters) never reach a terminal. */
static void append_printable(struct buf *out, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        buf_append_char(out, *p < 0x20 || *p == 0x7f ? '?' : (char)*p);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Valid ids in one queue, sorted. -1 when the directory cannot be read. */
static int list_ids(const char *queue_directory, enum queue_name queue,
                    struct strlist *ids, struct buf *err)
{
    struct buf dir = BUF_INIT;
    queue_dir_path(&dir, queue_directory, queue);
    DIR *d = opendir(buf_cstr(&dir));
    if (d == NULL) {
        int missing = errno == ENOENT;
        if (!missing)
            buf_appendf(err, "open directory %s: %s", buf_cstr(&dir),
                        strerror(errno));
        buf_free(&dir);
        return missing ? 0 : -1;
    }
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL)
        if (qid_valid(ent->d_name))
            strlist_add(ids, ent->d_name);
    closedir(d);
    buf_free(&dir);
    /* qsort's base must not be NULL, even for zero items (C11 7.22.5). */
    if (ids->count > 1)
        qsort(ids->items, ids->count, sizeof(*ids->items), compare_names);
    return 0;
}

static const char *reason_of(const struct defer_log *log,
                             const struct qfile_recipient *rcpt)
{
    const struct defer_log_entry *e =
        log ? defer_log_find(log, rcpt->offset) : NULL;
    return e && e->dsn.reason ? e->dsn.reason : "";
}

static void format_text(struct buf *out, const struct queue_list_entry *e,
                        const char *sender)
{
    struct buf id = BUF_INIT, shown = BUF_INIT;
    append_printable(&id, e->queue_id);
    /* The status mark has a column of its own, right after the id, as
     * in Postfix's listing: '*' active, '!' held, else a space; so the
     * columns line up whatever the mark. */
    char mark = e->queue == QUEUE_ACTIVE ? '*'
                : e->queue == QUEUE_HOLD ? '!'
                                         : ' ';
    char when[64] = "??";
    time_t arrival = (time_t)e->arrival_time;
    struct tm tm;
    if (localtime_r(&arrival, &tm))
        strftime(when, sizeof(when), "%a %b %e %H:%M:%S", &tm);
    append_printable(&shown, sender);
    buf_appendf(out, "%-*s%c %*" PRIu64 " %-*.*s %s\n", LIST_ID_WIDTH,
                buf_cstr(&id), mark, LIST_SIZE_WIDTH, e->message_size,
                LIST_TIME_WIDTH, LIST_TIME_WIDTH, when, buf_cstr(&shown));
    const char *previous = "";
    for (size_t i = 0; i < e->recipient_count; i++) {
        const struct queue_list_recipient *rcpt = &e->recipients[i];
        const char *reason = rcpt->delay_reason ? rcpt->delay_reason : "";
        /* A reason line only when it changes; "reason unavailable" when
         * a recipient has none after one that had one (as Postfix). */
        if (strcmp(reason, previous) != 0) {
            const char *text = *reason ? reason : "reason unavailable";
            int padding = LIST_REASON_WIDTH - (int)strlen(text);
            buf_reset(&shown);
            append_printable(&shown, text);
            buf_appendf(out, "%*s(%s)\n", padding > 0 ? padding : 0, "",
                        buf_cstr(&shown));
            previous = reason;
        }
        buf_reset(&shown);
        append_printable(&shown, rcpt->address);
        buf_appendf(out, "%*s%s\n",
                    LIST_ID_WIDTH + 1 + LIST_SIZE_WIDTH + LIST_TIME_WIDTH + 3,
                    "",
                    buf_cstr(&shown));
    }
    buf_free(&id);
    buf_free(&shown);
}

static void format_json(struct buf *out, const struct queue_list_entry *e,
                        const char *sender)
{
    const char *queue = queue_dir_name(e->queue);
    buf_append_str(out, "{\"queue_name\": \"");
    queue_list_json_quote(out, queue ? queue : "");
    buf_append_str(out, "\", \"queue_id\": \"");
    queue_list_json_quote(out, e->queue_id);
    buf_appendf(out,
                "\", \"arrival_time\": %" PRIu64 ", \"message_size\": %" PRIu64
                ", \"forced_expire\": false, \"sender\": \"",
                e->arrival_time, e->message_size);
    queue_list_json_quote(out, sender);
    buf_append_str(out, "\", \"recipients\": [");
    for (size_t i = 0; i < e->recipient_count; i++) {
        const struct queue_list_recipient *rcpt = &e->recipients[i];
        buf_append_str(out, i == 0 ? "{\"address\": \"" : ", {\"address\": \"");
        queue_list_json_quote(out, rcpt->address);
        buf_append_char(out, '"');
        if (rcpt->delay_reason && *rcpt->delay_reason) {
            buf_append_str(out, ", \"delay_reason\": \"");
            queue_list_json_quote(out, rcpt->delay_reason);
            buf_append_char(out, '"');
        }
        buf_append_char(out, '}');
    }
    buf_append_str(out, "]}\n");
}

void queue_list_printer_init(struct queue_list_printer *p,
                             enum queue_list_format format,
                             const char *empty_sender, FILE *out)
{
    p->format = format;
    p->empty_sender = empty_sender;
    p->out = out;
    p->count = 0;
    p->total_size = 0;
}

void queue_list_print(struct queue_list_printer *p,
                      const struct queue_list_entry *entry)
{
    struct buf text = BUF_INIT;
    const char *sender = entry->sender[0] ? entry->sender : p->empty_sender;
    if (p->format == QUEUE_LIST_JSON) {
        format_json(&text, entry, sender);
    } else {
        if (p->count == 0)
            fprintf(p->out, "%-*s %*s %-*s %s\n", LIST_ID_WIDTH + 1,
                    "----Queue ID-----", LIST_SIZE_WIDTH, "--Size--",
                    LIST_TIME_WIDTH, "---Arrival Time----",
                    "--Sender/Recipient------");
        else
            fputc('\n', p->out);
        format_text(&text, entry, sender);
    }
    fwrite(text.data, 1, text.len, p->out);
    p->count++;
    p->total_size += entry->message_size;
    buf_free(&text);
}

void queue_list_print_end(struct queue_list_printer *p)
{
    if (p->format == QUEUE_LIST_TEXT) {
        if (p->count == 0)
            fprintf(p->out, "Mail queue is empty\n");
        else
            fprintf(p->out, "\n-- %llu Kbytes in %lu Request%s.\n",
                    p->total_size / 1024, p->count, p->count == 1 ? "" : "s");
    }
    fflush(p->out);
}

static void warn(const struct queue_list_scan_ops *ops, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void warn(const struct queue_list_scan_ops *ops, const char *fmt, ...)
{
    if (ops->warning == NULL)
        return;
    struct buf text = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&text, fmt, ap);
    va_end(ap);
    ops->warning(buf_cstr(&text), ops->ctx);
    buf_free(&text);
}

/* Reads one message and hands it to ops->entry. Returns the callback's
 * result, or 0 when the message is left out. */
static int scan_message(const char *queue_directory, enum queue_name queue,
                        const char *qid, const struct queue_list_scan_ops *ops)
{
    struct buf path = BUF_INIT, err = BUF_INIT;
    struct qfile_reader *r = NULL;
    struct qfile_envelope env;
    memset(&env, 0, sizeof(env));
    int status = 0;
    queue_path(&path, queue_directory, queue, qid);
    enum qfile_result result = qfile_reader_open(buf_cstr(&path), 0, &r, &err);
    if (result == QFILE_OK)
        result = qfile_read_envelope(r, &env, &err);
    if (result == QFILE_CORRUPT) {
        warn(ops, "%s/%s: corrupt queue file: %s", queue_dir_name(queue), qid,
             buf_cstr(&err));
    } else if (result == QFILE_SYSERR && errno != ENOENT) {
        warn(ops, "%s/%s: %s", queue_dir_name(queue), qid, buf_cstr(&err));
    } else if (result == QFILE_OK) {
        struct defer_log log;
        buf_reset(&err);
        enum defer_log_result logged =
            defer_log_read(queue_directory, QUEUE_DEFER, qid, &log, &err);
        if (logged == DEFER_LOG_CORRUPT || logged == DEFER_LOG_SYSERR)
            warn(ops, "%s", buf_cstr(&err)); /* keep what was read */
        const struct defer_log *reasons =
            logged == DEFER_LOG_OK || logged == DEFER_LOG_CORRUPT ? &log : NULL;
        struct queue_list_recipient *rcpts = xcalloc(
            env.recipient_count ? env.recipient_count : 1, sizeof(*rcpts));
        size_t count = 0;
        for (size_t i = 0; i < env.recipient_count; i++) {
            const struct qfile_recipient *rcpt = &env.recipients[i];
            if (rcpt->done)
                continue;
            rcpts[count].address = rcpt->address;
            rcpts[count].delay_reason = reason_of(reasons, rcpt);
            count++;
        }
        struct queue_list_entry entry = {
            .queue = queue,
            .queue_id = qid,
            .arrival_time = env.arrival_sec,
            .message_size = env.header.message_size,
            .sender = env.sender ? env.sender : "",
            .recipients = rcpts,
            .recipient_count = count,
        };
        status = ops->entry(&entry, ops->ctx);
        free(rcpts);
        defer_log_free(&log);
    }
    qfile_envelope_free(&env);
    if (r)
        qfile_reader_close(r);
    buf_free(&path);
    buf_free(&err);
    return status;
}

int queue_list_scan(const char *queue_directory,
                    const struct queue_list_scan_ops *ops, struct buf *err)
{
    int result = 0;
    for (size_t q = 0; q < sizeof(LISTED) / sizeof(LISTED[0]); q++) {
        struct strlist ids;
        strlist_init(&ids);
        if (list_ids(queue_directory, LISTED[q], &ids, err) < 0)
            result = -1;
        for (size_t i = 0; i < ids.count; i++) {
            if (scan_message(queue_directory, LISTED[q], ids.items[i], ops) <
                0) {
                strlist_free(&ids);
                return 1;
            }
        }
        strlist_free(&ids);
    }
    return result;
}

static int print_entry(const struct queue_list_entry *entry, void *ctx)
{
    queue_list_print(ctx, entry);
    return 0;
}

static void print_warning(const char *text, void *ctx)
{
    (void)ctx;
    qtool_warn("%s", text);
}

int queue_list(const char *queue_directory, enum queue_list_format format,
               const char *empty_sender, FILE *out, struct buf *err)
{
    struct queue_list_printer printer;
    queue_list_printer_init(&printer, format, empty_sender, out);
    struct queue_list_scan_ops ops = {print_entry, print_warning, &printer};
    int result = queue_list_scan(queue_directory, &ops, err);
    queue_list_print_end(&printer);
    return result < 0 ? -1 : 0;
}
