/* rfc822_lex.c: RFC 5322 / RFC 2045 lexical pieces (see rfc822_lex.h). */
#include "message/rfc822_lex.h"

#include <string.h>

void rfc822_lex_init(struct rfc822_lex *lx, const char *text, size_t len)
{
    lx->p = text;
    lx->end = text + len;
    lx->last_comment = NULL;
}

static int is_atext(unsigned char c)
{
    if (c >= 0x80)
        return 1; /* 8-bit header text (RFC 6532) is atext */
    if (c <= ' ' || c == 0x7f)
        return 0;
    return strchr("()<>[]:;@\\,.\"", c) == NULL;
}

static int is_token_char(unsigned char c)
{
    if (c <= ' ' || c >= 0x7f)
        return 0;
    return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static int more(const struct rfc822_lex *lx)
{
    return lx->p < lx->end;
}

/* Skips a comment at the cursor ('('), keeping its text when asked. */
static int skip_comment(struct rfc822_lex *lx)
{
    int depth = 0;
    if (lx->last_comment)
        buf_reset(lx->last_comment);
    for (; lx->p < lx->end; lx->p++) {
        char c = *lx->p;
        if (c == '(') {
            if (depth++ == 0)
                continue;
        } else if (c == ')') {
            if (--depth == 0) {
                lx->p++;
                return 1;
            }
        } else if (c == '\\') {
            if (lx->p + 1 >= lx->end)
                break;
            lx->p++;
            c = *lx->p;
        } else if (c == '\r' || c == '\n') {
            continue;
        }
        if (lx->last_comment)
            buf_append_char(lx->last_comment, c);
    }
    return -1;
}

int rfc822_lex_skip(struct rfc822_lex *lx)
{
    while (lx->p < lx->end) {
        char c = *lx->p;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            lx->p++;
        } else if (c == '(') {
            if (skip_comment(lx) < 0)
                return -1;
        } else {
            return 1;
        }
    }
    return 0;
}

int rfc822_lex_atom(struct rfc822_lex *lx, struct buf *out)
{
    const char *start = lx->p;
    while (lx->p < lx->end && is_atext((unsigned char)*lx->p))
        lx->p++;
    if (lx->p == start)
        return -1;
    buf_append(out, start, (size_t)(lx->p - start));
    return rfc822_lex_skip(lx);
}

int rfc822_lex_dot_atom(struct rfc822_lex *lx, struct buf *out)
{
    const char *start;
    int ret;
    if (!more(lx) || !is_atext((unsigned char)*lx->p))
        return -1;
    for (;;) {
        start = lx->p;
        while (lx->p < lx->end && is_atext((unsigned char)*lx->p))
            lx->p++;
        buf_append(out, start, (size_t)(lx->p - start));
        if ((ret = rfc822_lex_skip(lx)) <= 0 || *lx->p != '.')
            return ret;
        lx->p++;
        buf_append_char(out, '.');
        if ((ret = rfc822_lex_skip(lx)) <= 0)
            return ret;
    }
}

int rfc822_lex_quoted(struct rfc822_lex *lx, struct buf *out)
{
    const char *start;
    if (!more(lx) || *lx->p != '"')
        return -1;
    lx->p++;
    start = lx->p;
    while (lx->p < lx->end) {
        char c = *lx->p;
        if (c == '"') {
            buf_append(out, start, (size_t)(lx->p - start));
            lx->p++;
            return rfc822_lex_skip(lx);
        }
        if (c == '\\' || c == '\r' || c == '\n') {
            buf_append(out, start, (size_t)(lx->p - start));
            if (c == '\\') {
                if (lx->p + 1 >= lx->end)
                    break;
                lx->p++;
                buf_append_char(out, *lx->p);
            }
            lx->p++;
            start = lx->p;
            continue;
        }
        lx->p++;
    }
    return -1;
}

int rfc822_lex_phrase(struct rfc822_lex *lx, struct buf *out)
{
    int ret;
    if (!more(lx))
        return 0;
    if (*lx->p == '.')
        return -1;
    for (;;) {
        if (*lx->p == '"') {
            ret = rfc822_lex_quoted(lx, out);
        } else {
            const char *start = lx->p;
            while (lx->p < lx->end &&
                   (is_atext((unsigned char)*lx->p) || *lx->p == '.'))
                lx->p++;
            buf_append(out, start, (size_t)(lx->p - start));
            ret = rfc822_lex_skip(lx);
        }
        if (ret <= 0)
            return ret;
        if (!is_atext((unsigned char)*lx->p) && *lx->p != '"' &&
            *lx->p != '.')
            return ret;
        buf_append_char(out, ' ');
    }
}

int rfc822_lex_token(struct rfc822_lex *lx, struct buf *out)
{
    const char *start = lx->p;
    while (lx->p < lx->end && is_token_char((unsigned char)*lx->p))
        lx->p++;
    if (lx->p == start)
        return -1;
    buf_append(out, start, (size_t)(lx->p - start));
    return rfc822_lex_skip(lx);
}

int rfc822_lex_content_type(struct rfc822_lex *lx, struct buf *type,
                            struct buf *subtype)
{
    int ret;
    buf_reset(type);
    buf_reset(subtype);
    if (rfc822_lex_skip(lx) <= 0)
        return -1;
    if ((ret = rfc822_lex_token(lx, type)) == 0)
        return 0; /* "text" alone: the subtype is empty */
    if (ret < 0 || *lx->p != '/') {
        buf_reset(type);
        return -1;
    }
    lx->p++;
    if (rfc822_lex_skip(lx) <= 0)
        return -1;
    return rfc822_lex_token(lx, subtype);
}

int rfc822_lex_param(struct rfc822_lex *lx, struct buf *name,
                     struct buf *value)
{
    int ret;
    buf_reset(name);
    buf_reset(value);
    if (!more(lx))
        return 0;
    if (*lx->p != ';')
        return -1;
    lx->p++;
    if (rfc822_lex_skip(lx) <= 0)
        return -1;
    if (rfc822_lex_token(lx, name) <= 0 || *lx->p != '=')
        return -1;
    lx->p++;
    ret = rfc822_lex_skip(lx);
    if (ret <= 0) {
        /* "name=" and nothing: an empty value */
    } else if (*lx->p == '"') {
        ret = rfc822_lex_quoted(lx, value);
    } else if (*lx->p == '=') {
        const char *start = lx->p;
        while (lx->p < lx->end && *lx->p != ';' && *lx->p != ' ' &&
               *lx->p != '\t' && *lx->p != '\r' && *lx->p != '\n')
            lx->p++;
        buf_append(value, start, (size_t)(lx->p - start));
        ret = rfc822_lex_skip(lx);
    } else {
        ret = rfc822_lex_token(lx, value);
    }
    return ret < 0 ? -1 : 1;
}
