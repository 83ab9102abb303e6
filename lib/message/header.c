/* header.c: RFC 5322 header section parser (see header.h). */
#include "message/header.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"

void header_block_init(struct header_block *hb, size_t size_limit,
                       size_t count_limit, size_t total_limit)
{
    memset(hb, 0, sizeof(*hb));
    hb->size_limit = size_limit ? size_limit : HEADER_SIZE_LIMIT;
    hb->count_limit = count_limit ? count_limit : HEADER_COUNT_LIMIT;
    hb->total_limit = total_limit ? total_limit : HEADER_TOTAL_LIMIT;
    hb->current = -1;
}

void header_block_free(struct header_block *hb)
{
    for (size_t i = 0; i < hb->count; i++) {
        free(hb->fields[i].name);
        buf_free(&hb->fields[i].raw);
        buf_free(&hb->fields[i].value);
    }
    free(hb->fields);
    hb->fields = NULL;
    hb->count = hb->cap = 0;
}

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

size_t header_name_length(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && i <= HEADER_NAME_MAX) {
        unsigned char c = (unsigned char)line[i];
        if (c == ':' || c <= 32 || c >= 127)
            break;
        i++;
    }
    size_t name_len = i;
    if (name_len == 0 || name_len > HEADER_NAME_MAX)
        return 0;
    while (i < len && is_wsp(line[i])) /* obs-optional: "Subject :" */
        i++;
    return i < len && line[i] == ':' ? name_len : 0;
}

/* Appends up to what the field's size limit allows; marks truncation. */
static void append_limited(struct header_block *hb, struct header_field *f,
                           struct buf *dst, const char *data, size_t len)
{
    size_t room = dst->len < hb->size_limit ? hb->size_limit - dst->len : 0;
    if (len > room) {
        len = room;
        if (!f->truncated) {
            f->truncated = 1;
            hb->truncated = 1;
        }
    }
    buf_append(dst, data, len);
    hb->stored += len;
}

static void start_field(struct header_block *hb, const char *line, size_t len,
                        size_t name_len)
{
    if (name_len == 8 && strncasecmp(line, "Received", 8) == 0)
        hb->received++;
    /* An over-long field is kept truncated, so count what it will keep. */
    size_t keep = len < hb->size_limit ? len : hb->size_limit;
    if (hb->count >= hb->count_limit ||
        hb->stored + name_len + 2 * keep > hb->total_limit) {
        hb->dropped++;
        hb->current = -1;
        hb->current_dropped = 1;
        return;
    }
    if (hb->count == hb->cap) {
        hb->cap = hb->cap ? hb->cap * 2 : 16;
        hb->fields = xreallocarray(hb->fields, hb->cap, sizeof(*hb->fields));
    }
    struct header_field *f = &hb->fields[hb->count];
    memset(f, 0, sizeof(*f));
    f->name = xstrndup(line, name_len);
    buf_init(&f->raw);
    buf_init(&f->value);
    hb->current = (long)hb->count;
    hb->current_dropped = 0;
    hb->count++;
    hb->stored += name_len;

    append_limited(hb, f, &f->raw, line, len);
    size_t i = name_len;
    while (i < len && line[i] != ':')
        i++;
    i++; /* the colon */
    while (i < len && is_wsp(line[i]))
        i++;
    append_limited(hb, f, &f->value, line + i, len - i);
}

static void continue_field(struct header_block *hb, const char *line,
                           size_t len)
{
    if (hb->current_dropped || hb->current < 0)
        return; /* the rest of a dropped field */
    struct header_field *f = &hb->fields[hb->current];
    if (f->truncated)
        return; /* the excess of an over-long field is discarded */
    size_t keep = len < hb->size_limit ? len : hb->size_limit;
    if (hb->stored + 2 * keep + 1 > hb->total_limit) {
        f->truncated = 1;
        hb->truncated = 1;
        return;
    }
    append_limited(hb, f, &f->raw, "\n", 1);
    append_limited(hb, f, &f->raw, line, len);
    append_limited(hb, f, &f->value, line, len);
}

enum header_line_kind header_block_line(struct header_block *hb,
                                        const char *line, size_t len)
{
    if (hb->ended)
        return HEADER_LINE_END_BODY;
    if (len == 0) {
        hb->ended = 1;
        hb->blank_line = 1;
        return HEADER_LINE_END_BLANK;
    }
    if (is_wsp(line[0])) {
        if (hb->current < 0 && !hb->current_dropped) {
            hb->ended = 1; /* a continuation with nothing to continue */
            return HEADER_LINE_END_BODY;
        }
        continue_field(hb, line, len);
        return HEADER_LINE_FIELD;
    }
    size_t name_len = header_name_length(line, len);
    if (name_len == 0) {
        hb->ended = 1;
        return HEADER_LINE_END_BODY;
    }
    start_field(hb, line, len, name_len);
    return HEADER_LINE_FIELD;
}

void header_parse(struct header_block *hb, const char *data, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t next = nl ? (size_t)(nl - data) + 1 : len;
        size_t line_len = (nl ? (size_t)(nl - data) : len) - pos;
        if (nl && line_len > 0 && data[pos + line_len - 1] == '\r')
            line_len--;
        enum header_line_kind kind = header_block_line(hb, data + pos, line_len);
        if (kind == HEADER_LINE_END_BLANK) {
            hb->body_offset = next;
            return;
        }
        if (kind == HEADER_LINE_END_BODY) {
            hb->body_offset = pos;
            return;
        }
        pos = next;
    }
    hb->body_offset = len;
}

const struct header_field *header_find_next(const struct header_block *hb,
                                            const char *name,
                                            const struct header_field *after)
{
    size_t start = after ? (size_t)(after - hb->fields) + 1 : 0;
    for (size_t i = start; i < hb->count; i++)
        if (strcasecmp(hb->fields[i].name, name) == 0)
            return &hb->fields[i];
    return NULL;
}

const struct header_field *header_find(const struct header_block *hb,
                                       const char *name)
{
    return header_find_next(hb, name, NULL);
}

size_t header_count(const struct header_block *hb, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < hb->count; i++)
        if (strcasecmp(hb->fields[i].name, name) == 0)
            n++;
    return n;
}

size_t header_hop_count(const struct header_block *hb)
{
    return hb->received;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void header_value_trimmed(const struct header_field *field, struct buf *out)
{
    const char *v = field->value.data;
    size_t start = 0, end = field->value.len;
    while (start < end && is_space(v[start]))
        start++;
    while (end > start && is_space(v[end - 1]))
        end--;
    buf_set(out, v + start, end - start);
}

int header_get(const struct header_block *hb, const char *name,
               struct buf *out)
{
    const struct header_field *f = header_find(hb, name);
    if (f == NULL) {
        buf_reset(out);
        return 0;
    }
    header_value_trimmed(f, out);
    return 1;
}

int header_has_delivered_to(const struct header_block *hb,
                            const char *address)
{
    struct buf value = BUF_INIT;
    int found = 0;
    for (const struct header_field *f = header_find(hb, "Delivered-To"); f;
         f = header_find_next(hb, "Delivered-To", f)) {
        header_value_trimmed(f, &value);
        if (strlen(value.data) == value.len &&
            strcasecmp(value.data, address) == 0) {
            found = 1;
            break;
        }
    }
    buf_free(&value);
    return found;
}
