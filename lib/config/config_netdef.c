/* config_netdef.c: the computed default of mynetworks.
 *
 * Postfix derives mynetworks from the host's interface addresses and
 * mynetworks_style: "host" trusts only this host's addresses (the
 * default since compatibility level 2), "subnet" the attached subnets,
 * "class" their whole class A/B/C networks. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "config/config_internal.h"
#include "base/mem.h"

static int prefix_of(const unsigned char *mask, size_t len)
{
    int bits = 0;
    for (size_t i = 0; i < len; i++)
        for (int b = 7; b >= 0; b--)
            if (mask[i] & (1u << b))
                bits++;
    return bits;
}

static void apply_prefix(unsigned char *addr, size_t len, int prefix)
{
    for (size_t i = 0; i < len; i++) {
        int keep = prefix - (int)i * 8;
        if (keep >= 8)
            continue;
        addr[i] &= keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
    }
}

static void add_unique(struct strlist *list, const char *item)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i], item) == 0)
            return;
    strlist_add(list, item);
}

static void add_network(struct strlist *nets, const struct ifaddrs *ifa,
                        const char *style)
{
    char text[INET6_ADDRSTRLEN + 16], addr_text[INET6_ADDRSTRLEN];
    int family = ifa->ifa_addr->sa_family;
    if (family == AF_INET) {
        struct in_addr addr = ((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr;
        unsigned char *bytes = (unsigned char *)&addr;
        int prefix = 32;
        if (bytes[0] == 127) {
            add_unique(nets, "127.0.0.0/8");
            return;
        }
        if (strcmp(style, "subnet") == 0 && ifa->ifa_netmask)
            prefix = prefix_of((const unsigned char *)&((const struct sockaddr_in *)
                                                            ifa->ifa_netmask)->sin_addr, 4);
        else if (strcmp(style, "class") == 0)
            prefix = bytes[0] < 128 ? 8 : bytes[0] < 192 ? 16 : 24;
        apply_prefix(bytes, 4, prefix);
        inet_ntop(AF_INET, &addr, addr_text, sizeof(addr_text));
        snprintf(text, sizeof(text), "%s/%d", addr_text, prefix);
    } else if (family == AF_INET6) {
        struct in6_addr addr = ((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;
        if (IN6_IS_ADDR_LINKLOCAL(&addr))
            return; /* needs a scope; Postfix leaves them out as well */
        int prefix = 128;
        if (!IN6_IS_ADDR_LOOPBACK(&addr) && strcmp(style, "host") != 0 &&
            ifa->ifa_netmask)
            prefix = prefix_of(((const struct sockaddr_in6 *)ifa->ifa_netmask)
                                   ->sin6_addr.s6_addr, 16);
        apply_prefix(addr.s6_addr, 16, prefix);
        inet_ntop(AF_INET6, &addr, addr_text, sizeof(addr_text));
        snprintf(text, sizeof(text), "[%s]/%d", addr_text, prefix);
    } else {
        return;
    }
    add_unique(nets, text);
}

char *config_networks_for_style(const char *style)
{
    struct strlist nets;
    strlist_init(&nets);
    add_unique(&nets, "127.0.0.0/8");
    add_unique(&nets, "[::1]/128");
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) == 0) {
        for (struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next)
            if (ifa->ifa_addr)
                add_network(&nets, ifa, style ? style : "host");
        freeifaddrs(list);
    }
    struct buf out = BUF_INIT;
    for (size_t i = 0; i < nets.count; i++) {
        if (i)
            buf_append_char(&out, ' ');
        buf_append_str(&out, nets.items[i]);
    }
    strlist_free(&nets);
    buf_append(&out, "", 0);
    return buf_detach(&out);
}
