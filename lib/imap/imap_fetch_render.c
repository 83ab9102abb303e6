/* imap_fetch_render.c: a FETCH response for one message (see
 * imap_fetch_render.h). */
#include "imap/imap_fetch_render.h"

#include <string.h>
#include <strings.h>

#include "imap/imap_date.h"
#include "imap/imap_quote.h"
#include "message/imap_bodystructure.h"
#include "message/imap_envelope.h"
#include "message/imap_header_iter.h"
#include "message/mime_decode.h"

uint64_t imap_crlf_size(const char *data, size_t len)
{
    uint64_t size = len;
    const char *p = data, *end = data + len;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        if (p == data || p[-1] != '\r')
            size++;
        p++;
    }
    return size;
}

size_t imap_crlf_append(struct buf *out, const char *data, size_t len,
                        uint64_t skip, uint64_t count)
{
    size_t before = out->len, pos = 0;
    uint64_t vpos = 0; /* converted offset of data[pos] */

    while (pos < len && count > 0) {
        const char *lf = memchr(data + pos, '\n', len - pos);
        size_t run_end = lf ? (size_t)(lf - data) : len;
        int bare = lf && (run_end == 0 || data[run_end - 1] != '\r');
        /* the run data[pos..run_end) is copied as it is */
        uint64_t run_len = run_end - pos;
        if (vpos + run_len > skip) {
            uint64_t from = skip > vpos ? skip - vpos : 0;
            uint64_t take = run_len - from;
            if (take > count)
                take = count;
            buf_append(out, data + pos + from, (size_t)take);
            count -= take;
        }
        vpos += run_len;
        if (lf == NULL || count == 0)
            break;
        /* the line end: "\r\n" for a bare LF, "\n" otherwise */
        {
            const char *le = bare ? "\r\n" : "\n";
            uint64_t le_len = bare ? 2 : 1;
            for (uint64_t i = 0; i < le_len && count > 0; i++, vpos++)
                if (vpos >= skip) {
                    buf_append_char(out, le[i]);
                    count--;
                }
        }
        pos = run_end + 1;
    }
    return out->len - before;
}

int imap_fetch_render_sets_seen(const struct imap_fetch *fetch,
                                const struct imap_message *msg,
                                unsigned flags)
{
    return fetch->sets_seen && !(msg->flags & IMAP_FLAG_SEEN) &&
           !(flags & IMAP_RENDER_READ_ONLY);
}

const char *imap_render_error_text(enum imap_render_result result)
{
    switch (result) {
    case IMAP_RENDER_OK:
        return NULL;
    case IMAP_RENDER_UNREADABLE:
        return "Message is no longer available";
    case IMAP_RENDER_UNKNOWN_CTE:
        return "[UNKNOWN-CTE] Unknown Content-Transfer-Encoding";
    case IMAP_RENDER_PARSE:
        return "[PARSE] Invalid data in MIME part";
    }
    return "Internal error";
}

/* ---- the pieces of a message a section names ---- */

struct section {
    const char *data; /* raw bytes (LF or CRLF), or the scratch buffer */
    size_t len;
    const struct mime_part *part; /* the part whose body it is, or NULL */
};

/* Whether a header block ends with its empty line. */
static int has_empty_line(const char *header, size_t len)
{
    if (len > 0 && header[len - 1] == '\n') {
        len--;
        if (len > 0 && header[len - 1] == '\r')
            len--;
        return len == 0 || header[len - 1] == '\n';
    }
    return 0;
}

/* HEADER.FIELDS: the named fields, each ending in a line end, then the
 * empty line. HEADER.FIELDS.NOT: the other fields as they are, then the
 * empty line if the header has one. (Dovecot's two code paths differ so
 * for a header cut short; we answer as it does.) */
static void append_fields(struct buf *out, const char *header, size_t len,
                          const struct imap_fetch_item *item, int negate)
{
    struct imap_header_field field;
    size_t pos = 0;
    while (imap_header_next(header, len, &pos, &field)) {
        int named = 0;
        for (size_t i = 0; i < item->field_count && !named; i++)
            named = imap_header_name_is(&field, item->fields[i].name,
                                        item->fields[i].len);
        if (named == negate)
            continue;
        buf_append(out, header + field.start, field.end - field.start);
        if (!negate && header[field.end - 1] != '\n')
            buf_append(out, "\r\n", 2);
    }
    if (!negate || has_empty_line(header, len))
        buf_append(out, "\r\n", 2);
}

/* Finds the bytes of a BODY/BINARY section. -1 when the message cannot
 * be read; an absent section gives len 0. */
static int find_section(struct imap_message *msg,
                        const struct imap_fetch_item *item,
                        struct buf *scratch, struct section *sec)
{
    const struct mime_tree *tree = imap_message_tree(msg);
    const struct mime_part *part, *target;

    memset(sec, 0, sizeof(*sec));
    sec->data = "";
    if (tree == NULL)
        return -1;
    part = &tree->parts[0];
    if (item->part_count > 0)
        part = mime_tree_section(tree, item->parts, item->part_count);
    if (part == NULL)
        return 0;
    switch (item->spec) {
    case IMAP_SECTION_WHOLE:
        if (item->part_count == 0) {
            sec->data = tree->data;
            sec->len = tree->len;
        } else {
            sec->data = tree->data + mime_part_body_offset(part);
            sec->len = part->body_size;
            sec->part = part;
        }
        return 0;
    case IMAP_SECTION_MIME:
        sec->data = tree->data + part->offset;
        sec->len = part->header_size;
        return 0;
    default:
        break;
    }
    target = part;
    if (item->part_count > 0) {
        if (!(part->flags & MIME_PART_MESSAGE) ||
            part->first_child == MIME_NONE)
            return 0;
        target = &tree->parts[part->first_child];
    }
    switch (item->spec) {
    case IMAP_SECTION_HEADER:
        sec->data = tree->data + target->offset;
        sec->len = target->header_size;
        break;
    case IMAP_SECTION_TEXT:
        sec->data = tree->data + mime_part_body_offset(target);
        sec->len = target->body_size;
        break;
    case IMAP_SECTION_HEADER_FIELDS:
    case IMAP_SECTION_HEADER_FIELDS_NOT:
        buf_reset(scratch);
        append_fields(scratch, tree->data + target->offset,
                      target->header_size, item,
                      item->spec == IMAP_SECTION_HEADER_FIELDS_NOT);
        sec->data = scratch->data;
        sec->len = scratch->len;
        break;
    default:
        break;
    }
    return 0;
}

/* Appends " {n}\r\n" and the converted bytes of sec within the item's
 * partial range. */
static void append_section_literal(struct buf *out, const struct section *sec,
                                   const struct imap_fetch_item *item)
{
    uint64_t size = imap_crlf_size(sec->data, sec->len);
    uint64_t start = item->has_partial ? item->partial_start : 0;
    uint64_t count = size > start ? size - start : 0;
    if (item->has_partial && count > item->partial_count)
        count = item->partial_count;
    buf_appendf(out, " {%llu}\r\n", (unsigned long long)count);
    imap_crlf_append(out, sec->data, sec->len, start, count);
}

/* Appends the leaf part's body decoded; 0, or the error. */
static enum imap_render_result decode_leaf(const struct mime_tree *tree,
                                           const struct mime_part *part,
                                           struct buf *decoded, int *literal8)
{
    const char *body = tree->data + mime_part_body_offset(part);
    enum mime_cte cte = mime_part_cte(tree, part);
    switch (cte) {
    case MIME_CTE_IDENTITY:
        imap_crlf_append(decoded, body, part->body_size, 0, UINT64_MAX);
        return IMAP_RENDER_OK;
    case MIME_CTE_UNKNOWN:
        return IMAP_RENDER_UNKNOWN_CTE;
    default:
        break;
    }
    *literal8 = 1;
    if (mime_decode_body(cte, body, part->body_size, decoded) < 0)
        return IMAP_RENDER_PARSE;
    return IMAP_RENDER_OK;
}

/* BINARY of a message or of a multipart or message/rfc822 part, as
 * Dovecot answers it: the bytes of data[from..to) with every base64 or
 * quoted-printable leaf inside decoded and its Content-Transfer-Encoding
 * rewritten to "binary". */
static enum imap_render_result decode_tree(const struct mime_tree *tree,
                                           uint32_t root, size_t from,
                                           size_t to, struct buf *decoded,
                                           int *literal8)
{
    size_t pos = from;
    uint16_t depth = tree->parts[root].depth;
    for (uint32_t k = root; k < tree->count; k++) {
        const struct mime_part *part = &tree->parts[k];
        enum mime_cte cte;
        size_t value_start, value_end, body;
        enum imap_render_result res;
        if (k != root && part->depth <= depth)
            break;
        if ((part->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE)) ||
            part->offset < from || !(part->fields & (1u << MIME_FIELD_ENCODING)))
            continue;
        cte = mime_part_cte(tree, part);
        if (cte == MIME_CTE_IDENTITY)
            continue;
        if (cte == MIME_CTE_UNKNOWN)
            return IMAP_RENDER_UNKNOWN_CTE;
        value_start = part->offset + part->field[MIME_FIELD_ENCODING].offset;
        value_end = value_start + part->field[MIME_FIELD_ENCODING].length;
        body = mime_part_body_offset(part);
        imap_crlf_append(decoded, tree->data + pos, value_start - pos, 0,
                         UINT64_MAX);
        buf_append_str(decoded, "binary");
        imap_crlf_append(decoded, tree->data + value_end, body - value_end, 0,
                         UINT64_MAX);
        if ((res = decode_leaf(tree, part, decoded, literal8)) !=
            IMAP_RENDER_OK)
            return res;
        pos = body + part->body_size;
    }
    if (to > pos)
        imap_crlf_append(decoded, tree->data + pos, to - pos, 0, UINT64_MAX);
    return IMAP_RENDER_OK;
}

/* The BINARY content of a section into `decoded`: *literal8 says whether
 * anything was decoded (Dovecot then sends a literal8). */
static enum imap_render_result binary_content(struct imap_message *msg,
                                              const struct imap_fetch_item *item,
                                              struct buf *scratch,
                                              struct buf *decoded,
                                              int *literal8)
{
    struct section sec;
    const struct mime_tree *tree;

    *literal8 = 0;
    buf_reset(decoded);
    if (find_section(msg, item, scratch, &sec) < 0)
        return IMAP_RENDER_UNREADABLE;
    tree = imap_message_tree(msg);
    if (item->part_count == 0)
        return decode_tree(tree, 0, 0, tree->len, decoded, literal8);
    if (sec.part == NULL)
        return IMAP_RENDER_OK; /* no such part: empty */
    if (sec.part->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE)) {
        size_t body = mime_part_body_offset(sec.part);
        return decode_tree(tree, (uint32_t)(sec.part - tree->parts), body,
                           body + sec.part->body_size, decoded, literal8);
    }
    return decode_leaf(tree, sec.part, decoded, literal8);
}

/* ---- the items ---- */

struct render {
    struct buf *out;
    struct imap_message *msg;
    unsigned flags;
    int items;           /* items written so far */
    unsigned done;       /* simple item types written (bit per type) */
    struct buf scratch;  /* HEADER.FIELDS results */
    struct buf decoded;  /* BINARY results */
};

static void item_start(struct render *r, const char *name)
{
    if (r->items++ > 0)
        buf_append_char(r->out, ' ');
    buf_append_str(r->out, name);
}

static void write_flags(struct render *r)
{
    const struct imap_message *msg = r->msg;
    static const unsigned order[] = {IMAP_FLAG_ANSWERED, IMAP_FLAG_FLAGGED,
                                     IMAP_FLAG_DELETED,  IMAP_FLAG_SEEN,
                                     IMAP_FLAG_DRAFT,    IMAP_FLAG_RECENT};
    int first = 1;
    item_start(r, "FLAGS (");
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (msg->flags & order[i]) {
            if (!first)
                buf_append_char(r->out, ' ');
            buf_append_str(r->out, imap_flag_name(order[i]));
            first = 0;
        }
    for (size_t i = 0; i < msg->keyword_count; i++) {
        if (!first)
            buf_append_char(r->out, ' ');
        buf_append_str(r->out, msg->keywords[i]);
        first = 0;
    }
    buf_append_char(r->out, ')');
}

/* The section text in upper case, as Dovecot echoes it. */
static void write_section_name(struct render *r, const char *prefix,
                               const struct imap_fetch_item *item)
{
    item_start(r, prefix);
    buf_append_char(r->out, '[');
    for (const char *s = item->section ? item->section : ""; *s; s++)
        buf_append_char(r->out, (*s >= 'a' && *s <= 'z') ? (char)(*s - 32)
                                                          : *s);
    buf_append_char(r->out, ']');
    if (item->has_partial)
        buf_appendf(r->out, "<%llu>",
                    (unsigned long long)item->partial_start);
}

static enum imap_render_result write_structure(struct render *r,
                                               const char *name,
                                               const char *cached,
                                               size_t cached_len,
                                               int extended)
{
    const struct mime_tree *tree;
    if (cached == NULL && (tree = imap_message_tree(r->msg)) == NULL)
        return IMAP_RENDER_UNREADABLE;
    item_start(r, name);
    buf_append_str(r->out, " (");
    if (cached != NULL)
        buf_append(r->out, cached, cached_len);
    else
        imap_bodystructure_write(r->out, tree, 0, extended);
    buf_append_char(r->out, ')');
    return IMAP_RENDER_OK;
}

static enum imap_render_result write_envelope(struct render *r)
{
    const char *data;
    size_t len;
    item_start(r, "ENVELOPE (");
    if (r->msg->envelope != NULL) {
        buf_append(r->out, r->msg->envelope, r->msg->envelope_len);
    } else {
        if (imap_message_data(r->msg, &data, &len) < 0)
            return IMAP_RENDER_UNREADABLE;
        imap_envelope_write(r->out, data, imap_header_length(data, len));
    }
    buf_append_char(r->out, ')');
    return IMAP_RENDER_OK;
}

/* RFC822, RFC822.HEADER, RFC822.TEXT: the message, its header, its body. */
static enum imap_render_result write_rfc822(struct render *r, const char *name,
                                            enum imap_section_spec spec)
{
    struct imap_fetch_item item;
    struct section sec;
    memset(&item, 0, sizeof(item));
    item.spec = spec;
    if (find_section(r->msg, &item, &r->scratch, &sec) < 0)
        return IMAP_RENDER_UNREADABLE;
    item_start(r, name);
    append_section_literal(r->out, &sec, &item);
    return IMAP_RENDER_OK;
}

static enum imap_render_result write_binary(struct render *r,
                                            const struct imap_fetch_item *item)
{
    int literal8;
    enum imap_render_result res =
        binary_content(r->msg, item, &r->scratch, &r->decoded, &literal8);
    if (res != IMAP_RENDER_OK)
        return res;
    if (item->type == IMAP_FETCH_BINARY_SIZE) {
        write_section_name(r, "BINARY.SIZE", item);
        buf_appendf(r->out, " %zu", r->decoded.len);
    } else {
        uint64_t start = item->has_partial ? item->partial_start : 0;
        uint64_t count = r->decoded.len > start ? r->decoded.len - start : 0;
        if (item->has_partial && count > item->partial_count)
            count = item->partial_count;
        write_section_name(r, "BINARY", item);
        buf_appendf(r->out, " %s{%llu}\r\n", literal8 ? "~" : "",
                    (unsigned long long)count);
        buf_append(r->out, r->decoded.data + start, (size_t)count);
    }
    return IMAP_RENDER_OK;
}

/* Items imapd answers from the index; Dovecot sends them first. */
static int is_index_item(enum imap_fetch_type type)
{
    return type == IMAP_FETCH_UID || type == IMAP_FETCH_FLAGS ||
           type == IMAP_FETCH_INTERNALDATE || type == IMAP_FETCH_RFC822_SIZE ||
           type == IMAP_FETCH_MODSEQ;
}

static enum imap_render_result write_item(struct render *r,
                                          const struct imap_fetch_item *item)
{
    struct imap_message *msg = r->msg;
    struct section sec;
    uint64_t size;
    unsigned bit = 1u << item->type;

    if (item->type != IMAP_FETCH_BODY_SECTION &&
        item->type != IMAP_FETCH_BINARY &&
        item->type != IMAP_FETCH_BINARY_SIZE) {
        if (r->done & bit)
            return IMAP_RENDER_OK; /* asked twice */
        r->done |= bit;
    }
    switch (item->type) {
    case IMAP_FETCH_UID:
        item_start(r, "UID");
        buf_appendf(r->out, " %u", msg->uid);
        break;
    case IMAP_FETCH_FLAGS:
        write_flags(r);
        break;
    case IMAP_FETCH_INTERNALDATE:
        item_start(r, "INTERNALDATE ");
        imap_date_time_format(msg->internal_date, msg->internal_zone, r->out);
        break;
    case IMAP_FETCH_RFC822_SIZE:
        if (imap_message_size(msg, &size) < 0)
            return IMAP_RENDER_UNREADABLE;
        item_start(r, "RFC822.SIZE");
        buf_appendf(r->out, " %llu", (unsigned long long)size);
        break;
    case IMAP_FETCH_MODSEQ:
        item_start(r, "MODSEQ");
        buf_appendf(r->out, " (%llu)", (unsigned long long)msg->modseq);
        break;
    case IMAP_FETCH_ENVELOPE:
        return write_envelope(r);
    case IMAP_FETCH_BODY:
        return write_structure(r, "BODY", msg->body, msg->body_len, 0);
    case IMAP_FETCH_BODYSTRUCTURE:
        return write_structure(r, "BODYSTRUCTURE", msg->bodystructure,
                               msg->bodystructure_len, 1);
    case IMAP_FETCH_RFC822:
        return write_rfc822(r, "RFC822", IMAP_SECTION_WHOLE);
    case IMAP_FETCH_RFC822_HEADER:
        return write_rfc822(r, "RFC822.HEADER", IMAP_SECTION_HEADER);
    case IMAP_FETCH_RFC822_TEXT:
        return write_rfc822(r, "RFC822.TEXT", IMAP_SECTION_TEXT);
    case IMAP_FETCH_BODY_SECTION:
        if (find_section(msg, item, &r->scratch, &sec) < 0)
            return IMAP_RENDER_UNREADABLE;
        write_section_name(r, "BODY", item);
        append_section_literal(r->out, &sec, item);
        break;
    case IMAP_FETCH_BINARY:
    case IMAP_FETCH_BINARY_SIZE:
        return write_binary(r, item);
    }
    return IMAP_RENDER_OK;
}

enum imap_render_result imap_fetch_render(struct buf *out,
                                          struct imap_message *msg,
                                          const struct imap_fetch *fetch,
                                          unsigned flags)
{
    struct render r;
    enum imap_render_result res = IMAP_RENDER_OK;
    size_t before = out->len;

    memset(&r, 0, sizeof(r));
    r.out = out;
    r.msg = msg;
    r.flags = flags;
    buf_init(&r.scratch);
    buf_init(&r.decoded);
    buf_appendf(out, "* %u FETCH (", msg->seq);
    if (flags & IMAP_RENDER_UID) {
        struct imap_fetch_item uid = {.type = IMAP_FETCH_UID};
        write_item(&r, &uid);
    }
    if (flags & IMAP_RENDER_SEND_FLAGS) {
        struct imap_fetch_item fl = {.type = IMAP_FETCH_FLAGS};
        write_item(&r, &fl);
    }
    for (int pass = 0; pass < 2 && res == IMAP_RENDER_OK; pass++)
        for (size_t i = 0; i < fetch->count && res == IMAP_RENDER_OK; i++)
            if (is_index_item(fetch->items[i].type) == (pass == 0))
                res = write_item(&r, &fetch->items[i]);
    buf_free(&r.scratch);
    buf_free(&r.decoded);
    if (res != IMAP_RENDER_OK) {
        buf_truncate(out, before);
        return res;
    }
    buf_append_str(out, ")\r\n");
    return IMAP_RENDER_OK;
}
