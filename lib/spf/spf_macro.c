/* spf_macro.c: SPF macro strings (RFC 7208 section 7); see spf_macro.h.
 *
 * One scanner (next_item) reads the string item by item, so checking,
 * looking for a letter and expanding agree on the syntax. */
#include "spf/spf_macro.h"

#include <ctype.h>
#include <string.h>

/* One item of a macro string: a literal byte, an escape (%% %_ %-) or a
 * macro %{letter digits r delimiters}. */
struct macro_item {
    int is_macro;
    char literal;     /* !is_macro: the byte it stands for */
    char letter;      /* lower case */
    int escape;       /* upper-case letter: URL-escape the value */
    long parts;       /* 0: all */
    int reverse;
    char delims[8];   /* NUL-terminated; "" means "." */
};

static int letter_allowed(char letter, enum spf_macro_context where)
{
    if (strchr("slodiphv", letter))
        return 1;
    return where == SPF_MACRO_EXPLANATION && strchr("crt", letter);
}

/* Reads the item at text[*pos]. Returns 0 and advances *pos, or -1 with
 * the reason in err. */
static int next_item(const char *text, size_t len, size_t *pos,
                     enum spf_macro_context where, struct macro_item *item,
                     struct buf *err)
{
    memset(item, 0, sizeof(*item));
    unsigned char c = (unsigned char)text[*pos];
    if (c != '%') {
        int visible = c >= 0x21 && c <= 0x7e;
        if (!visible && !(c == ' ' && where == SPF_MACRO_EXPLANATION)) {
            buf_appendf(err, "invalid character 0x%02x", c);
            return -1;
        }
        item->literal = (char)c;
        (*pos)++;
        return 0;
    }
    if (*pos + 1 >= len) {
        buf_append_str(err, "'%' at the end of a macro string");
        return -1;
    }
    char next = text[*pos + 1];
    if (next == '%' || next == '_' || next == '-') {
        item->literal = next == '%' ? '%' : next == '_' ? ' ' : 0;
        if (next == '-') /* "%20", spelled out by the caller */
            item->literal = '-', item->letter = '-';
        *pos += 2;
        return 0;
    }
    if (next != '{') {
        buf_appendf(err, "invalid macro escape '%%%c'", next);
        return -1;
    }
    size_t i = *pos + 2;
    if (i >= len || !isalpha((unsigned char)text[i])) {
        buf_append_str(err, "macro without a letter");
        return -1;
    }
    item->is_macro = 1;
    item->letter = (char)tolower((unsigned char)text[i]);
    item->escape = isupper((unsigned char)text[i]) != 0;
    if (!letter_allowed(item->letter, where)) {
        buf_appendf(err, "invalid macro letter '%c'", text[i]);
        return -1;
    }
    i++;
    int digits = 0;
    while (i < len && isdigit((unsigned char)text[i])) {
        if (item->parts <= SPF_MACRO_PARTS_MAX)
            item->parts = item->parts * 10 + (text[i] - '0');
        digits++;
        i++;
    }
    if (digits && item->parts == 0) {
        buf_append_str(err, "macro part count of zero");
        return -1;
    }
    if (item->parts > SPF_MACRO_PARTS_MAX)
        item->parts = 0;
    if (i < len && (text[i] == 'r' || text[i] == 'R')) {
        item->reverse = 1;
        i++;
    }
    size_t ndelims = 0;
    while (i < len && strchr(".-+,/_=", text[i]) && text[i] != '\0') {
        if (ndelims + 1 < sizeof(item->delims) && !strchr(item->delims, text[i]))
            item->delims[ndelims++] = text[i];
        i++;
    }
    if (i >= len || text[i] != '}') {
        buf_append_str(err, "unterminated or malformed macro");
        return -1;
    }
    *pos = i + 1;
    return 0;
}

int spf_macro_check(const char *text, size_t len, enum spf_macro_context where,
                    struct buf *err)
{
    struct macro_item item;
    for (size_t pos = 0; pos < len;)
        if (next_item(text, len, &pos, where, &item, err) < 0)
            return -1;
    return 0;
}

int spf_macro_uses(const char *text, size_t len, char letter)
{
    struct macro_item item;
    struct buf err = BUF_INIT;
    int found = 0;
    for (size_t pos = 0; pos < len && !found;) {
        if (next_item(text, len, &pos, SPF_MACRO_EXPLANATION, &item, &err) < 0)
            break;
        found = item.is_macro && item.letter == letter;
    }
    buf_free(&err);
    return found;
}

static void letter_value(char letter, const struct spf_macro_vars *vars,
                         struct buf *value)
{
    const char *text = NULL;
    switch (letter) {
    case 's': text = vars->sender; break;
    case 'l': text = vars->local_part; break;
    case 'o': text = vars->sender_domain; break;
    case 'd': text = vars->domain; break;
    case 'h': text = vars->helo; break;
    case 'p': text = vars->ptr_name ? vars->ptr_name : "unknown"; break;
    case 'r': text = vars->receiver ? vars->receiver : "unknown"; break;
    case 'v': text = vars->ip->family == 4 ? "in-addr" : "ip6"; break;
    case 'i': spf_ip_format_dotted(vars->ip, value); return;
    case 'c': spf_ip_format(vars->ip, value); return;
    case 't': buf_appendf(value, "%lld", vars->now); return;
    }
    buf_append_str(value, text ? text : "");
}

/* Splits value on the delimiters, keeps the right-most parts (after
 * reversal) and joins them with dots. */
static void transform(const struct macro_item *item, const char *value,
                      struct buf *out)
{
    const char *delims = item->delims[0] ? item->delims : ".";
    const char *starts[SPF_MACRO_OUT_MAX / 2 + 1];
    size_t lens[SPF_MACRO_OUT_MAX / 2 + 1];
    size_t count = 0;
    const char *p = value;
    for (;;) {
        size_t n = strcspn(p, delims);
        if (count == sizeof(lens) / sizeof(lens[0]))
            break;
        starts[count] = p;
        lens[count++] = n;
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    if (item->reverse)
        for (size_t i = 0; i < count / 2; i++) {
            const char *s = starts[i];
            size_t l = lens[i];
            starts[i] = starts[count - 1 - i], lens[i] = lens[count - 1 - i];
            starts[count - 1 - i] = s, lens[count - 1 - i] = l;
        }
    size_t first = 0;
    if (item->parts > 0 && (size_t)item->parts < count)
        first = count - (size_t)item->parts;
    for (size_t i = first; i < count; i++) {
        if (i > first)
            buf_append_char(out, '.');
        buf_append(out, starts[i], lens[i]);
    }
}

static void url_escape(const char *text, struct buf *out)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (isalnum(*p) || strchr("-._~", *p))
            buf_append_char(out, (char)*p);
        else
            buf_appendf(out, "%%%02X", *p);
    }
}

int spf_macro_expand(const char *text, size_t len, enum spf_macro_context where,
                     const struct spf_macro_vars *vars, struct buf *out,
                     struct buf *err)
{
    struct buf value = BUF_INIT, transformed = BUF_INIT;
    size_t start = out->len;
    int rc = 0;
    for (size_t pos = 0; pos < len;) {
        struct macro_item item;
        if (next_item(text, len, &pos, where, &item, err) < 0) {
            rc = -1;
            break;
        }
        if (!item.is_macro) {
            if (item.letter == '-')
                buf_append_str(out, "%20");
            else
                buf_append_char(out, item.literal);
        } else {
            buf_reset(&value);
            buf_reset(&transformed);
            letter_value(item.letter, vars, &value);
            if (value.len > SPF_MACRO_OUT_MAX)
                buf_truncate(&value, SPF_MACRO_OUT_MAX);
            transform(&item, buf_cstr(&value), &transformed);
            if (item.escape)
                url_escape(buf_cstr(&transformed), out);
            else
                buf_append(out, transformed.data, transformed.len);
        }
        if (out->len - start > SPF_MACRO_OUT_MAX) {
            buf_truncate(out, start + SPF_MACRO_OUT_MAX);
            break;
        }
    }
    buf_free(&value);
    buf_free(&transformed);
    return rc;
}
