/* imap_arg.c: accessors on the token tree of an IMAP command (see
 * imap_arg.h). */
#include "imap/imap_arg.h"

#include <strings.h>
#include <string.h>

int imap_arg_atom_is(const struct imap_arg *arg, const char *word)
{
    size_t word_len = strlen(word);
    if (arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_NIL)
        return 0;
    return arg->len == word_len && strncasecmp(arg->str, word, word_len) == 0;
}

int imap_arg_astring(const struct imap_arg *arg, const char **str,
                     size_t *len)
{
    switch (arg->type) {
    case IMAP_ARG_ATOM:
    case IMAP_ARG_NIL:
    case IMAP_ARG_QUOTED:
    case IMAP_ARG_LITERAL:
        *str = arg->str;
        *len = arg->len;
        return 0;
    default:
        return -1;
    }
}

int imap_arg_string(const struct imap_arg *arg, const char **str,
                    size_t *len)
{
    if (arg->type != IMAP_ARG_QUOTED && arg->type != IMAP_ARG_LITERAL)
        return -1;
    *str = arg->str;
    *len = arg->len;
    return 0;
}

int imap_arg_nstring(const struct imap_arg *arg, const char **str,
                     size_t *len)
{
    if (arg->type == IMAP_ARG_NIL) {
        *str = NULL;
        *len = 0;
        return 0;
    }
    return imap_arg_string(arg, str, len);
}

int imap_parse_number(const char *text, size_t len, unsigned long long max,
                      unsigned long long *value)
{
    unsigned long long result = 0;
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned digit = (unsigned char)text[i] - '0';
        if (digit > 9)
            return -1;
        if (result > (max - digit) / 10)
            return -1;
        result = result * 10 + digit;
    }
    *value = result;
    return 0;
}

int imap_arg_number64(const struct imap_arg *arg, unsigned long long *value)
{
    if (arg->type != IMAP_ARG_ATOM)
        return -1;
    return imap_parse_number(arg->str, arg->len, 0x7fffffffffffffffULL,
                             value);
}

int imap_arg_number(const struct imap_arg *arg, unsigned long *value)
{
    unsigned long long wide;
    if (arg->type != IMAP_ARG_ATOM ||
        imap_parse_number(arg->str, arg->len, 0xffffffffULL, &wide) != 0)
        return -1;
    *value = (unsigned long)wide;
    return 0;
}

int imap_arg_nz_number(const struct imap_arg *arg, unsigned long *value)
{
    if (imap_arg_number(arg, value) != 0 || *value == 0)
        return -1;
    return 0;
}

static void describe_bytes(const char *str, size_t len, struct buf *out)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)str[i];
        if (c < 0x20 || c > 0x7e || c == '\\')
            buf_appendf(out, "\\x%02x", c);
        else
            buf_append_char(out, (char)c);
    }
}

void imap_args_describe(const struct imap_arg *args, size_t count,
                        struct buf *out)
{
    for (size_t i = 0; i < count; i++) {
        const struct imap_arg *arg = &args[i];
        if (i > 0)
            buf_append_char(out, ' ');
        switch (arg->type) {
        case IMAP_ARG_ATOM:
        case IMAP_ARG_NIL:
            describe_bytes(arg->str, arg->len, out);
            break;
        case IMAP_ARG_QUOTED:
            buf_append_char(out, '"');
            describe_bytes(arg->str, arg->len, out);
            buf_append_char(out, '"');
            break;
        case IMAP_ARG_LITERAL:
        case IMAP_ARG_LITERAL8:
            buf_appendf(out, "%s{%zu}",
                        arg->type == IMAP_ARG_LITERAL8 ? "~" : "", arg->len);
            describe_bytes(arg->str, arg->len, out);
            break;
        case IMAP_ARG_LIST:
            buf_append_char(out, '(');
            imap_args_describe(arg->list, arg->count, out);
            buf_append_char(out, ')');
            break;
        }
    }
}
