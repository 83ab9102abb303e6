/* auth_line.c: splitting and writing lines of Dovecot's authentication
 * protocol, with its \001 tab-escaping (see auth_line.h). */
#include "auth/auth_line.h"

#include <string.h>

int auth_line_split(struct auth_line *line, const char *text, size_t len)
{
    line->count = 0;
    buf_reset(&line->storage);
    if (len > AUTH_LINE_MAX)
        return -1;
    /* Unescape into storage, a NUL after each field; record the starts
     * as offsets, since storage may move while it grows. */
    size_t starts[AUTH_LINE_MAX_FIELDS];
    size_t count = 0;
    buf_reserve(&line->storage, len + 1);
    starts[count++] = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\t') {
            if (count == AUTH_LINE_MAX_FIELDS)
                return -1;
            buf_append_char(&line->storage, '\0');
            starts[count++] = line->storage.len;
            continue;
        }
        if (c == '\001') {
            if (++i == len)
                return -1; /* an escape byte with nothing after it */
            switch (text[i]) {
            case '1': c = '\001'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'n': c = '\n'; break;
            case '0': return -1;
            default: c = text[i]; break;
            }
        } else if (c == '\0' || c == '\n') {
            return -1;
        }
        buf_append_char(&line->storage, c);
    }
    buf_append_char(&line->storage, '\0');
    for (size_t f = 0; f < count; f++)
        line->fields[f] = line->storage.data + starts[f];
    line->count = count;
    return 0;
}

void auth_line_free(struct auth_line *line)
{
    buf_free(&line->storage);
    line->count = 0;
}

const char *auth_line_param(const struct auth_line *line, size_t first,
                            const char *name)
{
    size_t name_len = strlen(name);
    for (size_t f = first; f < line->count; f++) {
        const char *field = line->fields[f];
        if (strncmp(field, name, name_len) != 0)
            continue;
        if (field[name_len] == '=')
            return field + name_len + 1;
        if (field[name_len] == '\0')
            return field + name_len;
    }
    return NULL;
}

void auth_line_escape(struct buf *out, const char *value, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = value[i];
        switch (c) {
        case '\001': buf_append(out, "\0011", 2); break;
        case '\t': buf_append(out, "\001t", 2); break;
        case '\r': buf_append(out, "\001r", 2); break;
        case '\n': buf_append(out, "\001n", 2); break;
        case '\0': buf_append(out, "\0010", 2); break;
        default: buf_append_char(out, c); break;
        }
    }
}

void auth_line_add(struct buf *out, const char *value)
{
    buf_append_char(out, '\t');
    auth_line_escape(out, value, strlen(value));
}

void auth_line_add_param(struct buf *out, const char *name,
                         const char *value)
{
    buf_append_char(out, '\t');
    buf_append_str(out, name);
    buf_append_char(out, '=');
    auth_line_escape(out, value, strlen(value));
}
