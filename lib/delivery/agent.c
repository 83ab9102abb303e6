/* agent.c: per-request work shared by the delivery agents: the queue
 * file a deliver/1 request names, per-recipient outcomes (log line, done
 * mark, reply), loop detection, the content copy and eugid switches
 * (agent.h). The serve loop is in agent_serve.c, tables in
 * agent_maps.c. */
#include "delivery/agent.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "message/address.h"
#include "config/config.h"
#include "message/dsn.h"
#include "message/header.h"
#include "base/log.h"
#include "base/mem.h"

/* ---- outcomes ---- */

/* Records recipient i's outcome (and marks it done when sent); returns
 * the status in effect (a failed mark turns sent into deferred). */
static enum deliver_status record(struct agent_delivery *d, size_t i,
                                  enum deliver_status status,
                                  const char **dsn_code, struct buf *reason)
{
    struct deliver_result *res = &d->results[i];
    for (size_t k = 0; k < reason->len; k++)
        if ((unsigned char)reason->data[k] < 0x20)
            reason->data[k] = ' ';
    if (status == DELIVER_SENT && d->qf) {
        struct buf err = BUF_INIT;
        if (qfile_reader_mark_done(d->qf, d->req->rcpts[i].offset, QFILE_NOSYNC,
                                   &err) != QFILE_OK) {
            log_warn("%s: cannot mark %s done: %s", d->req->log_ident,
                     d->req->rcpts[i].address, buf_cstr(&err));
            status = DELIVER_DEFERRED;
            *dsn_code = "4.3.0";
            buf_set_str(reason, "queue file update failed");
        } else {
            d->marked++;
        }
        buf_free(&err);
    }
    res->status = status;
    snprintf(res->dsn, sizeof(res->dsn), "%s", *dsn_code);
    free(res->reason);
    res->reason = xstrdup(buf_cstr(reason));
    free(res->relay);
    res->relay = xstrdup(d->relay);
    free(res->mta_type);
    free(res->mta_name);
    free(res->diag_type);
    free(res->diag_text);
    res->mta_type = res->mta_name = res->diag_type = res->diag_text = NULL;
    if (d->remote_mta && *d->remote_mta) {
        res->mta_type = xstrdup("dns");
        res->mta_name = xstrdup(d->remote_mta);
    }
    if (d->remote_reply && *d->remote_reply) {
        res->diag_type = xstrdup("smtp");
        res->diag_text = xstrdup(d->remote_reply);
    }
    return status;
}

void agent_log_status(struct agent_delivery *d, size_t i, const char *to,
                      enum deliver_status status, const char *dsn_code,
                      const char *reason)
{
    struct dsn dsn;
    memset(&dsn, 0, sizeof(dsn));
    if (dsn_set(&dsn, dsn_code, -1, reason, NULL, NULL, NULL, NULL) < 0)
        log_panic("invalid status code %s", dsn_code);
    struct dsn_stamps stamps;
    memset(&stamps, 0, sizeof(stamps));
    stamps.arrival.tv_sec = (time_t)d->req->arrival_time;
    if (d->env.arrival_sec > 0) {
        stamps.arrival.tv_sec = (time_t)d->env.arrival_sec;
        stamps.arrival.tv_usec = (suseconds_t)d->env.arrival_usec;
    }
    /* deliver/1 does not carry qmgr's own stamps: the request's arrival
     * here counts as both "active" and "handed over". */
    stamps.active = d->received;
    stamps.handoff = d->received;
    stamps.conn_setup = d->conn_setup;
    stamps.reuse_count = d->conn_reuse_count;
    struct timeval now;
    gettimeofday(&now, NULL);
    const struct deliver_rcpt *r = &d->req->rcpts[i];
    /* orig_to: what the sender wrote, else the request's recipient when
     * `to` is an expansion of it. */
    const char *orig = r->original[0] ? r->original : r->address;
    struct buf line = BUF_INIT;
    dsn_format_log(&line, to ? to : r->address, orig, d->relay, &stamps, &now,
                   (int)cfg_int("delay_logging_resolution_limit"), &dsn,
                   deliver_status_name(status));
    log_info("%s: %s", d->req->log_ident, buf_cstr(&line));
    buf_free(&line);
    dsn_free(&dsn);
}

static void outcome(struct agent_delivery *d, size_t i,
                    enum deliver_status status, const char *dsn_code,
                    const char *fmt, va_list ap)
{
    struct buf reason = BUF_INIT;
    buf_vappendf(&reason, fmt, ap);
    status = record(d, i, status, &dsn_code, &reason);
    agent_log_status(d, i, NULL, status, dsn_code, buf_cstr(&reason));
    buf_free(&reason);
}

void agent_record(struct agent_delivery *d, size_t i,
                  enum deliver_status status, const char *dsn_code,
                  const char *reason)
{
    struct buf text = BUF_INIT;
    buf_set_str(&text, reason);
    enum deliver_status got = record(d, i, status, &dsn_code, &text);
    if (got != status)
        agent_log_status(d, i, NULL, got, dsn_code, buf_cstr(&text));
    buf_free(&text);
}

void agent_sent(struct agent_delivery *d, size_t i, const char *dsn,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    outcome(d, i, DELIVER_SENT, dsn, fmt, ap);
    va_end(ap);
}

void agent_defer(struct agent_delivery *d, size_t i, const char *dsn,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    outcome(d, i, DELIVER_DEFERRED, dsn, fmt, ap);
    va_end(ap);
}

void agent_bounce(struct agent_delivery *d, size_t i, const char *dsn,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    outcome(d, i, DELIVER_BOUNCED, dsn, fmt, ap);
    va_end(ap);
}

int agent_pending(const struct agent_delivery *d, size_t i)
{
    return i < d->req->rcpt_count && d->results[i].reason == NULL;
}

/* ---- content ---- */

#define AGENT_CHUNK (64 * 1024)

/* Reading the content from its start, from the queue file or from
 * d->content. */
struct content_cursor {
    struct agent_delivery *d;
    uint64_t offset;
};

static int content_rewind(struct agent_delivery *d, struct content_cursor *c,
                          struct buf *err)
{
    c->d = d;
    c->offset = 0;
    if (d->qf == NULL) {
        if (d->content == NULL) {
            buf_appendf(err, "no content");
            return -1;
        }
        return 0;
    }
    if (qfile_content_seek(d->qf, 0) < 0) {
        buf_appendf(err, "cannot seek to the content");
        return -1;
    }
    return 0;
}

/* The next chunk into out (replaced; empty at the end): 0, or -1 with
 * err. */
static int content_next(struct content_cursor *c, struct buf *out,
                        struct buf *err)
{
    if (c->d->qf)
        return qfile_content_read(c->d->qf, out, AGENT_CHUNK, err) == QFILE_OK
                   ? 0
                   : -1;
    const struct agent_content *src = c->d->content;
    if (src->read(src->ctx, c->offset, AGENT_CHUNK, out, err) < 0)
        return -1;
    c->offset += out->len;
    return 0;
}

enum agent_copy_result agent_copy_content(struct agent_delivery *d,
                       int (*write)(void *ctx, const void *data, size_t len),
                       void *ctx, struct buf *err)
{
    struct content_cursor cursor;
    if (content_rewind(d, &cursor, err) < 0)
        return AGENT_COPY_QUEUE_ERROR;
    struct buf chunk = BUF_INIT;
    enum agent_copy_result rc = AGENT_COPY_DONE;
    for (;;) {
        if (content_next(&cursor, &chunk, err) < 0) {
            rc = AGENT_COPY_QUEUE_ERROR;
            break;
        }
        if (chunk.len == 0)
            break;
        if (write(ctx, chunk.data, chunk.len) < 0) {
            rc = AGENT_COPY_STOPPED;
            break;
        }
    }
    buf_free(&chunk);
    return rc;
}

/* Reads the header section (lines up to the body) once and keeps the
 * Delivered-To: values. The header is bounded by header.h's limits;
 * lines are cut at HEADER_SIZE_LIMIT. */
static int load_delivered_to(struct agent_delivery *d, struct buf *err)
{
    struct content_cursor cursor;
    if (content_rewind(d, &cursor, err) < 0)
        return -1;
    struct header_block hb;
    header_block_init(&hb, 0, 0, 0);
    struct buf chunk = BUF_INIT, line = BUF_INIT;
    int rc = 0, ended = 0;
    while (!ended) {
        if (content_next(&cursor, &chunk, err) < 0) {
            rc = -1;
            break;
        }
        if (chunk.len == 0) {
            if (line.len > 0)
                header_block_line(&hb, line.data, line.len);
            break;
        }
        for (size_t k = 0; k < chunk.len && !ended; k++) {
            char c = chunk.data[k];
            if (c != '\n') {
                if (line.len < HEADER_SIZE_LIMIT)
                    buf_append_char(&line, c);
                continue;
            }
            size_t len = line.len;
            if (len > 0 && line.data[len - 1] == '\r')
                len--;
            if (header_block_line(&hb, line.data, len) != HEADER_LINE_FIELD)
                ended = 1;
            buf_reset(&line);
        }
    }
    for (size_t k = 0; k < hb.count; k++) {
        if (!str_equal_nocase(hb.fields[k].name, "Delivered-To"))
            continue;
        char *value = xstrdup(buf_cstr(&hb.fields[k].value));
        strlist_add(&d->delivered_to, str_lower(str_trim(value)));
        free(value);
    }
    header_block_free(&hb);
    buf_free(&chunk);
    buf_free(&line);
    if (rc == 0)
        d->delivered_to_loaded = 1;
    return rc;
}

int agent_delivered_to(struct agent_delivery *d, const char *address,
                       struct buf *err)
{
    if (!d->delivered_to_loaded && load_delivered_to(d, err) < 0)
        return -1;
    /* Compare with what agent_leading_lines writes: the external form. */
    struct buf ext = BUF_INIT;
    address_externalize(address, &ext);
    int found = 0;
    for (size_t k = 0; k < d->delivered_to.count && !found; k++)
        if (str_equal_nocase(d->delivered_to.items[k], buf_cstr(&ext)) ||
            str_equal_nocase(d->delivered_to.items[k], address))
            found = 1;
    buf_free(&ext);
    return found;
}

/* Appends text with control characters shown as '?', so nothing an
 * envelope holds can split a header line. */
static void append_clean(struct buf *out, const char *text)
{
    for (; *text; text++)
        buf_append_char(out, (unsigned char)*text < 0x20 ? '?' : *text);
}

void agent_leading_lines(const struct agent_delivery *d, const char *address,
                         struct buf *out)
{
    struct buf ext = BUF_INIT;
    address_externalize(d->req->sender, &ext);
    buf_append_str(out, "Return-Path: <");
    append_clean(out, buf_cstr(&ext));
    buf_append_str(out, ">\n");
    char *lower = str_lower(xstrdup(address));
    address_externalize(lower, &ext);
    buf_append_str(out, "Delivered-To: ");
    append_clean(out, buf_cstr(&ext));
    buf_append_str(out, "\n");
    free(lower);
    buf_free(&ext);
}

