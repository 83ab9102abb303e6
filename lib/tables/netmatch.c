/* netmatch.c: host and network lists (see netmatch.h). */
#include "tables/netmatch.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"

enum net_kind { NET_CIDR, NET_NAME, NET_TABLE, NET_BAD };

struct net_item {
    enum net_kind kind;
    int negate;
    int family;
    unsigned char addr[16];
    unsigned prefix;
    char *name; /* NET_NAME: lower case */
    struct dict *table;
};

struct netlist {
    struct net_item *items;
    size_t count;
};

int netmatch_parse_cidr(const char *text, int *family, unsigned char addr[16],
                        unsigned *prefix)
{
    char host[64];
    const char *slash = strchr(text, '/');
    size_t host_len = slash ? (size_t)(slash - text) : strlen(text);
    if (host_len >= 2 && text[0] == '[' && text[host_len - 1] == ']') {
        text++;
        host_len -= 2;
    }
    if (host_len == 0 || host_len >= sizeof(host))
        return -1;
    memcpy(host, text, host_len);
    host[host_len] = '\0';
    memset(addr, 0, 16);
    unsigned max;
    if (inet_pton(AF_INET, host, addr) == 1) {
        *family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, host, addr) == 1) {
        *family = AF_INET6;
        max = 128;
    } else {
        return -1;
    }
    *prefix = max;
    if (slash) {
        long value;
        if (str_to_long(slash + 1, &value) < 0 || value < 0 ||
            value > (long)max || slash[1] == '-' || slash[1] == '+')
            return -1;
        *prefix = (unsigned)value;
    }
    return 0;
}

static int prefix_match(const unsigned char *a, const unsigned char *b,
                        unsigned prefix)
{
    unsigned full = prefix / 8, rest = prefix % 8;
    if (memcmp(a, b, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

struct netlist *netlist_new(const char *what, const struct strlist *items)
{
    struct netlist *list = xcalloc(1, sizeof(*list));
    list->items =
        xcalloc(items->count ? items->count : 1, sizeof(*list->items));
    for (size_t i = 0; i < items->count; i++) {
        const char *text = items->items[i];
        struct net_item *it = &list->items[list->count++];
        while (*text == '!') {
            it->negate = !it->negate;
            text++;
        }
        if (netmatch_parse_cidr(text, &it->family, it->addr, &it->prefix) ==
            0) {
            it->kind = NET_CIDR;
            continue;
        }
        const char *colon = strchr(text, ':');
        if (colon && colon != text && text[0] != '[') {
            struct buf err = BUF_INIT;
            it->table = dict_open(text, 0, &err);
            if (it->table == NULL) {
                log_warn("%s: bad table %s: %s", what, text, buf_cstr(&err));
                it->kind = NET_BAD;
            } else {
                it->kind = NET_TABLE;
            }
            buf_free(&err);
            continue;
        }
        if (strchr(text, '/') || *text == '\0' || text[0] == '[') {
            log_warn("%s: malformed network item \"%s\": ignored", what, text);
            it->kind = NET_BAD;
            continue;
        }
        it->kind = NET_NAME;
        it->name = str_lower(xstrdup(text));
    }
    return list;
}

void netlist_free(struct netlist *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].name);
        dict_close(list->items[i].table);
    }
    free(list->items);
    free(list);
}

static int name_match(const char *pattern, const char *name)
{
    size_t plen = strlen(pattern), nlen = strlen(name);
    if (pattern[0] == '.')
        return nlen > plen && str_equal_nocase(name + nlen - plen, pattern);
    if (str_equal_nocase(name, pattern))
        return 1;
    return nlen > plen + 1 && name[nlen - plen - 1] == '.' &&
           str_equal_nocase(name + nlen - plen, pattern);
}

enum dict_result netlist_match(struct netlist *list, const char *name,
                               const char *addr)
{
    int family = 0;
    unsigned char bytes[16];
    unsigned prefix;
    if (addr && netmatch_parse_cidr(addr, &family, bytes, &prefix) < 0)
        family = 0;
    /* An IPv4-mapped IPv6 client matches IPv4 networks. */
    if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)bytes)) {
        memmove(bytes, bytes + 12, 4);
        memset(bytes + 4, 0, 12);
        family = AF_INET;
    }
    struct buf value = BUF_INIT;
    enum dict_result result = DICT_NOTFOUND;
    for (size_t i = 0; i < list->count; i++) {
        struct net_item *it = &list->items[i];
        int matched = 0;
        switch (it->kind) {
        case NET_CIDR:
            matched = family == it->family &&
                      prefix_match(bytes, it->addr, it->prefix);
            break;
        case NET_NAME:
            matched = name && strcmp(name, "unknown") != 0 &&
                      name_match(it->name, name);
            break;
        case NET_TABLE: {
            enum dict_result r = DICT_NOTFOUND;
            if (addr && *addr)
                r = dict_lookup(it->table, addr, &value);
            if (r == DICT_NOTFOUND && name && strcmp(name, "unknown") != 0)
                r = dict_lookup(it->table, name, &value);
            if (r == DICT_ERROR) {
                buf_free(&value);
                return DICT_ERROR;
            }
            matched = r == DICT_FOUND;
            break;
        }
        case NET_BAD:
            break;
        }
        if (matched) {
            result = it->negate ? DICT_NOTFOUND : DICT_FOUND;
            break;
        }
    }
    buf_free(&value);
    return result;
}
