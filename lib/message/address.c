/* address.c: RFC 5321 mailbox parsing, quoting, routing detection,
 * recipient_delimiter splitting and domain validation (see address.h). */
#include "message/address.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "base/utf8.h"

/* RFC 5322 atext, without the UTF-8 extension. */
static int is_atext_ascii(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static void set_why(struct buf *why, const char *reason)
{
    if (why)
        buf_set_str(why, reason);
}

/* Checks DNS hostname syntax on text[0..len). Labels: letters, digits,
 * '-', '_' (and UTF-8 with ADDRESS_FLAG_UTF8), no leading/trailing '-'.
 * With reject_numeric, a name of only digits and dots is refused. */
static int hostname_syntax(const char *text, size_t len, unsigned flags,
                           int reject_numeric)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t label_len = 0;
    int label_utf8 = 0;
    int non_numeric = 0;

    if (len == 0 || len > ADDRESS_DOMAIN_MAX)
        return 0;
    for (size_t pos = 0; pos <= len; pos++) {
        if (pos == len || p[pos] == '.') {
            if (label_len == 0)
                return 0; /* empty label: leading, trailing or ".." */
            if (p[pos - 1] == '-')
                return 0;
            if (!label_utf8 && label_len > ADDRESS_LABEL_MAX)
                return 0;
            label_len = 0;
            label_utf8 = 0;
            continue;
        }
        unsigned char c = p[pos];
        if (c >= 0x80) {
            if (!(flags & ADDRESS_FLAG_UTF8))
                return 0;
            size_t step = utf8_sequence_len(p + pos, len - pos);
            if (step == 0)
                return 0;
            pos += step - 1;
            label_len += step;
            label_utf8 = 1;
            non_numeric = 1;
            continue;
        }
        if (c == '-') {
            if (label_len == 0)
                return 0;
        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c >= '0' && c <= '9') || c == '_')) {
            return 0;
        }
        if (!(c >= '0' && c <= '9'))
            non_numeric = 1;
        label_len++;
    }
    if (reject_numeric && !non_numeric)
        return 0;
    return 1;
}

int address_valid_hostname(const char *name, unsigned flags)
{
    return name != NULL && hostname_syntax(name, strlen(name), flags, 1);
}

int address_valid_ip(const char *text)
{
    unsigned char addr[16];
    if (text == NULL || strlen(text) > 45)
        return 0;
    return inet_pton(AF_INET, text, addr) == 1 ||
           inet_pton(AF_INET6, text, addr) == 1;
}

/* "IPv6:" plus the longest textual IPv6 address (with embedded IPv4). */
#define LITERAL_INNER_MAX 64

static int literal_syntax(const char *text, size_t len)
{
    unsigned char addr[16];
    struct buf inner = BUF_INIT;
    int ok;

    if (len < 3 || len - 2 > LITERAL_INNER_MAX || text[0] != '[' ||
        text[len - 1] != ']')
        return 0;
    buf_set(&inner, text + 1, len - 2); /* inet_pton wants a C string */
    if (strlen(inner.data) != inner.len)
        ok = 0; /* embedded NUL */
    else if (strncasecmp(inner.data, "IPv6:", 5) == 0)
        ok = inet_pton(AF_INET6, inner.data + 5, addr) == 1;
    else
        ok = inet_pton(AF_INET, inner.data, addr) == 1;
    buf_free(&inner);
    return ok;
}

int address_valid_literal(const char *text)
{
    return text != NULL && literal_syntax(text, strlen(text));
}

int address_valid_domain(const char *domain, unsigned flags)
{
    if (domain == NULL)
        return 0;
    if (domain[0] == '[')
        return address_valid_literal(domain);
    return hostname_syntax(domain, strlen(domain), flags, 0);
}

int address_domain_is_fqdn(const char *domain)
{
    if (domain == NULL)
        return 0;
    if (domain[0] == '[')
        return address_valid_literal(domain);
    return address_valid_hostname(domain, ADDRESS_FLAG_UTF8) &&
           strchr(domain, '.') != NULL;
}

/* Copies a HELO argument without one trailing dot into out (bounded). */
static int helo_prepare(const char *helo, struct buf *out)
{
    size_t len;
    if (helo == NULL || (len = strlen(helo)) == 0 || len > ADDRESS_DOMAIN_MAX + 1)
        return 0;
    if (helo[0] != '[' && helo[len - 1] == '.')
        len--;
    buf_set(out, helo, len);
    return len > 0;
}

int address_helo_valid(const char *helo)
{
    struct buf name = BUF_INIT;
    int ok = 0;
    if (helo_prepare(helo, &name)) {
        if (name.data[0] == '[')
            ok = address_valid_literal(name.data);
        else
            ok = address_valid_hostname(name.data, 0) ||
                 address_valid_ip(name.data);
    }
    buf_free(&name);
    return ok;
}

int address_helo_is_fqdn(const char *helo)
{
    struct buf name = BUF_INIT;
    int ok = 0;
    if (helo_prepare(helo, &name)) {
        if (name.data[0] == '[')
            ok = address_valid_literal(name.data);
        else
            ok = address_valid_hostname(name.data, 0) &&
                 strchr(name.data, '.') != NULL;
    }
    buf_free(&name);
    return ok;
}

/* Parses a quoted local part starting at text[*pos] == '"'. */
static int parse_quoted(const unsigned char *p, size_t len, size_t *pos,
                        unsigned flags, struct buf *out, struct buf *why)
{
    size_t i = *pos + 1;
    for (;;) {
        if (i >= len) {
            set_why(why, "unterminated quoted string");
            return -1;
        }
        unsigned char c = p[i];
        if (c == '"') {
            *pos = i + 1;
            return 0;
        }
        if (c == '\\') {
            /* quoted-pairSMTP: backslash and one printable ASCII char */
            if (i + 1 >= len || p[i + 1] < 32 || p[i + 1] > 126) {
                set_why(why, "invalid escape in quoted string");
                return -1;
            }
            buf_append_char(out, (char)p[i + 1]);
            i += 2;
        } else if (c >= 32 && c <= 126) {
            buf_append_char(out, (char)c);
            i++;
        } else if (c >= 0x80 && (flags & ADDRESS_FLAG_UTF8)) {
            size_t step = utf8_sequence_len(p + i, len - i);
            if (step == 0) {
                set_why(why, "malformed UTF-8 in quoted string");
                return -1;
            }
            buf_append(out, p + i, step);
            i += step;
        } else {
            set_why(why, c >= 0x80 ? "non-ASCII local part without SMTPUTF8"
                                   : "control character in quoted string");
            return -1;
        }
        if (out->len > ADDRESS_LOCAL_MAX) {
            set_why(why, "local part too long");
            return -1;
        }
    }
}

/* Parses a dot-string (Atom *("." Atom)) at text[*pos]. */
static int parse_dot_string(const unsigned char *p, size_t len, size_t *pos,
                            unsigned flags, struct buf *out, struct buf *why)
{
    size_t i = *pos;
    for (;;) {
        size_t atom_start = i;
        while (i < len) {
            if (is_atext_ascii(p[i])) {
                buf_append_char(out, (char)p[i]);
                i++;
            } else if (p[i] >= 0x80 && (flags & ADDRESS_FLAG_UTF8)) {
                size_t step = utf8_sequence_len(p + i, len - i);
                if (step == 0) {
                    set_why(why, "malformed UTF-8 in local part");
                    return -1;
                }
                buf_append(out, p + i, step);
                i += step;
            } else {
                break;
            }
            if (out->len > ADDRESS_LOCAL_MAX) {
                set_why(why, "local part too long");
                return -1;
            }
        }
        if (i == atom_start) {
            if (i < len && p[i] >= 0x80)
                set_why(why, "non-ASCII local part without SMTPUTF8");
            else
                set_why(why, i == *pos ? "empty local part"
                                       : "misplaced dot in local part");
            return -1;
        }
        if (i < len && p[i] == '.') {
            buf_append_char(out, '.');
            i++;
            continue;
        }
        *pos = i;
        return 0;
    }
}

int address_parse_mailbox(const char *text, size_t len, unsigned flags,
                          struct buf *internal, unsigned *info,
                          struct buf *why)
{
    const unsigned char *p = (const unsigned char *)text;
    unsigned facts = 0;
    size_t pos = 0;

    buf_reset(internal);
    if (len > 2 * ADDRESS_MAX) {
        set_why(why, "address too long");
        return -1;
    }
    if (len > 0 && p[0] == '"') {
        if (parse_quoted(p, len, &pos, flags, internal, why) < 0)
            return -1;
        facts |= ADDRESS_INFO_QUOTED;
    } else {
        for (;;) {
            if (parse_dot_string(p, len, &pos, flags, internal, why) < 0)
                return -1;
            /* user@other@ours: the '@' belongs to the local part unless
             * it is the last one (Postfix's split at the last '@'). */
            if ((flags & ADDRESS_FLAG_MULTI_AT) && pos < len && p[pos] == '@' &&
                memchr(p + pos + 1, '@', len - pos - 1) != NULL) {
                buf_append_char(internal, '@');
                pos++;
                continue;
            }
            break;
        }
    }
    if (internal->len > ADDRESS_LOCAL_MAX) {
        set_why(why, "local part too long");
        return -1;
    }
    if (pos == len) {
        if (!(flags & ADDRESS_FLAG_BARE)) {
            set_why(why, "missing domain");
            return -1;
        }
        /* Without a domain, "" or "a@b" would read back differently from
         * their internal form; refuse rather than guess. */
        if (internal->len == 0 || memchr(internal->data, '@', internal->len)) {
            set_why(why, "ambiguous local part without domain");
            return -1;
        }
    } else {
        if (p[pos] != '@') {
            set_why(why, p[pos] >= 0x80 ? "non-ASCII local part without SMTPUTF8"
                                        : "invalid character in local part");
            return -1;
        }
        const char *domain = text + pos + 1;
        size_t domain_len = len - pos - 1;
        if (domain_len == 0) {
            set_why(why, "missing domain");
            return -1;
        }
        if (domain[0] == '[') {
            if (!literal_syntax(domain, domain_len)) {
                set_why(why, "invalid address literal");
                return -1;
            }
            facts |= ADDRESS_INFO_LITERAL;
        } else if (!hostname_syntax(domain, domain_len, flags, 0)) {
            set_why(why, memchr(domain, '@', domain_len)
                             ? "more than one @ in address"
                             : "invalid domain");
            return -1;
        }
        facts |= ADDRESS_INFO_DOMAIN;
        buf_append_char(internal, '@');
        buf_append(internal, domain, domain_len);
    }
    for (size_t i = 0; i < internal->len; i++) {
        if ((unsigned char)internal->data[i] >= 0x80) {
            facts |= ADDRESS_INFO_UTF8;
            break;
        }
    }
    if (info)
        *info = facts;
    return 0;
}

int address_split(const char *internal, struct buf *local, struct buf *domain)
{
    const char *at = strrchr(internal, '@');
    if (at == NULL) {
        if (local)
            buf_set_str(local, internal);
        if (domain)
            buf_reset(domain);
        return 0;
    }
    if (local)
        buf_set(local, internal, (size_t)(at - internal));
    if (domain)
        buf_set_str(domain, at + 1);
    return 1;
}

const char *address_domain(const char *internal)
{
    const char *at = strrchr(internal, '@');
    return at ? at + 1 : NULL;
}

static int local_needs_quoting(const unsigned char *p, size_t len)
{
    if (len == 0)
        return 1;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '.') {
            if (i == 0 || i == len - 1 || p[i - 1] == '.')
                return 1;
        } else if (!is_atext_ascii(p[i]) && p[i] < 0x80) {
            return 1;
        }
    }
    return 0;
}

void address_quote_local(const char *local, size_t len, struct buf *out)
{
    const unsigned char *p = (const unsigned char *)local;
    if (!local_needs_quoting(p, len)) {
        buf_append(out, local, len);
        return;
    }
    buf_append_char(out, '"');
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '"' || p[i] == '\\')
            buf_append_char(out, '\\');
        buf_append_char(out, (char)p[i]);
    }
    buf_append_char(out, '"');
}

void address_externalize(const char *internal, struct buf *out)
{
    buf_reset(out);
    if (*internal == 0)
        return;
    const char *at = strrchr(internal, '@');
    if (at == NULL) {
        address_quote_local(internal, strlen(internal), out);
        return;
    }
    address_quote_local(internal, (size_t)(at - internal), out);
    buf_append_str(out, at);
}

unsigned address_routing(const char *internal)
{
    const char *at = strrchr(internal, '@');
    size_t local_len = at ? (size_t)(at - internal) : strlen(internal);
    unsigned found = 0;

    if (memchr(internal, '@', local_len))
        found |= ADDRESS_ROUTE_AT;
    if (memchr(internal, '%', local_len))
        found |= ADDRESS_ROUTE_PERCENT;
    if (memchr(internal, '!', local_len))
        found |= ADDRESS_ROUTE_BANG;
    if (internal[0] == '@' && memchr(internal, ':', local_len))
        found |= ADDRESS_ROUTE_SOURCE;
    return found;
}

int address_split_delimiter(const char *local, const char *delimiters,
                            struct buf *base, struct buf *extension,
                            char *delimiter)
{
    size_t len = strlen(local);
    size_t cut;

    buf_set_str(base, local);
    buf_reset(extension);
    if (delimiters == NULL || *delimiters == 0)
        return 0;
    /* Never split the role addresses every site must have. */
    if (strcasecmp(local, "postmaster") == 0 ||
        strcasecmp(local, "MAILER-DAEMON") == 0 ||
        strcasecmp(local, "double-bounce") == 0)
        return 0;
    /* Postfix's backwards compatibility for mailing-list conventions. */
    if (strchr(delimiters, '-') != NULL) {
        if (strncasecmp(local, "owner-", 6) == 0)
            return 0;
        if (len > 8 && strcasecmp(local + len - 8, "-request") == 0)
            return 0;
    }
    cut = strcspn(local, delimiters);
    if (cut == 0 || cut == len)
        return 0;
    buf_set(base, local, cut);
    buf_set_str(extension, local + cut + 1);
    if (delimiter)
        *delimiter = local[cut];
    return 1;
}
