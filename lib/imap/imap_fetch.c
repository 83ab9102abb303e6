/* imap_fetch.c: FETCH data items (see imap_fetch.h). */
#include "imap/imap_fetch.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/mem.h"
#include "imap/imap_quote.h"

static const struct {
    const char *name;
    enum imap_fetch_type type;
} simple_items[] = {
    {"FLAGS", IMAP_FETCH_FLAGS},
    {"INTERNALDATE", IMAP_FETCH_INTERNALDATE},
    {"RFC822.SIZE", IMAP_FETCH_RFC822_SIZE},
    {"ENVELOPE", IMAP_FETCH_ENVELOPE},
    {"BODY", IMAP_FETCH_BODY},
    {"BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE},
    {"UID", IMAP_FETCH_UID},
    {"MODSEQ", IMAP_FETCH_MODSEQ},
    {"RFC822", IMAP_FETCH_RFC822},
    {"RFC822.HEADER", IMAP_FETCH_RFC822_HEADER},
    {"RFC822.TEXT", IMAP_FETCH_RFC822_TEXT},
};

void imap_fetch_init(struct imap_fetch *fetch)
{
    memset(fetch, 0, sizeof(*fetch));
}

void imap_fetch_free(struct imap_fetch *fetch)
{
    for (size_t i = 0; i < fetch->count; i++) {
        free(fetch->items[i].parts);
        free(fetch->items[i].fields);
        free(fetch->items[i].section);
    }
    free(fetch->items);
    memset(fetch, 0, sizeof(*fetch));
}

static struct imap_fetch_item *add_item(struct imap_fetch *fetch,
                                        enum imap_fetch_type type)
{
    fetch->items = xreallocarray(fetch->items, fetch->count + 1,
                                 sizeof(*fetch->items));
    struct imap_fetch_item *item = &fetch->items[fetch->count++];
    memset(item, 0, sizeof(*item));
    item->type = type;
    if (type == IMAP_FETCH_RFC822 || type == IMAP_FETCH_RFC822_TEXT)
        fetch->sets_seen = 1;
    return item;
}

static int prefix_is(const char *text, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && strncasecmp(text, prefix, n) == 0;
}

/* "<start.count>" at text[0..len) exactly. */
static int parse_partial(const char *text, size_t len,
                         struct imap_fetch_item *item)
{
    unsigned long long start, count;
    const char *dot;
    if (len < 5 || text[0] != '<' || text[len - 1] != '>' ||
        (dot = memchr(text, '.', len)) == NULL)
        return -1;
    size_t start_len = (size_t)(dot - text) - 1;
    if (imap_parse_number(text + 1, start_len, 0x7fffffffffffffffULL,
                          &start) != 0 ||
        imap_parse_number(dot + 1, len - start_len - 3,
                          0x7fffffffffffffffULL, &count) != 0 ||
        count == 0)
        return -1;
    item->has_partial = 1;
    item->partial_start = start;
    item->partial_count = count;
    return 0;
}

/* The part numbers and spec between '[' and ']' (or the end of the atom
 * for HEADER.FIELDS, whose list follows). binary: only part numbers. */
static int parse_section_text(const char *text, size_t len, int binary,
                              struct imap_fetch_item *item,
                              const char **error)
{
    size_t pos = 0;
    *error = "Invalid section";
    while (pos < len && text[pos] >= '0' && text[pos] <= '9') {
        size_t end = pos;
        unsigned long long part;
        while (end < len && text[end] >= '0' && text[end] <= '9')
            end++;
        if (imap_parse_number(text + pos, end - pos, 0xffffffffULL, &part) != 0 ||
            part == 0)
            return -1;
        if (item->part_count == IMAP_SECTION_PARTS_MAX) {
            *error = "Section part number too deep";
            return -1;
        }
        item->parts = xreallocarray(item->parts, item->part_count + 1,
                                    sizeof(*item->parts));
        item->parts[item->part_count++] = (uint32_t)part;
        pos = end;
        if (pos == len)
            break;
        if (text[pos] != '.' || pos + 1 == len)
            return -1;
        pos++;
    }
    const char *spec = text + pos;
    size_t spec_len = len - pos;
    if (spec_len == 0) {
        item->spec = IMAP_SECTION_WHOLE;
        return 0;
    }
    if (binary)
        return -1;
    if (spec_len == 6 && strncasecmp(spec, "HEADER", 6) == 0)
        item->spec = IMAP_SECTION_HEADER;
    else if (spec_len == 13 && strncasecmp(spec, "HEADER.FIELDS", 13) == 0)
        item->spec = IMAP_SECTION_HEADER_FIELDS;
    else if (spec_len == 17 && strncasecmp(spec, "HEADER.FIELDS.NOT", 17) == 0)
        item->spec = IMAP_SECTION_HEADER_FIELDS_NOT;
    else if (spec_len == 4 && strncasecmp(spec, "TEXT", 4) == 0)
        item->spec = IMAP_SECTION_TEXT;
    else if (spec_len == 4 && strncasecmp(spec, "MIME", 4) == 0 &&
             item->part_count > 0)
        item->spec = IMAP_SECTION_MIME;
    else
        return -1;
    return 0;
}

static int valid_field_name(const char *name, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= 0x20 || c >= 0x7f || c == ':')
            return 0;
    }
    return 1;
}

static int parse_header_list(const struct imap_arg *list,
                             struct imap_fetch_item *item, const char **error)
{
    if (list->type != IMAP_ARG_LIST || list->count == 0) {
        *error = "Missing header field list";
        return -1;
    }
    if (list->count > IMAP_HEADER_FIELDS_MAX) {
        *error = "Too many header fields";
        return -1;
    }
    item->fields = xcalloc(list->count, sizeof(*item->fields));
    for (size_t i = 0; i < list->count; i++) {
        const char *name;
        size_t len;
        if (imap_arg_astring(&list->list[i], &name, &len) != 0 ||
            !valid_field_name(name, len)) {
            *error = "Invalid header field name";
            return -1;
        }
        item->fields[i].name = name;
        item->fields[i].len = len;
    }
    item->field_count = list->count;
    return 0;
}

static void format_section(struct imap_fetch_item *item)
{
    static const char *const spec_names[] = {
        "", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"};
    struct buf text = BUF_INIT;
    buf_init(&text);
    for (size_t i = 0; i < item->part_count; i++)
        buf_appendf(&text, "%s%lu", i ? "." : "", (unsigned long)item->parts[i]);
    if (item->spec != IMAP_SECTION_WHOLE) {
        if (item->part_count)
            buf_append_char(&text, '.');
        buf_append_str(&text, spec_names[item->spec]);
    }
    if (item->field_count) {
        buf_append_str(&text, " (");
        for (size_t i = 0; i < item->field_count; i++) {
            if (i)
                buf_append_char(&text, ' ');
            imap_write_astring(&text, item->fields[i].name,
                               item->fields[i].len, 0);
        }
        buf_append_char(&text, ')');
    }
    item->section = buf_detach(&text);
}

/* A section item starting at args[*index]; advances *index past the
 * tokens it used. */
static int parse_section_item(const struct imap_arg *args, size_t count,
                              size_t *index, struct imap_fetch *fetch,
                              const char **error)
{
    const struct imap_arg *arg = &args[*index];
    const char *text = arg->str;
    size_t len = arg->len, skip;
    enum imap_fetch_type type;
    int peek = 0, binary = 0;

    if (prefix_is(text, len, "BODY.PEEK[")) {
        type = IMAP_FETCH_BODY_SECTION, peek = 1, skip = 10;
    } else if (prefix_is(text, len, "BODY[")) {
        type = IMAP_FETCH_BODY_SECTION, skip = 5;
    } else if (prefix_is(text, len, "BINARY.PEEK[")) {
        type = IMAP_FETCH_BINARY, peek = 1, binary = 1, skip = 12;
    } else if (prefix_is(text, len, "BINARY.SIZE[")) {
        type = IMAP_FETCH_BINARY_SIZE, binary = 1, skip = 12;
    } else if (prefix_is(text, len, "BINARY[")) {
        type = IMAP_FETCH_BINARY, binary = 1, skip = 7;
    } else {
        *error = "Invalid fetch item";
        return -1;
    }
    struct imap_fetch_item *item = add_item(fetch, type);
    item->peek = peek;
    if (!peek && type != IMAP_FETCH_BINARY_SIZE)
        fetch->sets_seen = 1;

    const char *close = memchr(text + skip, ']', len - skip);
    const char *rest;
    size_t rest_len;
    if (close) {
        if (parse_section_text(text + skip, (size_t)(close - text) - skip,
                               binary, item, error) != 0)
            return -1;
        if (item->spec == IMAP_SECTION_HEADER_FIELDS ||
            item->spec == IMAP_SECTION_HEADER_FIELDS_NOT) {
            *error = "Missing header field list";
            return -1;
        }
        rest = close + 1;
        rest_len = len - (size_t)(rest - text);
    } else {
        /* "BODY[HEADER.FIELDS" (list) "]..." */
        if (parse_section_text(text + skip, len - skip, binary, item, error) != 0)
            return -1;
        if (item->spec != IMAP_SECTION_HEADER_FIELDS &&
            item->spec != IMAP_SECTION_HEADER_FIELDS_NOT) {
            *error = "Missing ']' in section";
            return -1;
        }
        if (*index + 2 >= count) {
            *error = "Missing header field list";
            return -1;
        }
        if (parse_header_list(&args[*index + 1], item, error) != 0)
            return -1;
        const struct imap_arg *tail = &args[*index + 2];
        if (tail->type != IMAP_ARG_ATOM || tail->len == 0 || tail->str[0] != ']') {
            *error = "Missing ']' in section";
            return -1;
        }
        *index += 2;
        rest = tail->str + 1;
        rest_len = tail->len - 1;
    }
    if (rest_len > 0) {
        if (type == IMAP_FETCH_BINARY_SIZE ||
            parse_partial(rest, rest_len, item) != 0) {
            *error = "Invalid partial range";
            return -1;
        }
    }
    format_section(item);
    (*index)++;
    return 0;
}

static int parse_item(const struct imap_arg *args, size_t count,
                      size_t *index, struct imap_fetch *fetch,
                      const char **error)
{
    const struct imap_arg *arg = &args[*index];
    if (arg->type != IMAP_ARG_ATOM) {
        *error = "Invalid fetch item";
        return -1;
    }
    if (fetch->count >= IMAP_FETCH_ITEMS_MAX) {
        *error = "Too many fetch items";
        return -1;
    }
    for (size_t i = 0; i < sizeof(simple_items) / sizeof(simple_items[0]); i++)
        if (imap_arg_atom_is(arg, simple_items[i].name)) {
            add_item(fetch, simple_items[i].type);
            (*index)++;
            return 0;
        }
    return parse_section_item(args, count, index, fetch, error);
}

static int parse_modifiers(const struct imap_arg *list, unsigned flags,
                           struct imap_fetch *fetch, const char **error)
{
    if (list->type != IMAP_ARG_LIST) {
        *error = "Invalid fetch modifiers";
        return -1;
    }
    for (size_t i = 0; i < list->count; i++) {
        const struct imap_arg *arg = &list->list[i];
        unsigned long long value;
        if (imap_arg_atom_is(arg, "CHANGEDSINCE") && !fetch->has_changedsince &&
            i + 1 < list->count &&
            imap_arg_number64(&list->list[i + 1], &value) == 0 && value > 0) {
            fetch->has_changedsince = 1;
            fetch->changedsince = value;
            i++;
        } else if (imap_arg_atom_is(arg, "VANISHED") && !fetch->vanished) {
            fetch->vanished = 1;
        } else {
            *error = "Invalid fetch modifier";
            return -1;
        }
    }
    if (fetch->vanished &&
        (!(flags & IMAP_FETCH_PARSE_UID) || !fetch->has_changedsince)) {
        *error = "VANISHED needs UID FETCH and CHANGEDSINCE";
        return -1;
    }
    return 0;
}

int imap_fetch_parse(const struct imap_arg *args, size_t count,
                     unsigned flags, struct imap_fetch *fetch,
                     const char **error)
{
    size_t index = 0;
    imap_fetch_free(fetch);
    if (count == 0) {
        *error = "Missing fetch items";
        goto fail;
    }
    if (imap_arg_atom_is(&args[0], "ALL") || imap_arg_atom_is(&args[0], "FAST") ||
        imap_arg_atom_is(&args[0], "FULL")) {
        add_item(fetch, IMAP_FETCH_FLAGS);
        add_item(fetch, IMAP_FETCH_INTERNALDATE);
        add_item(fetch, IMAP_FETCH_RFC822_SIZE);
        if (!imap_arg_atom_is(&args[0], "FAST"))
            add_item(fetch, IMAP_FETCH_ENVELOPE);
        if (imap_arg_atom_is(&args[0], "FULL"))
            add_item(fetch, IMAP_FETCH_BODY);
        index = 1;
    } else if (args[0].type == IMAP_ARG_LIST) {
        size_t inner = 0;
        if (args[0].count == 0) {
            *error = "Missing fetch items";
            goto fail;
        }
        while (inner < args[0].count)
            if (parse_item(args[0].list, args[0].count, &inner, fetch, error) != 0)
                goto fail;
        index = 1;
    } else {
        if (parse_item(args, count, &index, fetch, error) != 0)
            goto fail;
    }
    if (index < count) {
        if (index + 1 != count ||
            parse_modifiers(&args[index], flags, fetch, error) != 0) {
            if (index + 1 != count)
                *error = "Unexpected arguments after fetch items";
            goto fail;
        }
    }
    if (fetch->has_changedsince) {
        int has_modseq = 0;
        for (size_t i = 0; i < fetch->count; i++)
            has_modseq |= fetch->items[i].type == IMAP_FETCH_MODSEQ;
        if (!has_modseq)
            add_item(fetch, IMAP_FETCH_MODSEQ);
    }
    return 0;
fail:
    imap_fetch_free(fetch);
    return -1;
}
