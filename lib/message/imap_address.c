/* imap_address.c: lenient address lists for ENVELOPE (see
 * imap_address.h). The grammar is RFC 5322's address-list with its
 * obsolete forms; each step mirrors how Dovecot recovers from broken
 * input, because clients compare what they cached against it. */
#include "message/imap_address.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "message/imap_quote.h"
#include "message/rfc822_lex.h"

struct aparse {
    struct rfc822_lex lx;
    struct buf comment; /* the last comment skipped */
    struct buf str;     /* scratch: phrase, local part */
    struct imap_address_list *list;
    size_t budget; /* addresses still allowed */
    /* the address being built; the strings are owned here until added */
    char *name, *route, *mailbox, *domain;
};

void imap_address_list_init(struct imap_address_list *list)
{
    list->items = NULL;
    list->count = list->cap = 0;
}

void imap_address_list_free(struct imap_address_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].name);
        free(list->items[i].route);
        free(list->items[i].mailbox);
        free(list->items[i].domain);
    }
    free(list->items);
    imap_address_list_init(list);
}

static void set(char **field, const char *value)
{
    free(*field);
    *field = value ? xstrndup(value, strlen(value)) : NULL;
}

static void add_address(struct aparse *ap)
{
    struct imap_address_list *list = ap->list;
    if (ap->budget == 0) {
        set(&ap->name, NULL);
        set(&ap->route, NULL);
        set(&ap->mailbox, NULL);
        set(&ap->domain, NULL);
        return;
    }
    ap->budget--;
    if (list->count == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 4;
        list->items = xreallocarray(list->items, list->cap,
                                    sizeof(*list->items));
    }
    list->items[list->count].name = ap->name;
    list->items[list->count].route = ap->route;
    list->items[list->count].mailbox = ap->mailbox;
    list->items[list->count].domain = ap->domain;
    list->count++;
    ap->name = ap->route = ap->mailbox = ap->domain = NULL;
}

static int more(struct aparse *ap)
{
    return ap->lx.p < ap->lx.end;
}

static char cur(struct aparse *ap)
{
    return *ap->lx.p;
}

static int parse_local_part(struct aparse *ap)
{
    int ret;
    buf_reset(&ap->str);
    if (cur(ap) == '"')
        ret = rfc822_lex_quoted(&ap->lx, &ap->str);
    else
        ret = rfc822_lex_dot_atom(&ap->lx, &ap->str);
    if (ret < 0)
        return -1;
    set(&ap->mailbox, buf_cstr(&ap->str));
    return ret;
}

/* At '@': the domain (a dot-atom or a [literal]). */
static int parse_domain(struct aparse *ap)
{
    struct buf dom = BUF_INIT;
    int ret;
    ap->lx.p++;
    if ((ret = rfc822_lex_skip(&ap->lx)) <= 0) {
        buf_free(&dom);
        return -1;
    }
    if (cur(ap) == '[') {
        const char *start = ap->lx.p;
        while (ap->lx.p < ap->lx.end && *ap->lx.p != ']') {
            if (*ap->lx.p == '\\' && ap->lx.p + 1 < ap->lx.end)
                ap->lx.p++;
            ap->lx.p++;
        }
        if (ap->lx.p >= ap->lx.end) {
            buf_free(&dom);
            return -1;
        }
        ap->lx.p++;
        for (const char *c = start; c < ap->lx.p; c++)
            if (*c != '\r' && *c != '\n')
                buf_append_char(&dom, *c);
        ret = rfc822_lex_skip(&ap->lx);
    } else {
        ret = rfc822_lex_dot_atom(&ap->lx, &dom);
    }
    if (ret >= 0)
        set(&ap->domain, buf_cstr(&dom));
    buf_free(&dom);
    return ret;
}

/* "@a,@b" before ':' in an angle address. */
static int parse_domain_list(struct aparse *ap)
{
    struct buf route = BUF_INIT;
    int ret = 1;
    for (;;) {
        if (!more(ap) || cur(ap) != '@')
            break;
        ap->lx.p++;
        buf_append_char(&route, '@');
        if ((ret = rfc822_lex_skip(&ap->lx)) <= 0)
            break;
        if ((ret = rfc822_lex_dot_atom(&ap->lx, &route)) <= 0)
            break;
        while (more(ap) && cur(ap) == ',') {
            ap->lx.p++;
            if ((ret = rfc822_lex_skip(&ap->lx)) <= 0)
                break;
        }
        if (ret <= 0 || cur(ap) != '@')
            break;
        buf_append_char(&route, ',');
    }
    set(&ap->route, buf_cstr(&route));
    buf_free(&route);
    return ret;
}

static int parse_angle_addr(struct aparse *ap)
{
    ap->lx.p++; /* '<' */
    if (rfc822_lex_skip(&ap->lx) <= 0)
        return -1;
    if (cur(ap) == '@') {
        if (parse_domain_list(ap) > 0 && cur(ap) == ':') {
            ap->lx.p++;
        } else {
            set(&ap->route, "INVALID_ROUTE");
            if (!more(ap))
                return -1;
        }
        if (rfc822_lex_skip(&ap->lx) <= 0)
            return -1;
    }
    if (cur(ap) != '>') {
        if (parse_local_part(ap) <= 0)
            return -1;
        if (cur(ap) == '@' && parse_domain(ap) <= 0)
            return -1;
    }
    if (cur(ap) != '>')
        return -1;
    ap->lx.p++;
    return rfc822_lex_skip(&ap->lx);
}

static int parse_name_addr(struct aparse *ap)
{
    buf_reset(&ap->str);
    if (rfc822_lex_phrase(&ap->lx, &ap->str) <= 0 || cur(ap) != '<')
        return -1;
    set(&ap->name, ap->str.len ? buf_cstr(&ap->str) : NULL);
    if (parse_angle_addr(ap) < 0)
        set(&ap->domain, "SYNTAX_ERROR");
    return more(ap) ? 1 : 0;
}

static int parse_addr_spec(struct aparse *ap)
{
    int ret, ret2 = -2;
    int quoted = cur(ap) == '"';
    buf_reset(&ap->comment);
    ret = parse_local_part(ap);
    if (ret != 0 && more(ap) && cur(ap) == '@') {
        ret2 = parse_domain(ap);
        if (ret2 <= 0)
            ret = ret2;
    }
    if (ap->comment.len > 0) {
        set(&ap->name, buf_cstr(&ap->comment));
    } else if (ret2 == -2) {
        /* "user" alone is a mailbox; "user something" is a name */
        size_t before;
        if (ret < 0)
            buf_reset(&ap->str);
        buf_append_char(&ap->str, ' ');
        before = ap->str.len;
        if (more(ap))
            (void)rfc822_lex_phrase(&ap->lx, &ap->str);
        if (ap->str.len != before) {
            set(&ap->mailbox, NULL);
            set(&ap->name, buf_cstr(&ap->str));
        } else if (!quoted) {
            set(&ap->domain, "");
        }
        if (ret >= 0)
            ret = more(ap) ? 1 : 0;
    }
    return ret;
}

static int parse_mailbox(struct aparse *ap)
{
    const char *start = ap->lx.p;
    int ret = parse_name_addr(ap);
    if (ret < 0) {
        ap->lx.p = start;
        set(&ap->name, NULL);
        ret = parse_addr_spec(ap);
    }
    if (ap->mailbox == NULL || *ap->mailbox == '\0')
        set(&ap->mailbox, "MISSING_MAILBOX");
    if (ap->domain == NULL || *ap->domain == '\0')
        set(&ap->domain, "MISSING_DOMAIN");
    add_address(ap);
    return ret;
}

/* After "display-name:". */
static int parse_group(struct aparse *ap)
{
    int ret;
    set(&ap->mailbox, buf_cstr(&ap->str));
    add_address(ap);
    if ((ret = rfc822_lex_skip(&ap->lx)) > 0 && cur(ap) != ';') {
        for (;;) {
            if ((ret = parse_mailbox(ap)) <= 0)
                break;
            if (cur(ap) != ',')
                break;
            ap->lx.p++;
            if (rfc822_lex_skip(&ap->lx) <= 0) {
                ret = -1;
                break;
            }
        }
    }
    if (ret >= 0) {
        if (!more(ap) || cur(ap) != ';') {
            ret = -1;
        } else {
            ap->lx.p++;
            ret = rfc822_lex_skip(&ap->lx);
        }
    }
    add_address(ap); /* the group's end */
    return ret;
}

static int parse_address(struct aparse *ap)
{
    const char *start = ap->lx.p;
    int ret;
    buf_reset(&ap->str);
    if ((ret = rfc822_lex_phrase(&ap->lx, &ap->str)) <= 0 ||
        cur(ap) != ':') {
        ap->lx.p = start;
        return parse_mailbox(ap);
    }
    ap->lx.p++;
    return parse_group(ap);
}

void imap_address_parse(struct imap_address_list *list, const char *text,
                        size_t len)
{
    struct aparse ap;
    memset(&ap, 0, sizeof(ap));
    rfc822_lex_init(&ap.lx, text, len);
    buf_init(&ap.comment);
    buf_init(&ap.str);
    ap.lx.last_comment = &ap.comment;
    ap.list = list;
    ap.budget = list->count < IMAP_ADDRESS_MAX
                    ? IMAP_ADDRESS_MAX - list->count
                    : 0;
    if (rfc822_lex_skip(&ap.lx) > 0) {
        while (ap.budget > 0) {
            const char *before = ap.lx.p;
            if (parse_address(&ap) == 0)
                break;
            if (!more(&ap) || cur(&ap) != ',' )
                break;
            ap.lx.p++;
            if (rfc822_lex_skip(&ap.lx) <= 0)
                break;
            if (ap.lx.p == before)
                break; /* no progress: cannot happen, but never loop */
        }
    }
    set(&ap.name, NULL);
    set(&ap.route, NULL);
    set(&ap.mailbox, NULL);
    set(&ap.domain, NULL);
    buf_free(&ap.comment);
    buf_free(&ap.str);
}

void imap_address_write(struct buf *out, const struct imap_address_list *list)
{
    if (list->count == 0) {
        buf_append_str(out, "NIL");
        return;
    }
    buf_append_char(out, '(');
    for (size_t i = 0; i < list->count; i++) {
        const struct imap_address *a = &list->items[i];
        buf_append_char(out, '(');
        imap_quote_nstring_nolf(out, a->name);
        buf_append_char(out, ' ');
        imap_quote_nstring_nolf(out, a->route);
        buf_append_char(out, ' ');
        imap_quote_nstring_nolf(out, a->mailbox);
        buf_append_char(out, ' ');
        imap_quote_nstring_nolf(out, a->domain);
        buf_append_char(out, ')');
    }
    buf_append_char(out, ')');
}
