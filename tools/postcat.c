/* postcat.c: show queue files to people, as Postfix's postcat.
 *
 *   postcat [-behov] [-c DIR] [-s offset] file ...
 *   postcat [-behov] [-c DIR] [-s offset] -q queue_id ...
 *
 * Output (each section only when asked for: -e envelope, -h header,
 * -b body; all of them by default):
 *   *** ENVELOPE RECORDS NAME ***      records before the content
 *   *** MESSAGE CONTENTS NAME ***      the message, as queued
 *   *** HEADER EXTRACTED NAME ***      records after the content
 *   *** MESSAGE FILE END NAME ***
 * NAME is the file as given, or QUEUE/ID with -q. The file is first
 * checked whole by the queue file reader; a file it rejects is reported
 * with the reader's reason ("offset N: ...") and nothing of it is shown,
 * and postcat exits 1 after trying the other files. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "base/tool.h"
#include "base/buf.h"
#include "base/log.h"
#include "queue/qfile.h"
#include "queue/qfile_reader.h"
#include "queue/qid.h"
#include "queue/qtool.h"
#include "queue/queue_dirs.h"

#define SHOW_ENVELOPE 1
#define SHOW_HEADER 2
#define SHOW_BODY 4

static struct {
    int show;       /* SHOW_* bits */
    int offsets;    /* -o: print each record's file offset */
    uint64_t start; /* -s: skip records before this file offset */
    int verbose;    /* -v: also the fixed header's fields */
} opt;

static void usage(void)
{
    tool_usage(EX_USAGE,
               "postcat [-behov] [-c config_dir] [-s offset] "
                    "file ... | -q queue_id ...");
}

/* Arrival and warning times in Postfix's asctime() shape, local time. */
static void print_time(const char *label, uint64_t seconds)
{
    time_t when = (time_t)seconds;
    struct tm tm;
    char text[64];
    if (localtime_r(&when, &tm) == NULL ||
        strftime(text, sizeof(text), "%a %b %e %H:%M:%S %Y", &tm) == 0)
        snprintf(text, sizeof(text), "%" PRIu64, seconds);
    printf("%s: %s\n", label, text);
}

static void prefix(uint64_t offset)
{
    if (opt.offsets)
        printf("%10" PRIu64 " ", offset);
}

/* Prints one envelope record (already validated by qfile_read_envelope,
 * so decoding cannot fail here; a failure still prints, never crashes). */
static void print_record(const struct qfile_record *rec, struct buf *err)
{
    const unsigned char *p = rec->payload;
    size_t len = rec->len;
    prefix(rec->offset);
    switch (rec->type) {
    case QFILE_REC_ARRIVAL:
        if (len >= 8)
            print_time("message_arrival_time", qfile_get_u64(p));
        break;
    case QFILE_REC_SENDER:
        printf("sender: %.*s\n", (int)len, (const char *)p);
        break;
    case QFILE_REC_RCPT:
    case QFILE_REC_RCPT_DONE: {
        struct qfile_recipient rcpt;
        if (qfile_recipient_decode(p, len, &rcpt, err) != QFILE_OK) {
            printf("recipient: (undecodable: %s)\n", buf_cstr(err));
            break;
        }
        if (rcpt.original[0]) {
            printf("original_recipient: %s\n", rcpt.original);
            prefix(rec->offset);
        }
        if (rcpt.orcpt[0]) {
            printf("dsn_orig_rcpt: %s\n", rcpt.orcpt);
            prefix(rec->offset);
        }
        if (rcpt.notify) {
            printf("dsn_notify: %u\n", rcpt.notify);
            prefix(rec->offset);
        }
        printf("%s: %s\n",
               rec->type == QFILE_REC_RCPT ? "recipient" : "done_recipient",
               rcpt.address);
        qfile_recipient_free(&rcpt);
        break;
    }
    case QFILE_REC_DSN_RET:
        printf("dsn_ret: %s\n",
               len == 1 && p[0] == QFILE_RET_HDRS ? "HDRS" : "FULL");
        break;
    case QFILE_REC_DSN_ENVID:
        printf("dsn_envid: %.*s\n", (int)len, (const char *)p);
        break;
    case QFILE_REC_ENCODING: {
        uint32_t flags = len >= 4 ? qfile_get_u32(p) : 0;
        printf("encoding:%s%s%s\n",
               flags & QFILE_ENC_8BITMIME ? " 8BITMIME" : "",
               flags & QFILE_ENC_SMTPUTF8 ? " SMTPUTF8" : "",
               flags ? "" : " 7BIT");
        break;
    }
    case QFILE_REC_ATTR:
        printf("named_attribute: %.*s\n", (int)len, (const char *)p);
        break;
    default:
        printf("record type %c: %zu bytes\n", rec->type, len);
        break;
    }
}

/* Writes content bytes [from, to) to stdout in chunks. */
static enum qfile_result print_content(struct qfile_reader *r, uint64_t from,
                                       uint64_t to, struct buf *err)
{
    struct buf chunk = BUF_INIT;
    enum qfile_result result = QFILE_OK;
    if (qfile_content_seek(r, from) < 0)
        return QFILE_CORRUPT;
    uint64_t left = to - from;
    while (left > 0) {
        result =
            qfile_content_read(r, &chunk, left < 65536 ? left : 65536, err);
        if (result != QFILE_OK || chunk.len == 0)
            break;
        fwrite(chunk.data, 1, chunk.len, stdout);
        left -= chunk.len < left ? chunk.len : left;
    }
    buf_free(&chunk);
    return result;
}

/* The header ends with the empty line that separates it from the body;
 * -h and -b each show their part without that line, as Postfix does. */
static enum qfile_result print_message(struct qfile_reader *r,
                                       const struct qfile_header *h,
                                       struct buf *err)
{
    uint64_t body = h->body_offset, size = h->message_size;
    if ((opt.show & (SHOW_HEADER | SHOW_BODY)) == (SHOW_HEADER | SHOW_BODY))
        return print_content(r, 0, size, err);
    if (opt.show & SHOW_HEADER) {
        uint64_t end = body;
        struct buf tail = BUF_INIT;
        if (end >= 2 && qfile_content_seek(r, end - 2) == 0 &&
            qfile_content_read(r, &tail, 2, err) == QFILE_OK && tail.len == 2 &&
            memcmp(tail.data, "\n\n", 2) == 0)
            end--;
        else if (end == 1 && size >= 1)
            end = 0; /* the content starts with the empty line */
        buf_free(&tail);
        return print_content(r, 0, end, err);
    }
    return print_content(r, body, size, err);
}

/* Shows one queue file; 0, or -1 after reporting why. */
static int show_file(const char *path, const char *name)
{
    struct buf err = BUF_INIT;
    struct qfile_reader *r = NULL;
    struct qfile_envelope env;
    memset(&env, 0, sizeof(env));
    int status = -1;
    enum qfile_result result = qfile_reader_open(path, 0, &r, &err);
    if (result == QFILE_OK)
        result = qfile_read_envelope(r, &env, &err);
    if (result != QFILE_OK) {
        qtool_error("%s: %s: %s", name,
                    result == QFILE_CORRUPT ? "corrupt queue file"
                                            : "cannot read queue file",
                    buf_cstr(&err));
        goto out;
    }
    const struct qfile_header *h = qfile_reader_header(r);
    if (opt.show & SHOW_ENVELOPE) {
        printf("*** ENVELOPE RECORDS %s ***\n", name);
        prefix(QFILE_HEADER_POS - QFILE_REC_HDR_LEN);
        printf("message_size: %" PRIu64 "\n", h->message_size);
        if (opt.verbose) {
            printf("queue_file_version: %" PRIu32 "\n", h->version);
            printf("flags: %" PRIu32 "%s%s\n", h->flags,
                   h->flags & QFILE_FLAG_WARNED ? " warned" : "",
                   h->flags & QFILE_FLAG_NOTIFICATION ? " notification" : "");
            printf("content_offset: %" PRIu64 "\n", h->content_offset);
            printf("body_offset: %" PRIu64 "\n", h->body_offset);
            printf("recipient_count: %" PRIu64 "\n", h->recipient_count);
            printf("end_offset: %" PRIu64 "\n", h->end_offset);
        }
        if (h->warn_time)
            print_time("warning_message_time", h->warn_time);
    }
    qfile_reader_rewind(r);
    for (;;) {
        struct qfile_record rec;
        result = qfile_read_record(r, &rec, &err);
        if (result != QFILE_OK)
            break;
        if (rec.type == QFILE_REC_END)
            break;
        if (rec.type == QFILE_REC_CONTENT) {
            if (opt.show & (SHOW_HEADER | SHOW_BODY)) {
                printf("*** MESSAGE CONTENTS %s ***\n", name);
                fflush(stdout);
                result = print_message(r, h, &err);
                if (result != QFILE_OK)
                    break;
                fflush(stdout);
            }
            if (opt.show & SHOW_ENVELOPE)
                printf("*** HEADER EXTRACTED %s ***\n", name);
            continue;
        }
        if ((opt.show & SHOW_ENVELOPE) && rec.offset >= opt.start)
            print_record(&rec, &err);
    }
    if (result != QFILE_OK) {
        qtool_error("%s: %s", name, buf_cstr(&err));
        goto out;
    }
    printf("*** MESSAGE FILE END %s ***\n", name);
    status = 0;
out:
    fflush(stdout);
    qfile_envelope_free(&env);
    if (r)
        qfile_reader_close(r);
    buf_free(&err);
    return status;
}

int main(int argc, char **argv)
{
    qtool_init("postcat");
    const char *config_dir = NULL;
    int by_id = 0, c;
    while ((c = getopt(argc, argv, "bc:ehoqs:v")) != -1) {
        switch (c) {
        case 'b':
            opt.show |= SHOW_BODY;
            break;
        case 'c':
            config_dir = optarg;
            break;
        case 'e':
            opt.show |= SHOW_ENVELOPE;
            break;
        case 'h':
            opt.show |= SHOW_HEADER;
            break;
        case 'o':
            opt.offsets = 1;
            break;
        case 'q':
            by_id = 1;
            break;
        case 's': {
            char *end;
            opt.start = strtoull(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0')
                tool_fatal(EX_USAGE, "bad -s offset: %s", optarg);
            break;
        }
        case 'v':
            opt.verbose++;
            log_set_verbose(opt.verbose);
            break;
        default:
            usage();
        }
    }
    if (opt.show == 0)
        opt.show = SHOW_ENVELOPE | SHOW_HEADER | SHOW_BODY;
    if (optind >= argc)
        usage();
    const char *queue_directory = NULL;
    if (by_id)
        queue_directory = qtool_config(config_dir);
    int failed = 0;
    struct buf path = BUF_INIT, name = BUF_INIT;
    for (int i = optind; i < argc; i++) {
        if (!by_id) {
            failed |= show_file(argv[i], argv[i]) < 0;
            continue;
        }
        enum queue_name queue;
        if (!qid_valid(argv[i])) {
            qtool_error("invalid queue id: \"%s\"", argv[i]);
            failed = 1;
        } else if (qtool_find(queue_directory, argv[i], QTOOL_MESSAGE_QUEUES,
                              QTOOL_MESSAGE_QUEUE_COUNT, &queue) < 0) {
            qtool_error("%s: no such message in incoming, active, deferred, "
                        "hold or corrupt",
                        argv[i]);
            failed = 1;
        } else {
            queue_path(&path, queue_directory, queue, argv[i]);
            buf_reset(&name);
            buf_appendf(&name, "%s/%s", queue_dir_name(queue), argv[i]);
            failed |= show_file(buf_cstr(&path), buf_cstr(&name)) < 0;
        }
    }
    buf_free(&path);
    buf_free(&name);
    return failed ? 1 : 0;
}
