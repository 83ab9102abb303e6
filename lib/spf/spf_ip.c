/* spf_ip.c: the client address as SPF sees it; see spf_ip.h. */
#include "spf/spf_ip.h"

#include <arpa/inet.h>
#include <string.h>

int spf_ip_parse(const char *text, struct spf_ip *ip)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0,
                                             0, 0, 0, 0, 0xff, 0xff};
    memset(ip, 0, sizeof(*ip));
    if (inet_pton(AF_INET, text, ip->bytes) == 1) {
        ip->family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, text, ip->bytes) != 1)
        return -1;
    ip->family = 6;
    if (memcmp(ip->bytes, mapped, sizeof(mapped)) == 0) {
        memmove(ip->bytes, ip->bytes + 12, 4);
        memset(ip->bytes + 4, 0, 12);
        ip->family = 4;
    }
    return 0;
}

int spf_ip_match(const struct spf_ip *a, const struct spf_ip *b, int prefix)
{
    if (a->family != b->family || prefix < 0)
        return 0;
    int max = a->family == 4 ? 32 : 128;
    if (prefix > max)
        prefix = max;
    int whole = prefix / 8, rest = prefix % 8;
    if (memcmp(a->bytes, b->bytes, (size_t)whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a->bytes[whole] & mask) == (b->bytes[whole] & mask);
}

void spf_ip_format(const struct spf_ip *ip, struct buf *out)
{
    char text[INET6_ADDRSTRLEN];
    inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->bytes, text,
              sizeof(text));
    buf_append_str(out, text);
}

/* IPv6 nibbles in upper case, as the reference implementation (pyspf)
 * and the RFC 7208 test suite's expected explanations have them; names
 * are case-insensitive, so lookups do not care. */
void spf_ip_format_dotted(const struct spf_ip *ip, struct buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    if (ip->family == 4) {
        spf_ip_format(ip, out);
        return;
    }
    for (int i = 0; i < 16; i++) {
        buf_append_char(out, hex[ip->bytes[i] >> 4]);
        buf_append_char(out, '.');
        buf_append_char(out, hex[ip->bytes[i] & 15]);
        if (i < 15)
            buf_append_char(out, '.');
    }
}

void spf_ip_reverse_name(const struct spf_ip *ip, struct buf *out)
{
    static const char hex[] = "0123456789abcdef";
    if (ip->family == 4) {
        buf_appendf(out, "%u.%u.%u.%u.in-addr.arpa", ip->bytes[3],
                    ip->bytes[2], ip->bytes[1], ip->bytes[0]);
        return;
    }
    for (int i = 15; i >= 0; i--)
        buf_appendf(out, "%c.%c.", hex[ip->bytes[i] & 15],
                    hex[ip->bytes[i] >> 4]);
    buf_append_str(out, "ip6.arpa");
}
