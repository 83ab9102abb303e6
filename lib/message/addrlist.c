/* addrlist.c: RFC 5322 address-list parser (see addrlist.h).
 *
 * Two passes: a tokenizer turns the header value into words (atoms,
 * quoted strings, domain literals) and specials, dropping whitespace,
 * folding and comments; a recursive-descent parser then reads the list
 * from the tokens. Token text lives in one buffer; tokens hold offsets,
 * so no token can point outside it. */
#include "message/addrlist.h"

#include <stdlib.h>
#include <string.h>

#include "message/address.h"
#include "base/utf8.h"
#include "base/mem.h"

enum tok_type { TOK_ATOM, TOK_QSTRING, TOK_DLITERAL, TOK_SPECIAL };

struct token {
    enum tok_type type;
    char special;              /* for TOK_SPECIAL */
    size_t start, len;         /* text in the token buffer (words only) */
    size_t src_start, src_end; /* where the token stands in the input */
};

struct parser {
    struct token *toks;
    size_t count, cap;
    size_t pos;
    struct buf text; /* token text, unescaped */
    unsigned flags;
    struct buf *why;
    struct addrlist *out;
    size_t added;
};

static void fail(struct parser *ps, const char *reason)
{
    if (ps->why && ps->why->len == 0)
        buf_set_str(ps->why, reason);
}

static int add_token(struct parser *ps, enum tok_type type, char special,
                     size_t start, size_t src_start, size_t src_end)
{
    if (ps->count == ADDRLIST_TOKENS_MAX) {
        fail(ps, "address list too long");
        return -1;
    }
    if (ps->count == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 32;
        ps->toks = xreallocarray(ps->toks, ps->cap, sizeof(*ps->toks));
    }
    ps->toks[ps->count].type = type;
    ps->toks[ps->count].special = special;
    ps->toks[ps->count].start = start;
    ps->toks[ps->count].len = ps->text.len - start;
    ps->toks[ps->count].src_start = src_start;
    ps->toks[ps->count].src_end = src_end;
    ps->count++;
    return 0;
}

static int is_atext(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Accepts a UTF-8 sequence at p[i] when allowed; returns its length. */
static size_t utf8_at(struct parser *ps, const unsigned char *p, size_t len,
                      size_t i)
{
    if (!(ps->flags & ADDRESS_FLAG_UTF8))
        return 0;
    for (size_t n = 2; n <= 4 && i + n <= len; n++)
        if (utf8_valid((const char *)p + i, n))
            return n;
    return 0;
}

static int skip_comment(struct parser *ps, const unsigned char *p, size_t len,
                        size_t *pos)
{
    int depth = 0;
    size_t i = *pos;
    while (i < len) {
        unsigned char c = p[i];
        if (c == '(') {
            if (++depth > ADDRLIST_COMMENT_DEPTH) {
                fail(ps, "comments nested too deeply");
                return -1;
            }
        } else if (c == ')') {
            if (--depth == 0) {
                *pos = i + 1;
                return 0;
            }
        } else if (c == '\\') {
            i++;
        } else if (c == 0) {
            fail(ps, "NUL in comment");
            return -1;
        }
        i++;
    }
    fail(ps, "unterminated comment");
    return -1;
}

static int tokenize(struct parser *ps, const unsigned char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        size_t start = ps->text.len, src = i;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            i++;
        } else if (c == '(') {
            if (skip_comment(ps, p, len, &i) < 0)
                return -1;
        } else if (c == ')') {
            fail(ps, "unbalanced ')'");
            return -1;
        } else if (c == '"') {
            for (i++;; i++) {
                if (i >= len) {
                    fail(ps, "unterminated quoted string");
                    return -1;
                }
                c = p[i];
                if (c == '"')
                    break;
                if (c == '\r' || c == '\n')
                    continue; /* folding inside a quoted string */
                if (c == '\\') {
                    if (i + 1 >= len || p[i + 1] == 0 || p[i + 1] == '\r' ||
                        p[i + 1] == '\n') {
                        fail(ps, "invalid escape in quoted string");
                        return -1;
                    }
                    c = p[++i];
                }
                size_t step = 1;
                if (c >= 0x80 && (step = utf8_at(ps, p, len, i)) == 0) {
                    fail(ps, "non-ASCII text in quoted string");
                    return -1;
                }
                if (c < 0x80 && c < ' ' && c != '\t') {
                    fail(ps, "control character in quoted string");
                    return -1;
                }
                buf_append(&ps->text, p + i, step);
                i += step - 1;
            }
            i++;
            if (add_token(ps, TOK_QSTRING, 0, start, src, i) < 0)
                return -1;
        } else if (c == '[') {
            buf_append_char(&ps->text, '[');
            for (i++;; i++) {
                if (i >= len) {
                    fail(ps, "unterminated domain literal");
                    return -1;
                }
                c = p[i];
                if (c == ']')
                    break;
                if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
                    continue;
                if (c == '[' || c == '\\' || c < 33 || c > 126) {
                    fail(ps, "invalid character in domain literal");
                    return -1;
                }
                buf_append_char(&ps->text, (char)c);
            }
            buf_append_char(&ps->text, ']');
            i++;
            if (add_token(ps, TOK_DLITERAL, 0, start, src, i) < 0)
                return -1;
        } else if (c != 0 && strchr("<>@,;:.", c) != NULL) {
            if (add_token(ps, TOK_SPECIAL, (char)c, start, src, i + 1) < 0)
                return -1;
            i++;
        } else if (is_atext(c) || c >= 0x80) {
            while (i < len) {
                size_t step = 1;
                if (p[i] >= 0x80) {
                    if ((step = utf8_at(ps, p, len, i)) == 0) {
                        fail(ps, "non-ASCII text in address");
                        return -1;
                    }
                } else if (!is_atext(p[i])) {
                    break;
                }
                buf_append(&ps->text, p + i, step);
                i += step;
            }
            if (add_token(ps, TOK_ATOM, 0, start, src, i) < 0)
                return -1;
        } else {
            fail(ps, "invalid character in address list");
            return -1;
        }
    }
    return 0;
}

static const struct token *peek(const struct parser *ps)
{
    return ps->pos < ps->count ? &ps->toks[ps->pos] : NULL;
}

static int peek_special(const struct parser *ps, char special)
{
    const struct token *t = peek(ps);
    return t && t->type == TOK_SPECIAL && t->special == special;
}

static int is_word(const struct token *t)
{
    return t && (t->type == TOK_ATOM || t->type == TOK_QSTRING);
}

/* local-part = word *("." word), appended in internal form. */
static int parse_local(struct parser *ps, struct buf *out, unsigned *info)
{
    for (;;) {
        const struct token *t = peek(ps);
        if (!is_word(t)) {
            fail(ps, "missing local part");
            return -1;
        }
        if (t->type == TOK_QSTRING)
            *info |= ADDRESS_INFO_QUOTED;
        buf_append(out, ps->text.data + t->start, t->len);
        ps->pos++;
        if (!peek_special(ps, '.'))
            break;
        buf_append_char(out, '.');
        ps->pos++;
    }
    if (out->len > ADDRESS_LOCAL_MAX) {
        fail(ps, "local part too long");
        return -1;
    }
    return 0;
}

/* domain = atom *("." atom) / domain-literal, validated. */
static int parse_domain(struct parser *ps, struct buf *out, unsigned *info)
{
    size_t start = out->len;
    const struct token *t = peek(ps);
    if (t && t->type == TOK_DLITERAL) {
        buf_append(out, ps->text.data + t->start, t->len);
        ps->pos++;
        if (!address_valid_literal(out->data + start)) {
            fail(ps, "invalid address literal");
            return -1;
        }
        *info |= ADDRESS_INFO_LITERAL | ADDRESS_INFO_DOMAIN;
        return 0;
    }
    for (;;) {
        t = peek(ps);
        if (!t || t->type != TOK_ATOM) {
            fail(ps, "invalid domain");
            return -1;
        }
        buf_append(out, ps->text.data + t->start, t->len);
        ps->pos++;
        if (!peek_special(ps, '.'))
            break;
        buf_append_char(out, '.');
        ps->pos++;
    }
    if (!address_valid_domain(out->data + start, ps->flags)) {
        fail(ps, "invalid domain");
        return -1;
    }
    *info |= ADDRESS_INFO_DOMAIN;
    return 0;
}

/* first..last: the tokens of the address as written (see addrlist.h). */
static void add_entry(struct parser *ps, const struct buf *address,
                      const char *display, const char *group, unsigned info,
                      size_t first, size_t last)
{
    struct addrlist *list = ps->out;
    if (list->count == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 8;
        list->items = xreallocarray(list->items, list->cap, sizeof(*list->items));
    }
    struct addrlist_entry *e = &list->items[list->count++];
    e->address = xmemdup(address->data, address->len);
    e->display = xstrdup(display);
    e->group = group ? xstrdup(group) : NULL;
    for (size_t i = 0; i < address->len; i++)
        if ((unsigned char)address->data[i] >= 0x80)
            info |= ADDRESS_INFO_UTF8;
    e->info = info;
    e->offset = ps->toks[first].src_start;
    e->length = ps->toks[last].src_end - e->offset;
    ps->added++;
}

/* Reads a phrase (display name) of words and dots into `out`; returns
 * the number of tokens consumed. */
static size_t parse_phrase(struct parser *ps, struct buf *out)
{
    size_t consumed = 0;
    for (;;) {
        const struct token *t = peek(ps);
        if (is_word(t)) {
            if (out->len)
                buf_append_char(out, ' ');
            buf_append(out, ps->text.data + t->start, t->len);
        } else if (peek_special(ps, '.')) {
            buf_append_char(out, '.');
        } else {
            return consumed;
        }
        ps->pos++;
        consumed++;
    }
}

/* angle-addr = "<" [obs-route] addr-spec ">" with pos at "<". */
static int parse_angle(struct parser *ps, struct buf *addr, unsigned *info)
{
    ps->pos++;
    if (peek_special(ps, '@')) {
        /* obs-route: "@a,@b:" is read and dropped, as in Postfix. */
        struct buf hop = BUF_INIT;
        unsigned hop_info = 0;
        int rc = 0;
        for (;;) {
            if (!peek_special(ps, '@')) {
                fail(ps, "invalid source route");
                rc = -1;
                break;
            }
            ps->pos++;
            buf_reset(&hop);
            if (parse_domain(ps, &hop, &hop_info) < 0) {
                rc = -1;
                break;
            }
            while (peek_special(ps, ','))
                ps->pos++;
            if (peek_special(ps, ':')) {
                ps->pos++;
                break;
            }
        }
        buf_free(&hop);
        if (rc < 0)
            return -1;
    }
    if (peek_special(ps, '>')) {
        fail(ps, "empty address <>");
        return -1;
    }
    if (parse_local(ps, addr, info) < 0)
        return -1;
    if (peek_special(ps, '@')) {
        ps->pos++;
        buf_append_char(addr, '@');
        if (parse_domain(ps, addr, info) < 0)
            return -1;
    }
    if (!peek_special(ps, '>')) {
        fail(ps, "missing '>'");
        return -1;
    }
    ps->pos++;
    return 0;
}

/* mailbox = name-addr / addr-spec (or a bare local part). */
static int parse_mailbox(struct parser *ps, const char *group)
{
    struct buf display = BUF_INIT, addr = BUF_INIT;
    unsigned info = 0;
    size_t start = ps->pos;
    int rc = -1;

    if (ps->added >= ADDRLIST_ENTRIES_MAX) {
        fail(ps, "too many addresses");
        goto done;
    }
    size_t first, last;
    parse_phrase(ps, &display);
    if (peek_special(ps, '<')) {
        first = ps->pos + 1;
        if (parse_angle(ps, &addr, &info) < 0)
            goto done;
        last = ps->pos - 2; /* before the '>' */
    } else {
        /* No angle brackets: what we read as a phrase is the local part. */
        buf_reset(&display);
        ps->pos = start;
        first = start;
        if (parse_local(ps, &addr, &info) < 0)
            goto done;
        if (peek_special(ps, '@')) {
            ps->pos++;
            buf_append_char(&addr, '@');
            if (parse_domain(ps, &addr, &info) < 0)
                goto done;
        }
        last = ps->pos - 1;
    }
    if (addr.len > ADDRESS_MAX) {
        fail(ps, "address too long");
        goto done;
    }
    add_entry(ps, &addr, buf_cstr(&display), group, info, first, last);
    rc = 0;
done:
    buf_free(&display);
    buf_free(&addr);
    return rc;
}

/* After an address: "," or ";" (in a group) or the end. */
static int expect_separator(struct parser *ps, int in_group)
{
    if (peek(ps) == NULL || peek_special(ps, ',') ||
        (in_group && peek_special(ps, ';')))
        return 0;
    fail(ps, "unexpected text after address");
    return -1;
}

static int parse_group(struct parser *ps, const char *name)
{
    ps->pos++; /* the ':' */
    for (;;) {
        if (peek(ps) == NULL) {
            fail(ps, "group without ';'");
            return -1;
        }
        if (peek_special(ps, ';')) {
            ps->pos++;
            return 0;
        }
        if (peek_special(ps, ',')) {
            ps->pos++;
            continue;
        }
        if (parse_mailbox(ps, name) < 0 || expect_separator(ps, 1) < 0)
            return -1;
    }
}

static int parse_list(struct parser *ps)
{
    while (peek(ps) != NULL) {
        if (peek_special(ps, ',')) {
            ps->pos++;
            continue;
        }
        /* A phrase followed by ':' starts a group. */
        size_t start = ps->pos;
        struct buf name = BUF_INIT;
        size_t words = parse_phrase(ps, &name);
        int rc;
        if (words > 0 && peek_special(ps, ':')) {
            rc = parse_group(ps, buf_cstr(&name));
        } else {
            ps->pos = start;
            rc = parse_mailbox(ps, NULL);
        }
        buf_free(&name);
        if (rc < 0 || expect_separator(ps, 0) < 0)
            return -1;
    }
    return 0;
}

void addrlist_init(struct addrlist *list)
{
    list->items = NULL;
    list->count = list->cap = 0;
}

static void free_entries(struct addrlist *list, size_t from)
{
    for (size_t i = from; i < list->count; i++) {
        free(list->items[i].address);
        free(list->items[i].display);
        free(list->items[i].group);
    }
    list->count = from;
}

void addrlist_free(struct addrlist *list)
{
    free_entries(list, 0);
    free(list->items);
    addrlist_init(list);
}

int addrlist_parse(const char *text, size_t len, unsigned flags,
                   struct addrlist *list, struct buf *why)
{
    struct parser ps;
    size_t before = list->count;
    int rc;

    memset(&ps, 0, sizeof(ps));
    if (why)
        buf_reset(why);
    ps.why = why;
    ps.flags = flags & ADDRESS_FLAG_UTF8;
    ps.out = list;
    if (len > ADDRLIST_INPUT_MAX) {
        fail(&ps, "address list too long");
        return -1;
    }
    buf_init(&ps.text);
    rc = tokenize(&ps, (const unsigned char *)text, len);
    if (rc == 0)
        rc = parse_list(&ps);
    if (rc < 0)
        free_entries(list, before);
    buf_free(&ps.text);
    free(ps.toks);
    return rc;
}
