/* imap_bodystructure.c: BODY / BODYSTRUCTURE writer (see
 * imap_bodystructure.h). */
#include "message/imap_bodystructure.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "message/imap_envelope.h"
#include "message/imap_quote.h"
#include "message/mime_params.h"
#include "message/rfc822_lex.h"

#define EMPTY_TEXT "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0"

/* A field's text without the white space at its end. */
static const char *field_text(const struct mime_tree *tree,
                              const struct mime_part *part,
                              enum mime_field field, size_t *len)
{
    const char *text = mime_part_field(tree, part, field, len);
    if (text == NULL)
        return NULL;
    while (*len > 0 && (text[*len - 1] == ' ' || text[*len - 1] == '\t' ||
                        text[*len - 1] == '\r' || text[*len - 1] == '\n'))
        (*len)--;
    return text;
}

static void write_field_nstring(struct buf *out, const struct mime_tree *tree,
                                const struct mime_part *part,
                                enum mime_field field)
{
    size_t len;
    const char *text = field_text(tree, part, field, &len);
    imap_quote_nstring_nolf_len(out, text, len);
}

static void write_params(struct buf *out, const struct mime_params *params,
                         int default_charset)
{
    int seen_charset = 0;
    if (params->count == 0 && !default_charset) {
        buf_append_str(out, "NIL");
        return;
    }
    buf_append_char(out, '(');
    for (size_t i = 0; i < params->count; i++) {
        if (i > 0)
            buf_append_char(out, ' ');
        if (strcasecmp(params->items[i].name, "charset") == 0)
            seen_charset = 1;
        imap_quote_nstring(out, params->items[i].name);
        buf_append_char(out, ' ');
        imap_quote_nstring(out, params->items[i].value);
    }
    if (default_charset && !seen_charset) {
        if (params->count > 0)
            buf_append_char(out, ' ');
        buf_append_str(out, "\"charset\" \"us-ascii\"");
    }
    buf_append_char(out, ')');
}

/* Disposition, language, location: the extension data all parts share. */
static void write_common(struct buf *out, const struct mime_tree *tree,
                         const struct mime_part *part)
{
    struct rfc822_lex lx;
    struct buf token = BUF_INIT;
    size_t len;
    const char *text;

    buf_append_char(out, ' ');
    text = mime_part_field(tree, part, MIME_FIELD_DISPOSITION, &len);
    if (text != NULL) {
        rfc822_lex_init(&lx, text, len);
        rfc822_lex_skip(&lx);
        if (rfc822_lex_token(&lx, &token) >= 0) {
            struct mime_params params;
            mime_params_init(&params);
            mime_params_parse(&lx, &params);
            buf_append_char(out, '(');
            imap_quote_string(out, token.data, token.len);
            buf_append_char(out, ' ');
            write_params(out, &params, 0);
            buf_append_char(out, ')');
            mime_params_free(&params);
        } else {
            text = NULL;
        }
    }
    if (text == NULL)
        buf_append_str(out, "NIL");

    buf_append_char(out, ' ');
    text = mime_part_field(tree, part, MIME_FIELD_LANGUAGE, &len);
    if (text != NULL) {
        size_t count = 0;
        rfc822_lex_init(&lx, text, len);
        rfc822_lex_skip(&lx);
        for (;;) {
            int ret;
            buf_reset(&token);
            if ((ret = rfc822_lex_atom(&lx, &token)) < 0)
                break;
            buf_append_str(out, count++ == 0 ? "(" : " ");
            imap_quote_string(out, token.data, token.len);
            if (ret == 0 || *lx.p != ',')
                break;
            lx.p++;
            rfc822_lex_skip(&lx);
        }
        buf_append_str(out, count > 0 ? ")" : "NIL");
    } else {
        buf_append_str(out, "NIL");
    }

    buf_append_char(out, ' ');
    write_field_nstring(out, tree, part, MIME_FIELD_LOCATION);
    buf_free(&token);
}

static void write_part(struct buf *out, const struct mime_tree *tree,
                       uint32_t idx, int extended);

static void write_children(struct buf *out, const struct mime_tree *tree,
                           uint32_t first, int extended)
{
    for (uint32_t c = first; c != MIME_NONE; c = tree->parts[c].next_sibling) {
        buf_append_char(out, '(');
        write_part(out, tree, c, extended);
        buf_append_char(out, ')');
    }
}

static void write_multipart(struct buf *out, const struct mime_tree *tree,
                            const struct mime_part *part,
                            struct buf *subtype, struct mime_params *params,
                            int extended)
{
    if (part->first_child != MIME_NONE) {
        write_children(out, tree, part->first_child, extended);
    } else {
        buf_append_str(out, "(" EMPTY_TEXT);
        if (extended)
            buf_append_str(out, " NIL NIL NIL NIL");
        buf_append_char(out, ')');
    }
    buf_append_char(out, ' ');
    imap_quote_string(out, subtype->data, subtype->len);
    if (!extended)
        return;
    buf_append_char(out, ' ');
    write_params(out, params, 0);
    write_common(out, tree, part);
}

static void write_part(struct buf *out, const struct mime_tree *tree,
                       uint32_t idx, int extended)
{
    const struct mime_part *part = &tree->parts[idx];
    struct buf type = BUF_INIT, subtype = BUF_INIT, enc = BUF_INIT;
    struct mime_params params;
    struct rfc822_lex lx;
    size_t len;
    const char *text = mime_part_field(tree, part, MIME_FIELD_TYPE, &len);
    int is_text;

    mime_params_init(&params);
    if (text != NULL) {
        /* a broken value is shown as Dovecot shows it: "" "" */
        rfc822_lex_init(&lx, text, len);
        if (rfc822_lex_content_type(&lx, &type, &subtype) >= 0)
            mime_params_parse(&lx, &params);
    } else {
        buf_set_str(&type, part->flags & MIME_PART_IN_DIGEST ? "message"
                                                              : "text");
        buf_set_str(&subtype, part->flags & MIME_PART_IN_DIGEST ? "rfc822"
                                                                 : "plain");
    }
    if (part->flags & MIME_PART_MULTIPART) {
        write_multipart(out, tree, part, &subtype, &params, extended);
        goto done;
    }
    if (part->flags & MIME_PART_MESSAGE) {
        /* written in lower case, as Dovecot does */
        buf_set_str(&type, "message");
        for (size_t i = 0; i < subtype.len; i++)
            if (subtype.data[i] >= 'A' && subtype.data[i] <= 'Z')
                subtype.data[i] = (char)(subtype.data[i] + 32);
        if (subtype.len == 0)
            buf_set_str(&subtype, "rfc822");
    }
    is_text = strcasecmp(type.data, "text") == 0;
    imap_quote_string(out, type.data, type.len);
    buf_append_char(out, ' ');
    imap_quote_string(out, subtype.data, subtype.len);
    buf_append_char(out, ' ');
    write_params(out, &params, is_text);
    buf_append_char(out, ' ');
    write_field_nstring(out, tree, part, MIME_FIELD_ID);
    buf_append_char(out, ' ');
    write_field_nstring(out, tree, part, MIME_FIELD_DESCRIPTION);
    buf_append_char(out, ' ');
    text = mime_part_field(tree, part, MIME_FIELD_ENCODING, &len);
    if (text != NULL) {
        rfc822_lex_init(&lx, text, len);
        if (rfc822_lex_skip(&lx) <= 0 || rfc822_lex_token(&lx, &enc) != 0)
            buf_reset(&enc);
    }
    if (enc.len > 0 && strcasecmp(enc.data, "7bit") != 0)
        imap_quote_string(out, enc.data, enc.len);
    else
        buf_append_str(out, "\"7bit\"");
    buf_appendf(out, " %zu", part->body_vsize);
    if (is_text) {
        buf_appendf(out, " %zu", part->body_lines);
    } else if ((part->flags & MIME_PART_MESSAGE) &&
               part->first_child != MIME_NONE) {
        const struct mime_part *child = &tree->parts[part->first_child];
        buf_append_str(out, " (");
        imap_envelope_write(out, tree->data + child->offset,
                            child->header_size);
        buf_append_str(out, ") ");
        write_children(out, tree, part->first_child, extended);
        buf_appendf(out, " %zu", part->body_lines);
    }
    if (extended) {
        buf_append_char(out, ' ');
        write_field_nstring(out, tree, part, MIME_FIELD_MD5);
        write_common(out, tree, part);
    }
done:
    mime_params_free(&params);
    buf_free(&type);
    buf_free(&subtype);
    buf_free(&enc);
}

void imap_bodystructure_write(struct buf *out, const struct mime_tree *tree,
                              uint32_t part, int extended)
{
    if (part < tree->count)
        write_part(out, tree, part, extended);
}
