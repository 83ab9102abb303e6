/* dict_text.c: what every text table format shares (see dict_impl.h):
 * the logical-line reader of postmap(1) input and regexp/pcre/cidr
 * tables (comments, blank lines, continuation lines), the key/value
 * split of postmap input, and the sorted in-memory table behind
 * texthash: and inline:. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tables/dict_impl.h"
#include "base/mem.h"

void dict_text_init(struct dict_text_reader *r, const char *text, size_t len)
{
    r->text = text;
    r->len = len;
    r->pos = 0;
    r->line = 0;
}

/* Reads one physical line: [*start, *end) without the newline. Returns
 * -1 when it holds a NUL byte, 0 at the end of the text, else 1. */
static int dict_text_physical(struct dict_text_reader *r, size_t *start,
                              size_t *end)
{
    if (r->pos >= r->len)
        return 0;
    const char *nl = memchr(r->text + r->pos, '\n', r->len - r->pos);
    size_t stop = nl ? (size_t)(nl - r->text) : r->len;
    *start = r->pos;
    *end = stop;
    r->pos = nl ? stop + 1 : r->len;
    r->line++;
    if (memchr(r->text + *start, 0, stop - *start) != NULL)
        return -1;
    return 1;
}

static int dict_text_blank_or_comment(const char *p, const char *end)
{
    while (p < end && isspace((unsigned char)*p))
        p++;
    return p == end || *p == '#';
}

int dict_text_next(struct dict_text_reader *r, struct buf *out, int *lineno)
{
    size_t start, end;
    int status;
    buf_reset(out);
    /* Skip to the start of a logical line. */
    for (;;) {
        status = dict_text_physical(r, &start, &end);
        if (status <= 0) {
            *lineno = r->line;
            return status;
        }
        if (!dict_text_blank_or_comment(r->text + start, r->text + end))
            break;
    }
    *lineno = r->line;
    buf_append(out, r->text + start, end - start);
    /* Join following lines that start with whitespace; comment and blank
     * lines in between are skipped, as Postfix does. */
    for (;;) {
        if (r->pos >= r->len)
            return 1;
        size_t save_pos = r->pos;
        int save_line = r->line;
        status = dict_text_physical(r, &start, &end);
        if (status < 0) {
            *lineno = r->line;
            return -1;
        }
        if (dict_text_blank_or_comment(r->text + start, r->text + end))
            continue;
        if (!isspace((unsigned char)r->text[start])) {
            r->pos = save_pos;
            r->line = save_line;
            return 1;
        }
        buf_append(out, r->text + start, end - start);
    }
}

int dict_text_split(char *line, char **key, char **value)
{
    char *p = line;
    while (*p && isspace((unsigned char)*p))
        p++;
    *key = p;
    if (p[0] == '"' && p[1] == '"') {
        /* "" would unquote to an empty key, which no lookup can ask
         * for: it stays the two-character key "", the key Postfix's
         * postmap stores for it (and the external form of an empty
         * local part). */
        p += 2;
        if (!isspace((unsigned char)*p))
            return -1; /* text glued to it, as below */
    } else if (*p == '"') {
        /* Postfix 3.2: "key with spaces", \" and \\ inside; unquoted in
         * place. */
        char *out = p;
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                p++;
            *out++ = *p;
        }
        if (*p != '"' || !isspace((unsigned char)p[1]))
            return -1; /* no closing quote, or text glued to it */
        *out = 0;
        p++;
    } else {
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (*p == 0)
            return -1;
    }
    *p++ = 0;
    while (*p && isspace((unsigned char)*p))
        p++;
    size_t len = strlen(p);
    while (len > 0 && isspace((unsigned char)p[len - 1]))
        p[--len] = 0;
    *value = p;
    return len ? 0 : -1;
}

int dict_text_parse(const char *name, const char *text, size_t len,
                    dict_text_fn fn, void *ctx, struct buf *err)
{
    struct dict_text_reader reader;
    struct buf line = BUF_INIT;
    int lineno, status;
    dict_text_init(&reader, text, len);
    while ((status = dict_text_next(&reader, &line, &lineno)) > 0) {
        char *key, *value;
        if (dict_text_split(line.data, &key, &value) < 0) {
            buf_appendf(err, "%s, line %d: expected format: key whitespace value",
                        name, lineno);
            status = -1;
            break;
        }
        if (fn(ctx, key, value, lineno, err) < 0) {
            status = -1;
            break;
        }
    }
    if (status < 0 && err->len == 0)
        buf_appendf(err, "%s, line %d: NUL byte in text", name, lineno);
    buf_free(&line);
    return status < 0 ? -1 : 0;
}

/* ---- sorted in-memory table ---- */

struct dict_mem_entry {
    char *key, *value;
    size_t order; /* insertion order, so the first of duplicates wins */
};

struct dict_mem {
    struct dict_mem_entry *entries;
    size_t count, cap;
};

struct dict_mem *dict_mem_new(void)
{
    return xcalloc(1, sizeof(struct dict_mem));
}

static int dict_mem_cmp(const void *a, const void *b)
{
    const struct dict_mem_entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

int dict_mem_add(struct dict_mem *m, const char *key, const char *value)
{
    if (m->count == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->entries = xreallocarray(m->entries, m->cap, sizeof(*m->entries));
    }
    m->entries[m->count].key = xstrdup(key);
    m->entries[m->count].value = xstrdup(value);
    m->entries[m->count].order = m->count;
    m->count++;
    return 0;
}

void dict_mem_seal(struct dict_mem *m)
{
    if (m->count > 1)
        qsort(m->entries, m->count, sizeof(*m->entries), dict_mem_cmp);
    /* Drop later duplicates: after sorting they follow the first. */
    size_t kept = 0;
    for (size_t i = 0; i < m->count; i++) {
        if (kept > 0 && strcmp(m->entries[kept - 1].key, m->entries[i].key) == 0) {
            free(m->entries[i].key);
            free(m->entries[i].value);
            continue;
        }
        m->entries[kept++] = m->entries[i];
    }
    m->count = kept;
}

void dict_mem_free(struct dict_mem *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->count; i++) {
        free(m->entries[i].key);
        free(m->entries[i].value);
    }
    free(m->entries);
    free(m);
}

const char *dict_mem_get(const struct dict_mem *m, const char *key)
{
    size_t lo = 0, hi = m->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key, m->entries[mid].key);
        if (c == 0)
            return m->entries[mid].value;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

int dict_mem_iterate(const struct dict_mem *m, dict_raw_fn fn, void *ctx)
{
    for (size_t i = 0; i < m->count; i++)
        if (fn(ctx, m->entries[i].key, strlen(m->entries[i].key),
               m->entries[i].value, strlen(m->entries[i].value)))
            break;
    return 0;
}

void dict_if_push(struct dict_if_stack *s, size_t rule, int lineno)
{
    if (s->depth == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->rule = xreallocarray(s->rule, s->cap, sizeof(*s->rule));
        s->line = xreallocarray(s->line, s->cap, sizeof(*s->line));
    }
    s->rule[s->depth] = rule;
    s->line[s->depth++] = lineno;
}

long dict_if_endif(struct dict_if_stack *s, const char *table,
                   const char *rest, int lineno, struct buf *err)
{
    if (rest[0] && strspn(rest, " \t\r") != strlen(rest)) {
        buf_appendf(err, "%s, line %d: text after endif", table, lineno);
        return -1;
    }
    if (s->depth == 0) {
        buf_appendf(err, "%s, line %d: endif without if", table, lineno);
        return -1;
    }
    return (long)s->rule[--s->depth];
}

int dict_if_unclosed(const struct dict_if_stack *s, const char *table,
                     struct buf *err)
{
    if (s->depth == 0)
        return 0;
    buf_appendf(err, "%s, line %d: if without endif", table,
                s->line[s->depth - 1]);
    return 1;
}

void dict_if_free(struct dict_if_stack *s)
{
    free(s->rule);
    free(s->line);
    s->rule = NULL;
    s->line = NULL;
    s->depth = s->cap = 0;
}

void dict_mem_type_release(struct dict *d)
{
    dict_mem_free(d->impl);
    d->impl = NULL;
}

enum dict_result dict_mem_type_lookup(struct dict *d, const char *key,
                                      size_t key_len, struct buf *value)
{
    const char *found = dict_mem_get(d->impl, key);
    if (found == NULL)
        return DICT_NOTFOUND;
    buf_set_str(value, found);
    return DICT_FOUND;
}

int dict_mem_type_iterate(struct dict *d, dict_raw_fn fn, void *ctx,
                          struct buf *err)
{
    return dict_mem_iterate(d->impl, fn, ctx);
}
