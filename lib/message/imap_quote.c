/* imap_quote.c: IMAP quoted strings and literals (see imap_quote.h). */
#include "message/imap_quote.h"

#include <string.h>

void imap_quote_string(struct buf *out, const char *text, size_t len)
{
    size_t specials = 0;
    int literal = 0;
    for (size_t i = 0; i < len && !literal; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x80 || c == '\r' || c == '\n' || c == 0)
            literal = 1;
        else if ((c == '"' || c == '\\') && ++specials > 4)
            literal = 1;
    }
    if (literal) {
        buf_appendf(out, "{%zu}\r\n", len);
        for (size_t i = 0; i < len; i++)
            buf_append_char(out, text[i] ? text[i] : (char)0x80);
        return;
    }
    buf_append_char(out, '"');
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '"' || text[i] == '\\')
            buf_append_char(out, '\\');
        buf_append_char(out, text[i]);
    }
    buf_append_char(out, '"');
}

void imap_quote_nstring(struct buf *out, const char *text)
{
    if (text == NULL)
        buf_append_str(out, "NIL");
    else
        imap_quote_string(out, text, strlen(text));
}

void imap_quote_nstring_nolf_len(struct buf *out, const char *text,
                                 size_t len)
{
    struct buf tmp = BUF_INIT;
    if (text == NULL) {
        buf_append_str(out, "NIL");
        return;
    }
    if (memchr(text, '\r', len) == NULL && memchr(text, '\n', len) == NULL) {
        imap_quote_string(out, text, len);
        return;
    }
    for (size_t i = 0; i < len; i++)
        if (text[i] != '\r' && text[i] != '\n')
            buf_append_char(&tmp, text[i]);
    imap_quote_string(out, tmp.data ? tmp.data : "", tmp.len);
    buf_free(&tmp);
}

void imap_quote_nstring_nolf(struct buf *out, const char *text)
{
    imap_quote_nstring_nolf_len(out, text, text ? strlen(text) : 0);
}

void imap_quote_string_for_humans(struct buf *out, const char *text,
                                  size_t len)
{
    struct buf tmp = BUF_INIT;
    int lwsp = 1, plain = 1;
    if (text == NULL) {
        buf_append_str(out, "NIL");
        return;
    }
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == ' ' || c == '\t') {
            if (!lwsp)
                buf_append_char(&tmp, ' ');
            lwsp = 1;
            if (c == '\t' || i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t')
                plain = 0;
        } else if (c == '\r' || c == '\n') {
            plain = 0;
        } else {
            if (c == 0 || c == '"' || c == '\\' || (unsigned char)c >= 0x80)
                plain = 0;
            buf_append_char(&tmp, c ? c : (char)0x80);
            lwsp = 0;
        }
    }
    if (tmp.len > 0 && tmp.data[tmp.len - 1] == ' ') {
        buf_truncate(&tmp, tmp.len - 1);
        plain = 0;
    }
    if (plain) {
        buf_append_char(out, '"');
        buf_append(out, text, len);
        buf_append_char(out, '"');
    } else if (tmp.len == 0) {
        buf_append_str(out, "\"\"");
    } else {
        buf_appendf(out, "{%zu}\r\n", tmp.len);
        buf_append(out, tmp.data, tmp.len);
    }
    buf_free(&tmp);
}
