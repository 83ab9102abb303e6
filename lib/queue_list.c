/* queue_list.c: the mailq / postqueue -p / -j listing (queue_list.h). */
#include "queue_list.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "defer_log.h"
#include "qfile_reader.h"
#include "qid.h"
#include "qtool.h"
#include "queue_dirs.h"
#include "str.h"

static const enum queue_name LISTED[] = {QUEUE_INCOMING, QUEUE_ACTIVE,
                                         QUEUE_DEFERRED, QUEUE_HOLD};

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

static void format_text(struct buf *out, enum queue_name queue, const char *qid,
                        const struct qfile_envelope *env,
                        const struct defer_log *log, const char *sender)
{
    struct buf id = BUF_INIT, shown = BUF_INIT;
    buf_append_str(&id, qid);
    if (queue == QUEUE_ACTIVE)
        buf_append_char(&id, '*');
    else if (queue == QUEUE_HOLD)
        buf_append_char(&id, '!');
    char when[64] = "??";
    time_t arrival = (time_t)env->arrival_sec;
    struct tm tm;
    if (localtime_r(&arrival, &tm))
        strftime(when, sizeof(when), "%a %b %e %H:%M:%S", &tm);
    append_printable(&shown, sender);
    buf_appendf(out, "%-*s %*" PRIu64 " %-*.*s %s\n", LIST_ID_WIDTH,
                buf_cstr(&id), LIST_SIZE_WIDTH, env->header.message_size,
                LIST_TIME_WIDTH, LIST_TIME_WIDTH, when, buf_cstr(&shown));
    const char *previous = "";
    for (size_t i = 0; i < env->recipient_count; i++) {
        const struct qfile_recipient *rcpt = &env->recipients[i];
        if (rcpt->done)
            continue;
        const char *reason = reason_of(log, rcpt);
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
                    LIST_ID_WIDTH + LIST_SIZE_WIDTH + LIST_TIME_WIDTH + 3, "",
                    buf_cstr(&shown));
    }
    buf_free(&id);
    buf_free(&shown);
}

static void format_json(struct buf *out, enum queue_name queue, const char *qid,
                        const struct qfile_envelope *env,
                        const struct defer_log *log, const char *sender)
{
    buf_append_str(out, "{\"queue_name\": \"");
    queue_list_json_quote(out, queue_dir_name(queue));
    buf_append_str(out, "\", \"queue_id\": \"");
    queue_list_json_quote(out, qid);
    buf_appendf(out,
                "\", \"arrival_time\": %" PRIu64 ", \"message_size\": %" PRIu64
                ", \"forced_expire\": false, \"sender\": \"",
                env->arrival_sec, env->header.message_size);
    queue_list_json_quote(out, sender);
    buf_append_str(out, "\", \"recipients\": [");
    int first = 1;
    for (size_t i = 0; i < env->recipient_count; i++) {
        const struct qfile_recipient *rcpt = &env->recipients[i];
        if (rcpt->done)
            continue;
        buf_append_str(out, first ? "{\"address\": \"" : ", {\"address\": \"");
        first = 0;
        queue_list_json_quote(out, rcpt->address);
        buf_append_char(out, '"');
        const char *reason = reason_of(log, rcpt);
        if (*reason) {
            buf_append_str(out, ", \"delay_reason\": \"");
            queue_list_json_quote(out, reason);
            buf_append_char(out, '"');
        }
        buf_append_char(out, '}');
    }
    buf_append_str(out, "]}\n");
}

/* Lists one message into out and sets *size; 0, or -1 when it is left
 * out. */
static int list_message(const char *queue_directory, enum queue_name queue,
                        const char *qid, enum queue_list_format format,
                        const char *empty_sender, struct buf *out,
                        uint64_t *size)
{
    struct buf path = BUF_INIT, err = BUF_INIT;
    struct qfile_reader *r = NULL;
    struct qfile_envelope env;
    memset(&env, 0, sizeof(env));
    int status = -1;
    queue_path(&path, queue_directory, queue, qid);
    enum qfile_result result = qfile_reader_open(buf_cstr(&path), 0, &r, &err);
    if (result == QFILE_OK)
        result = qfile_read_envelope(r, &env, &err);
    if (result == QFILE_CORRUPT) {
        qtool_warn("%s/%s: corrupt queue file: %s", queue_dir_name(queue), qid,
                   buf_cstr(&err));
    } else if (result == QFILE_SYSERR && errno != ENOENT) {
        qtool_warn("%s/%s: %s", queue_dir_name(queue), qid, buf_cstr(&err));
    } else if (result == QFILE_OK) {
        struct defer_log log;
        buf_reset(&err);
        enum defer_log_result logged =
            defer_log_read(queue_directory, QUEUE_DEFER, qid, &log, &err);
        if (logged == DEFER_LOG_CORRUPT || logged == DEFER_LOG_SYSERR)
            qtool_warn("%s", buf_cstr(&err)); /* keep what was read */
        const char *sender = env.sender[0] ? env.sender : empty_sender;
        const struct defer_log *reasons =
            logged == DEFER_LOG_OK || logged == DEFER_LOG_CORRUPT ? &log : NULL;
        if (format == QUEUE_LIST_JSON)
            format_json(out, queue, qid, &env, reasons, sender);
        else
            format_text(out, queue, qid, &env, reasons, sender);
        defer_log_free(&log);
        *size = env.header.message_size;
        status = 0;
    }
    qfile_envelope_free(&env);
    if (r)
        qfile_reader_close(r);
    buf_free(&path);
    buf_free(&err);
    return status;
}

int queue_list(const char *queue_directory, enum queue_list_format format,
               const char *empty_sender, FILE *out, struct buf *err)
{
    unsigned long long total_size = 0;
    unsigned long count = 0;
    int result = 0;
    struct buf text = BUF_INIT;
    for (size_t q = 0; q < sizeof(LISTED) / sizeof(LISTED[0]); q++) {
        struct strlist ids;
        strlist_init(&ids);
        if (list_ids(queue_directory, LISTED[q], &ids, err) < 0)
            result = -1;
        for (size_t i = 0; i < ids.count; i++) {
            buf_reset(&text);
            uint64_t size = 0;
            if (list_message(queue_directory, LISTED[q], ids.items[i], format,
                             empty_sender, &text, &size) < 0)
                continue;
            if (format == QUEUE_LIST_TEXT) {
                if (count == 0)
                    fprintf(out, "%-*s %*s %-*s %s\n", LIST_ID_WIDTH,
                            "----Queue ID-----", LIST_SIZE_WIDTH, "--Size--",
                            LIST_TIME_WIDTH, "---Arrival Time----",
                            "--Sender/Recipient------");
                else
                    fputc('\n', out);
            }
            fwrite(text.data, 1, text.len, out);
            count++;
            total_size += size;
        }
        strlist_free(&ids);
    }
    if (format == QUEUE_LIST_TEXT) {
        if (count == 0)
            fprintf(out, "Mail queue is empty\n");
        else
            fprintf(out, "\n-- %llu Kbytes in %lu Request%s.\n",
                    total_size / 1024, count, count == 1 ? "" : "s");
    }
    fflush(out);
    buf_free(&text);
    return result;
}
