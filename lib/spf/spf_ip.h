/* spf_ip.h: the client address as SPF sees it (RFC 7208): IPv4 or IPv6
 * bytes, an IPv4-mapped IPv6 address taken as IPv4 (section 5), CIDR
 * matching, and the forms the macros and headers print. */
#ifndef POSTERN_SPF_IP_H
#define POSTERN_SPF_IP_H

#include <stddef.h>

#include "base/buf.h"

struct spf_ip {
    int family;              /* 4 or 6 */
    unsigned char bytes[16]; /* 4 used for IPv4 */
};

/* Parses an IPv4 or IPv6 address (an IPv4-mapped one becomes IPv4).
 * Returns 0, or -1 when text is not an address. */
int spf_ip_parse(const char *text, struct spf_ip *ip);
/* Whether the first prefix bits of a and b agree (same family only). */
int spf_ip_match(const struct spf_ip *a, const struct spf_ip *b, int prefix);
/* Appends the usual text form (192.0.2.1, 2001:db8::1). */
void spf_ip_format(const struct spf_ip *ip, struct buf *out);
/* Appends the %{i} form: dotted quad, or 32 dot-separated nibbles. */
void spf_ip_format_dotted(const struct spf_ip *ip, struct buf *out);
/* Appends the reverse-lookup name (4.3.2.1.in-addr.arpa, ...ip6.arpa). */
void spf_ip_reverse_name(const struct spf_ip *ip, struct buf *out);

#endif
