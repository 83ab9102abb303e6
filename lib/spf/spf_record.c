/* spf_record.c: the SPF record parser; see spf_record.h. */
#include "spf/spf_record.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "base/mem.h"
#include "spf/spf_macro.h"

int spf_record_is_spf(const char *txt, size_t len)
{
    return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 &&
           (len == 6 || txt[6] == ' ');
}

static int alnum_only(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return 0;
    return 1;
}

/* toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static int toplabel_valid(const char *s, size_t n)
{
    if (n == 0 || !alnum_only(s, n) || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 1;
    return 0;
}

int spf_domain_end_valid(const char *spec)
{
    size_t n = strlen(spec);
    if (n == 0)
        return 0;
    if (spec[n - 1] == '}')
        return 1;
    if (n >= 2 && spec[n - 2] == '%' && strchr("%_-", spec[n - 1])) {
        /* an escape ends it, unless that '%' is itself escaped */
        size_t percents = 0;
        for (size_t i = n - 1; i-- > 0 && spec[i] == '%';)
            percents++;
        if (percents % 2 == 1)
            return 1;
    }
    if (spec[n - 1] == '.')
        n--;
    const char *dot = NULL;
    for (size_t i = n; i-- > 0;)
        if (spec[i] == '.') {
            dot = spec + i;
            break;
        }
    if (dot == NULL)
        return 0;
    return toplabel_valid(dot + 1, (size_t)(spec + n - dot - 1));
}

/* Reads a prefix length "/N" (no leading zero) at most max. */
static int parse_cidr(const char *s, size_t n, int max, int *out)
{
    if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
        return -1;
    int value = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        value = value * 10 + (s[i] - '0');
    }
    if (value > max)
        return -1;
    *out = value;
    return 0;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return n > 0;
}

/* Splits "spec/4//6", "spec//6", "/4" at the dual-cidr-length, which is
 * there only when the text ends in "/" or "//" and digits (a domain-spec
 * may hold '/' itself: "a:foo:bar/baz.example"); n shrinks to the spec's
 * length. */
static int parse_dual_cidr(const char *arg, size_t *n, int *cidr4, int *cidr6)
{
    *cidr4 = 32;
    *cidr6 = 128;
    size_t end = *n;
    for (int round = 0; round < 2; round++) {
        const char *slash = memrchr(arg, '/', end);
        if (slash == NULL)
            break;
        size_t at = (size_t)(slash - arg);
        if (!all_digits(slash + 1, end - at - 1))
            break;
        int v6 = at > 0 && arg[at - 1] == '/';
        if (v6 && round == 1)
            break;
        if (parse_cidr(slash + 1, end - at - 1, v6 ? 128 : 32,
                       v6 ? cidr6 : cidr4) < 0)
            return -1;
        end = v6 ? at - 1 : at;
        if (!v6)
            break;
    }
    *n = end;
    return 0;
}

/* qnum = DIGIT / %x31-39 DIGIT / "1" 2DIGIT / "2" %x30-34 DIGIT / "25" %x30-35 */
static int parse_ip4(const char *s, size_t n, struct spf_ip *ip)
{
    memset(ip, 0, sizeof(*ip));
    ip->family = 4;
    size_t octet = 0, i = 0;
    while (octet < 4) {
        size_t digits = 0;
        unsigned value = 0;
        while (i < n && isdigit((unsigned char)s[i]) && digits < 4)
            value = value * 10 + (unsigned)(s[i++] - '0'), digits++;
        if (digits == 0 || digits > 3 || value > 255 ||
            (digits > 1 && s[i - digits] == '0'))
            return -1;
        ip->bytes[octet++] = (unsigned char)value;
        if (octet < 4) {
            if (i >= n || s[i] != '.')
                return -1;
            i++;
        }
    }
    return i == n ? 0 : -1;
}

static int parse_ip6(const char *s, size_t n, struct spf_ip *ip)
{
    char text[64];
    if (n == 0 || n >= sizeof(text))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
            return -1;
    memcpy(text, s, n);
    text[n] = '\0';
    /* a mapped address stays IPv6 here: ip6: never matches IPv4 clients */
    memset(ip, 0, sizeof(*ip));
    ip->family = 6;
    return inet_pton(AF_INET6, text, ip->bytes) == 1 ? 0 : -1;
}

static const struct {
    const char *name;
    enum spf_mechanism mechanism;
} mechanisms[] = {
    {"all", SPF_MECH_ALL}, {"include", SPF_MECH_INCLUDE}, {"a", SPF_MECH_A},
    {"mx", SPF_MECH_MX},   {"ptr", SPF_MECH_PTR},         {"ip4", SPF_MECH_IP4},
    {"ip6", SPF_MECH_IP6}, {"exists", SPF_MECH_EXISTS},
};

static int check_domain_spec(const char *spec, size_t n, struct buf *err)
{
    if (n == 0) {
        buf_append_str(err, "empty domain-spec");
        return -1;
    }
    if (spf_macro_check(spec, n, SPF_MACRO_DOMAIN, err) < 0)
        return -1;
    char *copy = xstrndup(spec, n);
    int ok = spf_domain_end_valid(copy);
    free(copy);
    if (!ok) {
        buf_appendf(err, "invalid domain-spec '%.*s'", (int)n, spec);
        return -1;
    }
    return 0;
}

static int parse_directive(const char *term, size_t n, struct spf_term *out,
                           struct buf *err)
{
    memset(out, 0, sizeof(*out));
    out->qualifier = '+';
    out->cidr4 = 32;
    out->cidr6 = 128;
    size_t i = 0;
    if (n > 0 && strchr("+-~?", term[0]) && term[0] != '\0')
        out->qualifier = term[i++];
    size_t name_len = 0;
    while (i + name_len < n && isalnum((unsigned char)term[i + name_len]))
        name_len++;
    size_t m;
    for (m = 0; m < sizeof(mechanisms) / sizeof(mechanisms[0]); m++)
        if (strlen(mechanisms[m].name) == name_len &&
            strncasecmp(mechanisms[m].name, term + i, name_len) == 0)
            break;
    if (m == sizeof(mechanisms) / sizeof(mechanisms[0])) {
        buf_appendf(err, "unknown mechanism '%.*s'", (int)n, term);
        return -1;
    }
    out->mechanism = mechanisms[m].mechanism;
    const char *rest = term + i + name_len;
    size_t rest_len = n - i - name_len;
    const char *arg = NULL;
    size_t arg_len = 0;
    if (rest_len > 0 && rest[0] == ':') {
        arg = rest + 1;
        arg_len = rest_len - 1;
    }
    switch (out->mechanism) {
    case SPF_MECH_ALL:
        if (rest_len != 0)
            goto syntax;
        return 0;
    case SPF_MECH_INCLUDE:
    case SPF_MECH_EXISTS:
        if (arg == NULL || check_domain_spec(arg, arg_len, err) < 0)
            goto syntax;
        out->domain_spec = xstrndup(arg, arg_len);
        return 0;
    case SPF_MECH_PTR:
        if (rest_len == 0)
            return 0;
        if (arg == NULL || check_domain_spec(arg, arg_len, err) < 0)
            goto syntax;
        out->domain_spec = xstrndup(arg, arg_len);
        return 0;
    case SPF_MECH_A:
    case SPF_MECH_MX: {
        if (rest_len == 0)
            return 0;
        const char *spec = arg ? arg : rest;
        size_t spec_len = arg ? arg_len : rest_len;
        if (arg == NULL && rest[0] != '/')
            goto syntax;
        if (parse_dual_cidr(spec, &spec_len, &out->cidr4, &out->cidr6) < 0 ||
            (arg == NULL && spec_len != 0))
            goto syntax;
        if (arg) {
            if (check_domain_spec(spec, spec_len, err) < 0)
                goto syntax;
            out->domain_spec = xstrndup(spec, spec_len);
        }
        return 0;
    }
    case SPF_MECH_IP4: {
        if (arg == NULL)
            goto syntax;
        size_t addr_len = arg_len;
        const char *slash = memchr(arg, '/', arg_len);
        if (slash) {
            addr_len = (size_t)(slash - arg);
            if (parse_cidr(slash + 1, arg_len - addr_len - 1, 32, &out->cidr4) < 0)
                goto syntax;
        }
        if (parse_ip4(arg, addr_len, &out->ip) < 0)
            goto syntax;
        return 0;
    }
    case SPF_MECH_IP6: {
        if (arg == NULL)
            goto syntax;
        size_t addr_len = arg_len;
        const char *slash = memchr(arg, '/', arg_len);
        if (slash) {
            addr_len = (size_t)(slash - arg);
            if (parse_cidr(slash + 1, arg_len - addr_len - 1, 128, &out->cidr6) < 0)
                goto syntax;
        }
        if (parse_ip6(arg, addr_len, &out->ip) < 0)
            goto syntax;
        return 0;
    }
    }
syntax:
    free(out->domain_spec);
    out->domain_spec = NULL;
    buf_appendf(err, "%sinvalid term '%.*s'", err->len ? ": " : "", (int)n,
                term);
    return -1;
}

/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ); returns its length
 * when term is "name=...", else 0. */
static size_t modifier_name_len(const char *term, size_t n)
{
    if (n == 0 || !isalpha((unsigned char)term[0]))
        return 0;
    size_t i = 1;
    while (i < n && (isalnum((unsigned char)term[i]) || strchr("-_.", term[i])))
        i++;
    return i < n && term[i] == '=' ? i : 0;
}

static int parse_modifier(const char *term, size_t n, size_t name_len,
                          struct spf_record *rec, struct buf *err)
{
    const char *value = term + name_len + 1;
    size_t value_len = n - name_len - 1;
    char **slot = NULL;
    if (name_len == 8 && strncasecmp(term, "redirect", 8) == 0)
        slot = &rec->redirect;
    else if (name_len == 3 && strncasecmp(term, "exp", 3) == 0)
        slot = &rec->exp;
    if (slot == NULL) /* unknown modifiers: ignored, but well-formed */
        return spf_macro_check(value, value_len, SPF_MACRO_DOMAIN, err);
    if (*slot != NULL) {
        buf_appendf(err, "%.*s= given twice", (int)name_len, term);
        return -1;
    }
    if (check_domain_spec(value, value_len, err) < 0)
        return -1;
    *slot = xstrndup(value, value_len);
    return 0;
}

int spf_record_parse(const char *txt, size_t len, struct spf_record *rec,
                     struct buf *err)
{
    memset(rec, 0, sizeof(*rec));
    if (!spf_record_is_spf(txt, len)) {
        buf_append_str(err, "not an SPF record");
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)txt[i] < 0x20 || (unsigned char)txt[i] > 0x7e) {
            buf_append_str(err, "SPF record with a byte that is not printable ASCII");
            return -1;
        }
    size_t pos = 6;
    while (pos < len) {
        if (txt[pos] == ' ') {
            pos++;
            continue;
        }
        size_t end = pos;
        while (end < len && txt[end] != ' ')
            end++;
        const char *term = txt + pos;
        size_t n = end - pos;
        pos = end;
        size_t name_len = modifier_name_len(term, n);
        if (name_len > 0) {
            if (parse_modifier(term, n, name_len, rec, err) < 0)
                goto fail;
            continue;
        }
        if (rec->term_count == SPF_TERMS_MAX) {
            buf_appendf(err, "more than %d terms", SPF_TERMS_MAX);
            goto fail;
        }
        if (rec->term_count % 16 == 0)
            rec->terms = xreallocarray(rec->terms, rec->term_count + 16,
                                       sizeof(*rec->terms));
        struct spf_term *t = &rec->terms[rec->term_count];
        if (parse_directive(term, n, t, err) < 0)
            goto fail;
        t->text = xstrndup(term, n);
        if (t->mechanism == SPF_MECH_ALL)
            rec->has_all = 1;
        rec->term_count++;
    }
    return 0;
fail:
    spf_record_free(rec);
    return -1;
}

void spf_record_free(struct spf_record *rec)
{
    for (size_t i = 0; i < rec->term_count; i++) {
        free(rec->terms[i].domain_spec);
        free(rec->terms[i].text);
    }
    free(rec->terms);
    free(rec->redirect);
    free(rec->exp);
    memset(rec, 0, sizeof(*rec));
}
