/* imap_header_iter.c: header fields one at a time (see imap_header_iter.h). */
#include "message/imap_header_iter.h"

#include <string.h>
#include <strings.h>

/* The end of the line at data[pos..len): the offset of its LF plus one,
 * or len. *text_end is where its text ends (before CR LF). */
static size_t line_end(const char *data, size_t len, size_t pos,
                       size_t *text_end)
{
    const char *lf = memchr(data + pos, '\n', len - pos);
    size_t end = lf ? (size_t)(lf - data) : len;
    *text_end = end;
    if (end > pos && data[end - 1] == '\r')
        (*text_end)--;
    return lf ? end + 1 : len;
}

int imap_header_next(const char *header, size_t len, size_t *pos,
                     struct imap_header_field *field)
{
    size_t start = *pos, text_end, next;
    const char *colon;

    if (start >= len)
        return 0;
    next = line_end(header, len, start, &text_end);
    if (text_end == start)
        return 0; /* the empty line */
    memset(field, 0, sizeof(*field));
    field->start = start;
    field->name = header + start;
    colon = memchr(header + start, ':', text_end - start);
    if (colon != NULL && header[start] != ' ' && header[start] != '\t') {
        const char *v = colon + 1;
        size_t name_end = (size_t)(colon - header);
        while (name_end > start &&
               (header[name_end - 1] == ' ' || header[name_end - 1] == '\t'))
            name_end--;
        field->name_len = name_end - start;
        field->has_colon = 1;
        while (v < header + text_end && (*v == ' ' || *v == '\t'))
            v++;
        field->value = v;
    } else {
        field->name_len = 0;
        field->value = header + text_end;
    }
    /* continuation lines */
    while (next < len && (header[next] == ' ' || header[next] == '\t')) {
        size_t cont_end;
        size_t after = line_end(header, len, next, &cont_end);
        text_end = cont_end;
        next = after;
    }
    if (field->value > header + text_end)
        field->value = header + text_end;
    field->value_len = (size_t)(header + text_end - field->value);
    field->end = next;
    *pos = next;
    return 1;
}

int imap_header_name_is(const struct imap_header_field *field,
                        const char *name, size_t name_len)
{
    return field->has_colon && field->name_len == name_len &&
           strncasecmp(field->name, name, name_len) == 0;
}

const char *imap_header_find(const char *header, size_t len,
                             const char *name, size_t *value_len)
{
    struct imap_header_field field;
    size_t pos = 0, name_len = strlen(name);
    while (imap_header_next(header, len, &pos, &field))
        if (imap_header_name_is(&field, name, name_len)) {
            *value_len = field.value_len;
            return field.value;
        }
    return NULL;
}
