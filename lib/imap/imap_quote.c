/* imap_quote.c: strings in IMAP responses (see imap_quote.h). */
#include "imap/imap_quote.h"

#include <string.h>
#include <strings.h>

#include "base/utf8.h"

static int is_atom_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("(){%*\"\\]", c);
}

int imap_is_atom(const char *text, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_atom_char((unsigned char)text[i]))
            return 0;
    return 1;
}

/* Whether text can be a quoted string under flags. */
static int can_quote(const char *text, size_t len, unsigned flags)
{
    int eight_bit = 0;
    if (len > IMAP_QUOTE_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\0' || c == '\r' || c == '\n')
            return 0;
        if (c >= 0x80)
            eight_bit = 1;
    }
    if (eight_bit)
        return (flags & IMAP_QUOTE_UTF8) && utf8_valid(text, len);
    return 1;
}

void imap_write_literal(struct buf *out, const char *text, size_t len,
                        unsigned flags)
{
    int binary = (flags & IMAP_QUOTE_LITERAL8) && len > 0 &&
                 memchr(text, '\0', len) != NULL;
    buf_appendf(out, "%s{%zu}\r\n", binary ? "~" : "", len);
    buf_append(out, text, len);
}

void imap_write_string(struct buf *out, const char *text, size_t len,
                       unsigned flags)
{
    if (!can_quote(text, len, flags)) {
        imap_write_literal(out, text, len, flags);
        return;
    }
    buf_reserve(out, len + 2);
    buf_append_char(out, '"');
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '"' || text[i] == '\\')
            buf_append_char(out, '\\');
        buf_append_char(out, text[i]);
    }
    buf_append_char(out, '"');
}

void imap_write_nstring(struct buf *out, const char *text, size_t len,
                        unsigned flags)
{
    if (text == NULL)
        buf_append_str(out, "NIL");
    else
        imap_write_string(out, text, len, flags);
}

void imap_write_astring(struct buf *out, const char *text, size_t len,
                        unsigned flags)
{
    int atom = len > 0 && !(len == 3 && strncasecmp(text, "NIL", 3) == 0);
    for (size_t i = 0; atom && i < len; i++)
        atom = is_atom_char((unsigned char)text[i]) || text[i] == ']';
    if (atom)
        buf_append(out, text, len);
    else
        imap_write_string(out, text, len, flags);
}
