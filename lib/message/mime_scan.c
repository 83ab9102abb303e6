/* mime_scan.c: header and body pieces of a message, optionally
 * following MIME structure (see mime_scan.h). */
#include "message/mime_scan.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/mem.h"

#define HEADER_NAME_MAX 256 /* a longer "name:" line is not a header */

struct boundary {
    char *text;
    int digest; /* multipart/digest: parts default to message/rfc822 */
};

struct mime_scan {
    int mime;
    mime_header_fn header_fn;
    mime_body_fn body_fn;
    mime_event_fn event_fn;
    void *ctx;

    int in_header;
    enum mime_header_class header_class;
    struct buf header; /* the logical header line being collected */
    int have_header;

    /* What the current header block's Content-Type said. */
    int block_has_type, block_message;
    struct buf block_boundary; /* empty: not multipart */
    int block_digest;
    int default_message; /* this part's default type is message/rfc822 */

    struct boundary stack[MIME_SCAN_NESTING_LIMIT];
    int depth;
};

struct mime_scan *mime_scan_new(int mime, mime_header_fn header,
                                mime_body_fn body, void *ctx)
{
    struct mime_scan *ms = xcalloc(1, sizeof(*ms));
    ms->mime = mime;
    ms->header_fn = header;
    ms->body_fn = body;
    ms->ctx = ctx;
    ms->in_header = 1;
    ms->header_class = MIME_HEADER_PRIMARY;
    buf_init(&ms->header);
    buf_init(&ms->block_boundary);
    return ms;
}

void mime_scan_set_events(struct mime_scan *ms, mime_event_fn event_fn)
{
    ms->event_fn = event_fn;
}

static void emit_event(struct mime_scan *ms, enum mime_event what)
{
    if (ms->event_fn)
        ms->event_fn(ms->ctx, what);
}

void mime_scan_free(struct mime_scan *ms)
{
    if (ms == NULL)
        return;
    for (int i = 0; i < ms->depth; i++)
        free(ms->stack[i].text);
    buf_free(&ms->header);
    buf_free(&ms->block_boundary);
    free(ms);
}

/* ---- Content-Type ---- */

static int is_tspecial(int c)
{
    return c && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static int is_token_char(int c)
{
    return c > ' ' && c < 0x7f && !is_tspecial(c);
}

/* Skips whitespace (line breaks included) and (nested) comments. */
static const char *skip_cfws(const char *p)
{
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '(')
            return p;
        int depth = 0;
        for (; *p; p++) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '(')
                depth++;
            else if (*p == ')' && --depth == 0) {
                p++;
                break;
            }
        }
    }
}

static const char *read_token(const char *p, struct buf *out)
{
    buf_reset(out);
    while (is_token_char((unsigned char)*p))
        buf_append_char(out, *p++);
    return p;
}

/* A quoted-string or a token. */
static const char *read_value(const char *p, struct buf *out)
{
    if (*p != '"')
        return read_token(p, out);
    buf_reset(out);
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        if (*p != '\n' && *p != '\r')
            buf_append_char(out, *p);
    }
    return *p == '"' ? p + 1 : p;
}

/* Records what a Content-Type value says about the structure. */
static void note_content_type(struct mime_scan *ms, const char *value)
{
    struct buf type = BUF_INIT, subtype = BUF_INIT, name = BUF_INIT,
               param = BUF_INIT;
    const char *p = read_token(skip_cfws(value), &type);
    p = skip_cfws(p);
    if (*p == '/')
        p = read_token(skip_cfws(p + 1), &subtype);
    ms->block_has_type = 1;
    ms->block_message = 0;
    buf_reset(&ms->block_boundary);
    int multipart = strcasecmp(buf_cstr(&type), "multipart") == 0;
    ms->block_digest = multipart &&
                       strcasecmp(buf_cstr(&subtype), "digest") == 0;
    if (strcasecmp(buf_cstr(&type), "message") == 0 &&
        (strcasecmp(buf_cstr(&subtype), "rfc822") == 0 ||
         strcasecmp(buf_cstr(&subtype), "global") == 0))
        ms->block_message = 1;
    while (multipart) {
        p = skip_cfws(p);
        if (*p != ';')
            break;
        p = read_token(skip_cfws(p + 1), &name);
        p = skip_cfws(p);
        if (*p != '=')
            break;
        p = read_value(skip_cfws(p + 1), &param);
        if (strcasecmp(buf_cstr(&name), "boundary") == 0) {
            if (param.len > 0 && param.len <= MIME_SCAN_BOUNDARY_MAX)
                buf_set(&ms->block_boundary, param.data, param.len);
            break;
        }
    }
    buf_free(&type);
    buf_free(&subtype);
    buf_free(&name);
    buf_free(&param);
}

/* ---- header pieces ---- */

static size_t header_name_len(const char *line, size_t len)
{
    size_t n = 0;
    while (n < len && n <= HEADER_NAME_MAX && line[n] > ' ' &&
           line[n] < 0x7f && line[n] != ':')
        n++;
    return n > 0 && n < len && n <= HEADER_NAME_MAX && line[n] == ':' ? n : 0;
}

static void header_append(struct mime_scan *ms, const char *text, size_t len)
{
    size_t room = MIME_SCAN_HEADER_LIMIT > ms->header.len
                      ? MIME_SCAN_HEADER_LIMIT - ms->header.len
                      : 0;
    buf_append(&ms->header, text, len < room ? len : room);
}

/* Delivers the pending header line, noting its Content-Type. */
static void flush_header(struct mime_scan *ms)
{
    if (!ms->have_header)
        return;
    ms->have_header = 0;
    const char *text = buf_cstr(&ms->header);
    size_t name_len = header_name_len(text, ms->header.len);
    if (ms->mime && name_len == 12 && strncasecmp(text, "Content-Type", 12) == 0)
        note_content_type(ms, text + name_len + 1);
    if (ms->header_fn)
        ms->header_fn(ms->ctx, ms->header_class, ms->header.data,
                      ms->header.len);
    buf_reset(&ms->header);
}

static void start_block(struct mime_scan *ms, enum mime_header_class cls,
                        int default_message)
{
    ms->in_header = 1;
    ms->header_class = cls;
    ms->block_has_type = 0;
    ms->block_message = 0;
    ms->block_digest = 0;
    buf_reset(&ms->block_boundary);
    ms->default_message = default_message;
}

/* The header block ended: what comes next is body, a nested message's
 * header, or (multipart) a preamble. */
static void end_block(struct mime_scan *ms)
{
    flush_header(ms);
    ms->in_header = 0;
    if (!ms->mime) {
        emit_event(ms, MIME_EVENT_LEAF);
        return;
    }
    int message = ms->block_has_type ? ms->block_message : ms->default_message;
    if (ms->block_boundary.len > 0 && ms->depth < MIME_SCAN_NESTING_LIMIT) {
        struct boundary *b = &ms->stack[ms->depth++];
        b->text = xstrndup(ms->block_boundary.data, ms->block_boundary.len);
        b->digest = ms->block_digest;
        emit_event(ms, MIME_EVENT_MULTIPART);
    } else if (message && ms->depth < MIME_SCAN_NESTING_LIMIT) {
        emit_event(ms, MIME_EVENT_MESSAGE);
        start_block(ms, MIME_HEADER_NESTED, 0);
    } else {
        emit_event(ms, MIME_EVENT_LEAF);
    }
}

/* Is line "--boundary" (1) or "--boundary--" (2) for b? 0 if not. */
static int boundary_kind(const char *line, size_t len, const char *b)
{
    size_t blen = strlen(b);
    if (len < blen + 2 || line[0] != '-' || line[1] != '-' ||
        memcmp(line + 2, b, blen) != 0)
        return 0;
    size_t i = blen + 2;
    int closing = 0;
    if (len - i >= 2 && line[i] == '-' && line[i + 1] == '-') {
        closing = 1;
        i += 2;
    }
    for (; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t')
            return 0;
    return closing ? 2 : 1;
}

static void body_line(struct mime_scan *ms, const char *line, size_t len)
{
    if (ms->mime && ms->depth > 0 && len >= 2 && line[0] == '-' &&
        line[1] == '-') {
        for (int k = ms->depth - 1; k >= 0; k--) {
            int kind = boundary_kind(line, len, ms->stack[k].text);
            if (kind == 0)
                continue;
            int digest = ms->stack[k].digest;
            /* Inner multiparts that were never closed end here too. */
            int keep = kind == 2 ? k : k + 1;
            while (ms->depth > keep)
                free(ms->stack[--ms->depth].text);
            if (ms->body_fn)
                ms->body_fn(ms->ctx, line, len);
            emit_event(ms, kind == 1 ? MIME_EVENT_PART : MIME_EVENT_CLOSE);
            if (kind == 1)
                start_block(ms, MIME_HEADER_MULTIPART, digest);
            return;
        }
    }
    if (ms->body_fn)
        ms->body_fn(ms->ctx, line, len);
}

void mime_scan_line(struct mime_scan *ms, const char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (!ms->in_header) {
        body_line(ms, line, len);
        return;
    }
    if (len == 0) {
        end_block(ms);
        return;
    }
    if (line[0] == ' ' || line[0] == '\t') {
        if (ms->have_header) {
            header_append(ms, "\n", 1);
            header_append(ms, line, len);
            return;
        }
    } else if (header_name_len(line, len) > 0) {
        flush_header(ms);
        buf_reset(&ms->header);
        header_append(ms, line, len);
        ms->have_header = 1;
        return;
    }
    /* Neither header nor continuation: the header block ends and this
     * line belongs to whatever comes next. */
    end_block(ms);
    if (ms->in_header)
        mime_scan_line(ms, line, len); /* a nested header: at most once */
    else
        body_line(ms, line, len);
}

void mime_scan_end(struct mime_scan *ms)
{
    if (ms->in_header)
        flush_header(ms);
}
