/* dkim_tags.c: the RFC 6376 tag=value list parser (see dkim_tags.h). */
#include "dkim/dkim_tags.h"

#include <string.h>
#include <strings.h>

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_valchar(unsigned char c)
{
    return (c >= 0x21 && c <= 0x3a) || (c >= 0x3c && c <= 0x7e) || c >= 0x80;
}

/* Skips folding whitespace at *pos; -1 when a line break is not followed
 * by a space or tab (a bare line break cannot be inside a field). */
static int skip_fws(const char *text, size_t len, size_t *pos)
{
    size_t i = *pos;
    while (i < len) {
        char c = text[i];
        if (c == ' ' || c == '\t') {
            i++;
        } else if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < len && text[i + 1] == '\n')
                i++;
            i++;
            if (i >= len || (text[i] != ' ' && text[i] != '\t'))
                return -1;
        } else {
            break;
        }
    }
    *pos = i;
    return 0;
}

static int fail(struct buf *err, const char *why)
{
    buf_set_str(err, why);
    return -1;
}

int dkim_tags_parse(const char *text, size_t len, struct dkim_tag_list *out,
                    struct buf *err)
{
    size_t i = 0;
    out->count = 0;
    for (;;) {
        if (skip_fws(text, len, &i) != 0)
            return fail(err, "line break without folding");
        if (i >= len) {
            /* Only after a ";" (or an empty list, which callers refuse
             * by the tags they require). */
            return 0;
        }
        size_t name_start = i;
        if (!is_alpha((unsigned char)text[i]))
            return fail(err, "bad tag name");
        while (i < len && (is_alpha((unsigned char)text[i]) ||
                           (text[i] >= '0' && text[i] <= '9') || text[i] == '_'))
            i++;
        size_t name_len = i - name_start;
        if (skip_fws(text, len, &i) != 0)
            return fail(err, "line break without folding");
        if (i >= len || text[i] != '=')
            return fail(err, "tag without \"=\"");
        i++;
        size_t raw_start = i;
        if (skip_fws(text, len, &i) != 0)
            return fail(err, "line break without folding");
        size_t value_start = i, value_end = i;
        while (i < len && text[i] != ';') {
            unsigned char c = (unsigned char)text[i];
            if (is_valchar(c)) {
                i++;
                value_end = i;
            } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                if (skip_fws(text, len, &i) != 0)
                    return fail(err, "line break without folding");
            } else {
                return fail(err, "bad character in tag value");
            }
        }
        if (out->count == DKIM_TAGS_MAX)
            return fail(err, "too many tags");
        for (size_t k = 0; k < out->count; k++)
            if (out->tags[k].name_len == name_len &&
                memcmp(out->tags[k].name, text + name_start, name_len) == 0)
                return fail(err, "duplicate tag");
        struct dkim_tag *t = &out->tags[out->count++];
        t->name = text + name_start;
        t->name_len = name_len;
        t->value = text + value_start;
        t->value_len = value_end - value_start;
        t->raw_start = raw_start;
        t->raw_end = i;
        if (i >= len)
            return 0;
        i++; /* the ";" */
    }
}

const struct dkim_tag *dkim_tags_find(const struct dkim_tag_list *list,
                                      const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < list->count; i++)
        if (list->tags[i].name_len == n &&
            memcmp(list->tags[i].name, name, n) == 0)
            return &list->tags[i];
    return NULL;
}

int dkim_tag_is(const struct dkim_tag *tag, const char *str, int nocase)
{
    size_t n = strlen(str);
    if (tag->value_len != n)
        return 0;
    return nocase ? strncasecmp(tag->value, str, n) == 0
                  : memcmp(tag->value, str, n) == 0;
}

void dkim_tag_value_compact(const struct dkim_tag *tag, struct buf *out)
{
    for (size_t i = 0; i < tag->value_len; i++) {
        char c = tag->value[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            buf_append_char(out, c);
    }
}
