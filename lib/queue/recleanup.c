/* recleanup.c: a queued message through the intake's address rewriting
 * again (see recleanup.h). */
#include "queue/recleanup.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "message/address.h"
#include "message/header.h"
#include "message/header_rewrite.h"
#include "base/log.h"
#include "base/mem.h"
#include "routing/rewrite.h"
#include "base/str.h"

/* Content is copied in chunks of this size. */
#define RECLEANUP_CHUNK (64 * 1024)
/* Bytes of Message-ID kept for the log line. */
#define RECLEANUP_MSGID_MAX 998

void recleanup_rcpts_init(struct recleanup_rcpts *out)
{
    memset(out, 0, sizeof(*out));
}

void recleanup_rcpts_free(struct recleanup_rcpts *out)
{
    for (size_t i = 0; i < out->count; i++)
        qfile_recipient_free(&out->items[i]);
    free(out->items);
    recleanup_rcpts_init(out);
}

static void rcpts_add(struct recleanup_rcpts *out, const char *address,
                      const char *orcpt, const char *original, unsigned notify,
                      int done)
{
    if (out->count == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 8;
        out->items = xreallocarray(out->items, out->cap, sizeof(*out->items));
    }
    struct qfile_recipient *r = &out->items[out->count++];
    memset(r, 0, sizeof(*r));
    r->address = xstrdup(address);
    r->orcpt = xstrdup(orcpt ? orcpt : "");
    r->original = xstrdup(original ? original : "");
    r->notify = notify;
    r->done = done;
}

/* The address a recipient was derived from: its original, or itself. */
static const char *source_of(const struct qfile_recipient *rc)
{
    return rc->original && rc->original[0] ? rc->original : rc->address;
}

/* 1 when out already has address for this original (smtpd's duplicate
 * rule: the same address, ignoring case, from the same RCPT TO). With
 * done_only, only delivered records count. */
static int rcpts_have(const struct recleanup_rcpts *out, const char *address,
                      const char *source, int done_only)
{
    for (size_t i = 0; i < out->count; i++) {
        const struct qfile_recipient *r = &out->items[i];
        if (done_only && !r->done)
            continue;
        if (str_equal_nocase(r->address, address) &&
            strcmp(source_of(r), source) == 0)
            return 1;
    }
    return 0;
}

enum recleanup_result recleanup_recipients(struct rewrite *rw,
                                           const struct qfile_envelope *env,
                                           struct recleanup_rcpts *out,
                                           struct buf *why)
{
    /* Delivered recipients first, so the check below sees all of them
     * whatever the order of the records. They keep their place in the
     * order of the file relative to each other. */
    for (size_t i = 0; i < env->recipient_count; i++) {
        const struct qfile_recipient *rc = &env->recipients[i];
        if (!rc->done)
            continue;
        rcpts_add(out, rc->address, rc->orcpt, rc->original, rc->notify, 1);
        out->kept_done++;
    }
    struct strlist expanded, results;
    strlist_init(&expanded);
    strlist_init(&results);
    enum recleanup_result result = RECLEANUP_OK;
    for (size_t i = 0; i < env->recipient_count; i++) {
        const struct qfile_recipient *rc = &env->recipients[i];
        if (rc->done)
            continue;
        const char *source = source_of(rc);
        int seen = 0;
        for (size_t k = 0; k < expanded.count && !seen; k++)
            seen = strcmp(expanded.items[k], source) == 0;
        if (seen)
            continue; /* one RCPT TO, expanded once */
        strlist_add(&expanded, source);
        strlist_free(&results);
        strlist_init(&results);
        if (rewrite_envelope_recipient(rw, source, &results, why) < 0) {
            result = RECLEANUP_DEFER;
            break;
        }
        for (size_t k = 0; k < results.count; k++) {
            if (rcpts_have(out, results.items[k], source, 1)) {
                out->skipped++; /* delivered already */
                continue;
            }
            if (rcpts_have(out, results.items[k], source, 0))
                continue;
            rcpts_add(out, results.items[k], rc->orcpt, source, rc->notify, 0);
        }
    }
    strlist_free(&expanded);
    strlist_free(&results);
    return result;
}

int recleanup_context(const struct qfile_envelope *env)
{
    const char *context = qfile_envelope_attr(env, "rewrite_context");
    if (context)
        return strcmp(context, "local") == 0 ? REWRITE_LOCAL : REWRITE_REMOTE;
    /* Mail we generated names no client; for the rest the context is
     * not known, and remote is the one that changes the least. */
    return qfile_envelope_attr(env, "client_address") ? REWRITE_REMOTE
                                                      : REWRITE_LOCAL;
}

void recleanup_info_init(struct recleanup_info *info)
{
    buf_init(&info->sender);
    buf_init(&info->message_id);
    info->recipients = 0;
}

void recleanup_info_free(struct recleanup_info *info)
{
    buf_free(&info->sender);
    buf_free(&info->message_id);
}

/* The header section as it streams through: each physical line is
 * classified as smtpd classifies it; address fields are held whole and
 * rewritten, everything else is written as it comes. */
struct content_pass {
    struct rewrite *rw;
    struct qfile_writer *w;
    int context;
    unsigned flags;   /* ADDRESS_FLAG_UTF8 for SMTPUTF8 mail */
    int in_header;    /* still in the header section */
    struct buf line;  /* the physical line being gathered */
    struct buf field; /* the address field held for rewriting */
    int held;         /* -1 none, else 1 sender / 0 recipient field */
    int in_msgid;     /* the line belongs to the Message-ID: field */
    int passthrough;  /* the rest of an overlong line goes as it is */
    int seen_field;   /* a header field has begun */
    struct buf *message_id;
    const char *qid; /* the old id, for log lines */
    struct buf *err;
};

static int put(struct content_pass *cp, const char *data, size_t len)
{
    return qfile_writer_content_append(cp->w, data, len, cp->err);
}

/* lib/message/header_rewrite's callback: one address of the held field. */
struct field_glue {
    struct rewrite *rw;
    int sender;
    int context;
};

static int rewrite_one(void *ctx, const char *address, struct buf *out,
                       struct buf *why)
{
    const struct field_glue *g = ctx;
    return rewrite_header_address(g->rw, address, g->sender, g->context, out,
                                  why);
}

/* Writes the held field, rewritten when its addresses change. */
static enum recleanup_result flush_field(struct content_pass *cp)
{
    if (cp->held < 0)
        return RECLEANUP_OK;
    struct field_glue glue = {cp->rw, cp->held, cp->context};
    cp->held = -1;
    struct buf fixed = BUF_INIT, why = BUF_INIT;
    enum recleanup_result result = RECLEANUP_OK;
    int rc = header_rewrite_field(cp->field.data, cp->field.len, cp->flags,
                                  HEADER_SIZE_LIMIT, rewrite_one, &glue, &fixed,
                                  &why);
    if (rc < 0) {
        buf_append(cp->err, why.data, why.len);
        result = RECLEANUP_DEFER;
    } else {
        if (rc == 0 && why.len > 0) /* left as it was, and why */
            log_warn("%s: header %.*s: %s", cp->qid,
                     (int)header_name_length(cp->field.data, cp->field.len),
                     cp->field.data, why.data);
        if (put(cp, rc > 0 ? fixed.data : cp->field.data,
                rc > 0 ? fixed.len : cp->field.len) < 0)
            result = RECLEANUP_ERROR;
    }
    buf_reset(&cp->field);
    buf_free(&fixed);
    buf_free(&why);
    return result;
}

static void msgid_append(struct content_pass *cp, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\n' || c == '\r')
            continue; /* unfolded */
        if (cp->message_id->len >= RECLEANUP_MSGID_MAX)
            return;
        buf_append_char(cp->message_id, c);
    }
}

/* One whole physical line of the header section (with its LF, unless
 * it is the content's last line and has none). */
static enum recleanup_result header_line(struct content_pass *cp,
                                         const char *data, size_t len)
{
    size_t text_len = len > 0 && data[len - 1] == '\n' ? len - 1 : len;
    /* As lib/message/header decides: white space before any field is body. */
    int continuation =
        cp->seen_field && text_len > 0 && (data[0] == ' ' || data[0] == '\t');
    if (continuation && cp->held >= 0) {
        buf_append(&cp->field, data, len);
        if (cp->field.len > HEADER_SIZE_LIMIT) {
            /* Too big to rewrite, as in smtpd: on as it came. */
            cp->held = -1;
            int rc = put(cp, cp->field.data, cp->field.len);
            buf_reset(&cp->field);
            if (rc < 0)
                return RECLEANUP_ERROR;
        }
        return RECLEANUP_OK;
    }
    enum recleanup_result result = flush_field(cp);
    if (result != RECLEANUP_OK)
        return result;
    size_t name_len = header_name_length(data, text_len);
    if (!continuation && name_len == 0) {
        cp->in_header = 0; /* the empty line, or the first body line */
        return put(cp, data, len) < 0 ? RECLEANUP_ERROR : RECLEANUP_OK;
    }
    if (continuation) {
        if (cp->in_msgid)
            msgid_append(cp, data, text_len);
        return put(cp, data, len) < 0 ? RECLEANUP_ERROR : RECLEANUP_OK;
    }
    cp->in_msgid = 0;
    cp->seen_field = 1;
    cp->held = header_rewrite_class(data, text_len);
    if (cp->held >= 0) {
        buf_append(&cp->field, data, len);
        return RECLEANUP_OK;
    }
    if (name_len == 10 && strncasecmp(data, "Message-ID", 10) == 0 &&
        cp->message_id->len == 0) {
        const char *colon = memchr(data, ':', text_len);
        if (colon) {
            cp->in_msgid = 1;
            msgid_append(cp, colon + 1, text_len - (size_t)(colon + 1 - data));
        }
    }
    return put(cp, data, len) < 0 ? RECLEANUP_ERROR : RECLEANUP_OK;
}

/* A header line that grew past header_size_limit without its end, in
 * cp->line: written as it is, like the rest of it (passthrough), and so
 * is an address field it belongs to. Bounds what is held in memory. */
static enum recleanup_result long_line(struct content_pass *cp)
{
    const char *data = cp->line.data;
    size_t len = cp->line.len;
    int continuation = cp->seen_field && (data[0] == ' ' || data[0] == '\t');
    if (continuation && cp->held >= 0) {
        cp->held = -1;
        int rc = put(cp, cp->field.data, cp->field.len);
        buf_reset(&cp->field);
        if (rc < 0)
            return RECLEANUP_ERROR;
    } else {
        enum recleanup_result result = flush_field(cp);
        if (result != RECLEANUP_OK)
            return result;
        if (!continuation && header_name_length(data, len) == 0)
            cp->in_header = 0; /* a body line: the rest goes as it is */
        else if (!continuation)
            cp->seen_field = 1;
        cp->in_msgid = 0;
    }
    cp->passthrough = cp->in_header;
    return put(cp, data, len) < 0 ? RECLEANUP_ERROR : RECLEANUP_OK;
}

/* Feeds a chunk of content; once the header section is over the rest
 * goes through untouched. */
static enum recleanup_result content_chunk(struct content_pass *cp,
                                           const char *data, size_t len)
{
    while (len > 0 && cp->in_header) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) + 1 : len;
        if (cp->passthrough) {
            if (put(cp, data, take) < 0)
                return RECLEANUP_ERROR;
            cp->passthrough = nl == NULL;
        } else if (!nl && cp->line.len + take > HEADER_SIZE_LIMIT) {
            buf_append(&cp->line, data, take);
            enum recleanup_result result = long_line(cp);
            buf_reset(&cp->line);
            if (result != RECLEANUP_OK)
                return result;
        } else {
            buf_append(&cp->line, data, take);
            if (nl) {
                enum recleanup_result result =
                    header_line(cp, cp->line.data, cp->line.len);
                buf_reset(&cp->line);
                if (result != RECLEANUP_OK)
                    return result;
            }
        }
        data += take;
        len -= take;
    }
    if (len > 0 && put(cp, data, len) < 0)
        return RECLEANUP_ERROR;
    return RECLEANUP_OK;
}

static enum recleanup_result copy_content(struct content_pass *cp,
                                          struct qfile_reader *r)
{
    struct buf chunk = BUF_INIT;
    enum recleanup_result result = RECLEANUP_OK;
    if (qfile_content_seek(r, 0) < 0) {
        buf_append_str(cp->err, "cannot seek to the content");
        result = RECLEANUP_ERROR;
    }
    while (result == RECLEANUP_OK) {
        if (qfile_content_read(r, &chunk, RECLEANUP_CHUNK, cp->err) !=
            QFILE_OK) {
            result = RECLEANUP_ERROR;
            break;
        }
        if (chunk.len == 0)
            break;
        result = content_chunk(cp, chunk.data, chunk.len);
    }
    /* A last header line without its LF, and a field still held. */
    if (result == RECLEANUP_OK && cp->in_header && cp->line.len > 0)
        result = header_line(cp, cp->line.data, cp->line.len);
    if (result == RECLEANUP_OK)
        result = flush_field(cp);
    buf_free(&chunk);
    return result;
}

/* Every attribute but those the requeue replaces. */
static int copy_attrs(const struct qfile_envelope *env, const char *old_qid,
                      struct qfile_writer *w, struct buf *err)
{
    for (size_t i = 0; i < env->attr_count; i++) {
        const struct qfile_attr *a = &env->attrs[i];
        if (strcmp(a->name, "orig_id") == 0 ||
            strcmp(a->name, "hold_reason") == 0)
            continue;
        if (qfile_writer_attr(w, a->name, a->value, err) < 0)
            return -1;
    }
    return qfile_writer_attr(w, "orig_id", old_qid, err);
}

enum recleanup_result
recleanup_message(struct rewrite *rw, struct qfile_reader *r,
                  const struct qfile_envelope *env, const char *old_qid,
                  struct qfile_writer *w, struct recleanup_info *info,
                  struct buf *err)
{
    struct recleanup_rcpts rcpts;
    recleanup_rcpts_init(&rcpts);
    enum recleanup_result result = RECLEANUP_OK;
    buf_reset(&info->sender);
    buf_reset(&info->message_id);
    if (rewrite_envelope_sender(rw, env->sender, &info->sender, err) < 0 ||
        recleanup_recipients(rw, env, &rcpts, err) != RECLEANUP_OK) {
        result = RECLEANUP_DEFER;
        goto out;
    }
    info->recipients = rcpts.count;
    int rc = qfile_writer_arrival(w, env->arrival_sec, env->arrival_usec, err);
    rc = rc < 0 ? rc : qfile_writer_sender(w, info->sender.data, err);
    for (size_t i = 0; i < rcpts.count && rc == 0; i++)
        rc = qfile_writer_recipient(w, &rcpts.items[i], err);
    if (rc == 0 && env->dsn_ret)
        rc = qfile_writer_dsn_ret(w, env->dsn_ret, err);
    if (rc == 0 && env->envid)
        rc = qfile_writer_dsn_envid(w, env->envid, err);
    if (rc == 0 && env->encoding)
        rc = qfile_writer_encoding(w, env->encoding, err);
    if (rc == 0 && env->header.flags)
        rc = qfile_writer_flags(w, env->header.flags, err);
    if (rc == 0 && env->header.warn_time)
        rc = qfile_writer_warn_time(w, env->header.warn_time, err);
    if (rc == 0)
        rc = copy_attrs(env, old_qid, w, err);
    if (rc == 0)
        rc = qfile_writer_content_begin(w, err);
    if (rc < 0) {
        result = RECLEANUP_ERROR;
        goto out;
    }
    struct content_pass cp;
    memset(&cp, 0, sizeof(cp));
    cp.rw = rw;
    cp.w = w;
    cp.context = recleanup_context(env);
    cp.flags = env->encoding & QFILE_ENC_SMTPUTF8 ? ADDRESS_FLAG_UTF8 : 0;
    cp.in_header = 1;
    cp.held = -1;
    cp.message_id = &info->message_id;
    cp.qid = old_qid;
    cp.err = err;
    buf_init(&cp.line);
    buf_init(&cp.field);
    result = copy_content(&cp, r);
    buf_free(&cp.line);
    buf_free(&cp.field);
    if (result == RECLEANUP_OK && qfile_writer_content_end(w, err) < 0)
        result = RECLEANUP_ERROR;
    /* Message-ID: <x> is logged without the space after the colon. */
    char *copy = xstrdup(buf_cstr(&info->message_id));
    buf_set_str(&info->message_id, str_trim(copy));
    free(copy);
out:
    recleanup_rcpts_free(&rcpts);
    return result;
}
