/* nexthop.h: the next-hop destinations of the SMTP and LMTP clients, as
 * Postfix's smtp(8) and lmtp(8) take them from transport_maps, relayhost
 * and default_transport, parsed into plain data.
 *
 * smtp:  domain            MX lookup, default port
 *        domain:port       MX lookup, that port
 *        [host]            no MX lookup: the host's own addresses
 *        [host]:port
 *        [192.0.2.1], [ipv6:2001:db8::1] (also [2001:db8::1]): no lookup
 * lmtp:  inet:host, inet:host:port, inet:[host]:port, host, host:port
 *        (never an MX lookup); unix:/path (returned as a path, the
 *        caller connects to it).
 * A port is a number 1..65535 or a service name (base/servport: the
 * system's services database, then the mail ports built in). Host names
 * are checked as DNS names (letters, digits, '-', '_'); a UTF-8 domain is
 * accepted and converted to A-labels by the caller's lookup (lib/dns/idna).
 * A trailing dot is dropped. Pure: no lookups, so it is fuzzed
 * (fuzz/fuzz_nexthop.c). */
#ifndef POSTERN_NEXTHOP_H
#define POSTERN_NEXTHOP_H

#include "base/buf.h"
#include "dns/dns_rr.h"

enum nexthop_kind {
    NEXTHOP_DOMAIN,  /* MX lookup of host */
    NEXTHOP_HOST,    /* [host]: the host's A/AAAA records */
    NEXTHOP_ADDRESS, /* [address]: that address, no lookup */
    NEXTHOP_UNIX,    /* lmtp unix:/path: path holds it */
};

struct nexthop {
    enum nexthop_kind kind;
    /* The domain or host name (no brackets, no trailing dot; for an
     * address the address text, without "ipv6:"). */
    char host[DNS_NAME_MAX + 1];
    unsigned port; /* 1..65535 */
    int family;    /* NEXTHOP_ADDRESS: AF_INET or AF_INET6 */
    unsigned char addr[16];
    char path[256]; /* NEXTHOP_UNIX */
};

/* Parses an smtp next hop; default_port is the transport's (25 for
 * smtp). Returns 0, or -1 with the reason in err (appended). */
int nexthop_parse_smtp(const char *text, unsigned default_port,
                       struct nexthop *out, struct buf *err);

/* Parses an lmtp next hop (default_port 24 for lmtp): "inet:" is
 * optional, a name is never MX-looked-up (kind HOST or ADDRESS), and
 * "unix:/path" gives kind UNIX. Returns 0 or -1 as above. */
int nexthop_parse_lmtp(const char *text, unsigned default_port,
                       struct nexthop *out, struct buf *err);

/* The next hop as Postfix prints it: "domain:port" when the port is not
 * default_port, "[host]" / "[host]:port", "[ipv6:...]" for IPv6
 * addresses, "unix:/path". Replaces out's contents. */
void nexthop_format(const struct nexthop *hop, unsigned default_port,
                    struct buf *out);

#endif
