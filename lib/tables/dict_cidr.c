/* dict_cidr.c: cidr: tables, Postfix's cidr_table(5):
 *
 *     192.168.0.0/16      result      a network (the first match wins)
 *     10.1.2.3            result      one host
 *     [2001:db8::]/32     result      IPv6, optionally in brackets
 *     !192.0.2.0/24       result      matches addresses outside it
 *     if 10.0.0.0/8 ... endif         nested conditions
 *
 * A network with bits set below its mask is an error ("perhaps you mean
 * ..."), as in Postfix: it usually hides a typo. Keys that are not an
 * IP address are simply not found. IPv4 rules never match IPv6 keys
 * (including ::ffff:a.b.c.d) and vice versa. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tables/dict_impl.h"
#include "base/mem.h"
#include "base/file_read.h"

enum dict_cidr_kind { CIDR_MATCH, CIDR_IF, CIDR_ENDIF };

struct dict_cidr_rule {
    enum dict_cidr_kind kind;
    int negate;
    int family_len;              /* 4 or 16 bytes */
    unsigned char net[16];
    int prefix;                  /* mask length in bits */
    char *result;
    size_t endif;
    int line;
};

struct dict_cidr {
    struct dict_cidr_rule *rules;
    size_t count, cap;
};

static void dict_cidr_free(struct dict_cidr *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->count; i++)
        free(c->rules[i].result);
    free(c->rules);
    free(c);
}

/* Parses an address (IPv6 maybe in brackets) into bytes; 4, 16 or -1. */
static int dict_cidr_parse_addr(const char *text, size_t len,
                                unsigned char *out)
{
    char copy[64];
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof(copy))
        return -1;
    memcpy(copy, text, len);
    copy[len] = 0;
    if (inet_pton(AF_INET, copy, out) == 1)
        return 4;
    if (strchr(copy, ':') && inet_pton(AF_INET6, copy, out) == 1)
        return 16;
    return -1;
}

static int dict_cidr_in_net(const unsigned char *addr,
                            const struct dict_cidr_rule *rule)
{
    int full = rule->prefix / 8, rest = rule->prefix % 8;
    if (memcmp(addr, rule->net, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (addr[full] & mask) == rule->net[full];
}

/* Parses "!net/len" at *pos into rule. */
static int dict_cidr_parse_net(struct dict *d, struct dict_cidr_rule *rule,
                               char **pos, int lineno, struct buf *err)
{
    char *s = *pos;
    while (*s == '!') {
        rule->negate = !rule->negate;
        s++;
    }
    char *start = s;
    while (*s && !isspace((unsigned char)*s))
        s++;
    size_t token_len = (size_t)(s - start);
    char *slash = memchr(start, '/', token_len);
    size_t addr_len = slash ? (size_t)(slash - start) : token_len;
    rule->family_len = dict_cidr_parse_addr(start, addr_len, rule->net);
    if (rule->family_len < 0) {
        buf_appendf(err, "%s, line %d: bad address \"%.*s\"", d->name, lineno,
                    (int)addr_len, start);
        return -1;
    }
    int max_bits = rule->family_len * 8;
    rule->prefix = max_bits;
    if (slash) {
        size_t digits_len = token_len - addr_len - 1;
        char digits[8];
        long value;
        if (digits_len == 0 || digits_len >= sizeof(digits) ||
            strspn(slash + 1, "0123456789") < digits_len) {
            buf_appendf(err, "%s, line %d: bad network mask in \"%.*s\"",
                        d->name, lineno, (int)token_len, start);
            return -1;
        }
        memcpy(digits, slash + 1, digits_len);
        digits[digits_len] = 0;
        value = strtol(digits, NULL, 10);
        if (value > max_bits) {
            buf_appendf(err, "%s, line %d: network mask /%ld is longer than "
                             "%d bits in \"%.*s\"",
                        d->name, lineno, value, max_bits, (int)token_len,
                        start);
            return -1;
        }
        rule->prefix = (int)value;
    }
    /* Host bits below the mask usually mean a typo: refuse them. */
    unsigned char masked[16];
    memcpy(masked, rule->net, 16);
    for (int bit = rule->prefix; bit < max_bits; bit++)
        masked[bit / 8] &= (unsigned char)~(0x80 >> (bit % 8));
    if (memcmp(masked, rule->net, (size_t)rule->family_len) != 0) {
        char text[INET6_ADDRSTRLEN];
        inet_ntop(rule->family_len == 4 ? AF_INET : AF_INET6, masked, text,
                  sizeof(text));
        buf_appendf(err, "%s, line %d: non-null host address bits in "
                         "\"%.*s\", perhaps you should use \"%s/%d\" instead",
                    d->name, lineno, (int)token_len, start, text,
                    rule->prefix);
        return -1;
    }
    while (isspace((unsigned char)*s))
        s++;
    *pos = s;
    return 0;
}

static int dict_cidr_keyword(const char *s, const char *word)
{
    size_t len = strlen(word);
    return strncasecmp(s, word, len) == 0 &&
           (s[len] == 0 || isspace((unsigned char)s[len]));
}

static struct dict_cidr_rule *dict_cidr_add(struct dict_cidr *c)
{
    if (c->count == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->rules = xreallocarray(c->rules, c->cap, sizeof(*c->rules));
    }
    struct dict_cidr_rule *rule = &c->rules[c->count++];
    memset(rule, 0, sizeof(*rule));
    return rule;
}

static int dict_cidr_load_text(struct dict *d, const char *text, size_t len,
                               struct buf *err)
{
    struct dict_cidr *c = xcalloc(1, sizeof(*c));
    struct dict_text_reader reader;
    struct buf line = BUF_INIT;
    struct dict_if_stack ifs = {0};
    int lineno, status;
    dict_text_init(&reader, text, len);
    while ((status = dict_text_next(&reader, &line, &lineno)) > 0) {
        char *s = line.data;
        while (isspace((unsigned char)*s))
            s++;
        if (dict_cidr_keyword(s, "endif")) {
            long opened = dict_if_endif(&ifs, d->name, s + 5, lineno, err);
            if (opened < 0) {
                status = -1;
                break;
            }
            struct dict_cidr_rule *rule = dict_cidr_add(c);
            rule->kind = CIDR_ENDIF;
            c->rules[opened].endif = c->count - 1;
            continue;
        }
        struct dict_cidr_rule *rule = dict_cidr_add(c);
        rule->line = lineno;
        int is_if = dict_cidr_keyword(s, "if");
        if (is_if) {
            rule->kind = CIDR_IF;
            s += 2;
            while (isspace((unsigned char)*s))
                s++;
        }
        if (dict_cidr_parse_net(d, rule, &s, lineno, err) < 0) {
            status = -1;
            break;
        }
        if (is_if) {
            if (*s) {
                buf_appendf(err, "%s, line %d: text after if network (an "
                                 "indented line continues the line before)",
                            d->name, lineno);
                status = -1;
                break;
            }
            dict_if_push(&ifs, c->count - 1, lineno);
            continue;
        }
        size_t result_len = strlen(s);
        while (result_len > 0 && isspace((unsigned char)s[result_len - 1]))
            s[--result_len] = 0;
        if (result_len == 0) {
            buf_appendf(err, "%s, line %d: no result after the network",
                        d->name, lineno);
            status = -1;
            break;
        }
        rule->kind = CIDR_MATCH;
        rule->result = xstrdup(s);
    }
    if (status < 0 && err->len == 0)
        buf_appendf(err, "%s, line %d: NUL byte in text", d->name, lineno);
    if (status == 0 && dict_if_unclosed(&ifs, d->name, err))
        status = -1;
    dict_if_free(&ifs);
    buf_free(&line);
    if (status < 0) {
        dict_cidr_free(c);
        return -1;
    }
    d->impl = c;
    return 0;
}

static int dict_cidr_load(struct dict *d, struct buf *err)
{
    struct buf text = BUF_INIT;
    int status = file_read(d->path, DICT_SOURCE_MAX_SIZE, &text, err);
    if (status == 0)
        status = dict_cidr_load_text(d, text.data, text.len, err);
    buf_free(&text);
    return status;
}

static void dict_cidr_release(struct dict *d)
{
    dict_cidr_free(d->impl);
    d->impl = NULL;
}

static enum dict_result dict_cidr_lookup(struct dict *d, const char *key,
                                         size_t key_len, struct buf *value)
{
    struct dict_cidr *c = d->impl;
    unsigned char addr[16];
    int family_len = dict_cidr_parse_addr(key, key_len, addr);
    if (family_len < 0)
        return DICT_NOTFOUND;
    size_t i = 0;
    while (i < c->count) {
        struct dict_cidr_rule *rule = &c->rules[i];
        if (rule->kind == CIDR_ENDIF) {
            i++;
            continue;
        }
        int matched = rule->family_len == family_len &&
                      dict_cidr_in_net(addr, rule);
        if (rule->negate)
            matched = rule->family_len == family_len && !matched;
        if (rule->kind == CIDR_IF) {
            i = matched ? i + 1 : rule->endif + 1;
            continue;
        }
        if (matched) {
            buf_set_str(value, rule->result);
            return DICT_FOUND;
        }
        i++;
    }
    return DICT_NOTFOUND;
}

const struct dict_type dict_type_cidr = {
    .name = "cidr", .suffix = "",
    .load = dict_cidr_load, .load_text = dict_cidr_load_text,
    .release = dict_cidr_release, .lookup = dict_cidr_lookup,
};
