/* mime_params.c: Content-Type/-Disposition parameters with RFC 2231
 * continuations (see mime_params.h). */
#include "message/mime_params.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"

struct piece {
    char *key; /* name before the '*' */
    unsigned idx;
    int extended;
    char *value;
    size_t order; /* position read, to keep qsort stable */
};

void mime_params_init(struct mime_params *params)
{
    params->items = NULL;
    params->count = params->cap = 0;
}

void mime_params_free(struct mime_params *params)
{
    for (size_t i = 0; i < params->count; i++) {
        free(params->items[i].name);
        free(params->items[i].value);
    }
    free(params->items);
    mime_params_init(params);
}

static void push(struct mime_params *params, char *name, char *value)
{
    if (params->count == params->cap) {
        params->cap = params->cap ? params->cap * 2 : 4;
        params->items = xreallocarray(params->items, params->cap,
                                      sizeof(*params->items));
    }
    params->items[params->count].name = name;
    params->items[params->count].value = value;
    params->count++;
}

const char *mime_params_get(const struct mime_params *params,
                            const char *name)
{
    for (size_t i = 0; i < params->count; i++)
        if (strcasecmp(params->items[i].name, name) == 0)
            return params->items[i].value;
    return NULL;
}

static int piece_cmp(const void *a, const void *b)
{
    const struct piece *x = a, *y = b;
    int ret = strcasecmp(x->key, y->key);
    if (ret != 0)
        return ret;
    if (x->idx != y->idx)
        return x->idx < y->idx ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* A plain piece inside an extended value: only '%' is escaped (what
 * Dovecot does; the other bytes are left as written). */
static void escape_into(struct buf *out, const char *text)
{
    for (; *text; text++) {
        if (*text == '%')
            buf_append_str(out, "%25");
        else
            buf_append_char(out, *text);
    }
}

/* Splits "key*N*" into its parts; 0 when the name is not RFC 2231. */
static int split_2231(const char *name, struct piece *pc)
{
    const char *star = strchr(name, '*'), *p;
    if (star == NULL)
        return 0;
    p = star[1] == '\0' ? star : star + 1; /* "name*": extended piece 0 */
    pc->idx = 0;
    pc->extended = 0;
    while (*p >= '0' && *p <= '9') {
        if (pc->idx < 100000)
            pc->idx = pc->idx * 10 + (unsigned)(*p - '0');
        p++;
    }
    if (*p == '*') {
        pc->extended = 1;
        p++;
    }
    if (*p != '\0')
        return 0;
    pc->key = xstrndup(name, (size_t)(star - name));
    return 1;
}

void mime_params_parse(struct rfc822_lex *lx, struct mime_params *params)
{
    struct buf name = BUF_INIT, value = BUF_INIT;
    struct piece *pieces = NULL;
    size_t npieces = 0, cap = 0, seen = 0;
    int ret;

    while ((ret = rfc822_lex_param(lx, &name, &value)) != 0) {
        struct piece pc;
        if (ret < 0) {
            if (lx->p >= lx->end)
                break;
            lx->p++;
            continue;
        }
        if (++seen > MIME_PARAMS_MAX)
            continue;
        if (split_2231(buf_cstr(&name), &pc)) {
            if (npieces == cap) {
                cap = cap ? cap * 2 : 4;
                pieces = xreallocarray(pieces, cap, sizeof(*pieces));
            }
            pc.value = buf_detach(&value);
            pc.order = npieces;
            pieces[npieces++] = pc;
        } else {
            push(params, buf_detach(&name), buf_detach(&value));
        }
    }
    buf_free(&name);
    buf_free(&value);
    if (npieces == 0) {
        free(pieces);
        return;
    }
    qsort(pieces, npieces, sizeof(*pieces), piece_cmp);
    for (size_t i = 0, next; i < npieces; i = next) {
        int complete = 1, extended = 0;
        unsigned want = 0;
        for (next = i; next < npieces; next++) {
            if (strcasecmp(pieces[i].key, pieces[next].key) != 0)
                break;
            if (pieces[next].idx != want)
                complete = 0;
            if (pieces[next].extended)
                extended = 1;
            want++;
        }
        if (!complete) {
            for (size_t j = i; j < next; j++) {
                struct buf key = BUF_INIT;
                buf_appendf(&key, pieces[j].extended ? "%s*%u*" : "%s*%u",
                            pieces[j].key, pieces[j].idx);
                push(params, buf_detach(&key), pieces[j].value);
                pieces[j].value = NULL;
            }
        } else {
            struct buf key = BUF_INIT, text = BUF_INIT;
            if (!pieces[i].extended && extended)
                buf_append_str(&text, "''");
            for (size_t j = i; j < next; j++) {
                if (!pieces[j].extended && extended)
                    escape_into(&text, pieces[j].value);
                else
                    buf_append_str(&text, pieces[j].value);
            }
            buf_append_str(&key, pieces[i].key);
            if (extended)
                buf_append_char(&key, '*');
            push(params, buf_detach(&key), buf_detach(&text));
        }
    }
    for (size_t i = 0; i < npieces; i++) {
        free(pieces[i].key);
        free(pieces[i].value);
    }
    free(pieces);
}
