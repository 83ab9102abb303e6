/* local_domain.c: mydestination and our own address literals (see
 * local_domain.h). */
#include "routing/local_domain.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tables/domain_list.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"

struct own_addr {
    int family;              /* AF_INET or AF_INET6 */
    unsigned char bytes[16]; /* 4 or 16 used */
};

struct local_domain {
    struct domain_list *mydestination;
    struct own_addr *addrs;
    size_t count, cap;
};

static void own_add(struct local_domain *ld, int family, const void *bytes)
{
    size_t len = family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < ld->count; i++)
        if (ld->addrs[i].family == family &&
            memcmp(ld->addrs[i].bytes, bytes, len) == 0)
            return;
    if (ld->count == ld->cap) {
        ld->cap = ld->cap ? ld->cap * 2 : 8;
        ld->addrs = xreallocarray(ld->addrs, ld->cap, sizeof(*ld->addrs));
    }
    struct own_addr *a = &ld->addrs[ld->count++];
    memset(a, 0, sizeof(*a));
    a->family = family;
    memcpy(a->bytes, bytes, len);
}

static void own_add_sockaddr(struct local_domain *ld, const struct sockaddr *sa)
{
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET)
        own_add(ld, AF_INET, &((const struct sockaddr_in *)sa)->sin_addr);
    else if (sa->sa_family == AF_INET6)
        own_add(ld, AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr);
}

static void own_add_all(struct local_domain *ld)
{
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) < 0) {
        log_warn("inet_interfaces: cannot list interfaces: %m");
        return;
    }
    for (struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next)
        own_add_sockaddr(ld, ifa->ifa_addr);
    freeifaddrs(list);
}

/* One inet_interfaces or proxy_interfaces item: an address (IPv6 may be
 * in brackets) or a host name. */
static void own_add_item(struct local_domain *ld, const char *param,
                         const char *item)
{
    unsigned char bytes[16];
    char text[256];
    str_copy(text, item, sizeof(text));
    size_t len = strlen(text);
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        memmove(text, text + 1, len - 2);
        text[len - 2] = 0;
    }
    if (inet_pton(AF_INET, text, bytes) == 1) {
        own_add(ld, AF_INET, bytes);
        return;
    }
    if (inet_pton(AF_INET6, text, bytes) == 1) {
        own_add(ld, AF_INET6, bytes);
        return;
    }
    struct addrinfo hints, *result = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(text, NULL, &hints, &result);
    if (rc != 0) {
        log_warn("%s: cannot resolve %s: %s", param, text, gai_strerror(rc));
        return;
    }
    for (struct addrinfo *ai = result; ai; ai = ai->ai_next)
        own_add_sockaddr(ld, ai->ai_addr);
    freeaddrinfo(result);
}

static void own_add_list(struct local_domain *ld, const char *param,
                         const char *value)
{
    struct strlist items;
    strlist_init(&items);
    str_split_list(value ? value : "", &items);
    for (size_t i = 0; i < items.count; i++) {
        const char *item = items.items[i];
        if (str_equal_nocase(item, "all")) {
            own_add_all(ld);
        } else if (str_equal_nocase(item, "loopback-only")) {
            own_add_item(ld, param, "127.0.0.1");
            own_add_item(ld, param, "::1");
        } else {
            own_add_item(ld, param, item);
        }
    }
    strlist_free(&items);
}

struct local_domain *local_domain_open(const char *mydestination,
                                       const char *inet_interfaces,
                                       const char *proxy_interfaces,
                                       struct buf *err)
{
    struct local_domain *ld = xcalloc(1, sizeof(*ld));
    ld->mydestination = domain_list_open("mydestination", mydestination,
                                         DOMAIN_LIST_STRING, err);
    if (ld->mydestination == NULL) {
        free(ld);
        return NULL;
    }
    own_add_list(ld, "inet_interfaces", inet_interfaces);
    own_add_list(ld, "proxy_interfaces", proxy_interfaces);
    return ld;
}

int local_domain_is_own_literal(const struct local_domain *ld,
                                const char *literal)
{
    size_t len = strlen(literal);
    if (len < 3 || len > 64 || literal[0] != '[' || literal[len - 1] != ']')
        return 0;
    char text[80];
    memcpy(text, literal + 1, len - 2);
    text[len - 2] = 0;
    unsigned char bytes[16];
    int family;
    if (strncasecmp(text, "IPv6:", 5) == 0) {
        if (inet_pton(AF_INET6, text + 5, bytes) != 1)
            return 0;
        family = AF_INET6;
    } else if (inet_pton(AF_INET, text, bytes) == 1) {
        family = AF_INET;
    } else {
        return 0;
    }
    return local_domain_is_own_address(family, bytes, (void *)ld);
}

int local_domain_is_own_address(int family, const unsigned char *addr,
                                void *ctx)
{
    const struct local_domain *ld = ctx;
    size_t alen = family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < ld->count; i++)
        if (ld->addrs[i].family == family &&
            memcmp(ld->addrs[i].bytes, addr, alen) == 0)
            return 1;
    return 0;
}

int local_domain_match(struct local_domain *ld, const char *domain)
{
    size_t len = strlen(domain);
    if (len == 0 || len > 256)
        return 0;
    char name[258];
    memcpy(name, domain, len + 1);
    /* One trailing dot, but not dot-dot. */
    if (name[len - 1] == '.')
        name[--len] = 0;
    if (len == 0 || name[len - 1] == '.')
        return 0;
    int m = domain_list_match(ld->mydestination, name);
    if (m != 0)
        return m;
    if (name[0] == '[')
        return local_domain_is_own_literal(ld, name);
    return 0;
}

void local_domain_free(struct local_domain *ld)
{
    if (ld == NULL)
        return;
    domain_list_free(ld->mydestination);
    free(ld->addrs);
    free(ld);
}
