/* local_domain.h: "is this domain us?", Postfix's resolve_local().
 *
 * A domain is local when it matches mydestination (a string list, see
 * domain_list.h), or when it is an address literal ([192.0.2.1],
 * [IPv6:2001:db8::1]) of one of our interfaces: the addresses in
 * inet_interfaces (all of the host's addresses for "all", 127.0.0.1 and
 * ::1 for "loopback-only", host names resolved once when opened) and in
 * proxy_interfaces. One trailing dot is ignored ("example.com."). */
#ifndef POSTERN_LOCAL_DOMAIN_H
#define POSTERN_LOCAL_DOMAIN_H

#include "base/buf.h"

struct local_domain;

/* Opens with the values of mydestination, inet_interfaces and
 * proxy_interfaces. Returns NULL with the reason in err when
 * mydestination names an unreadable /file. An interface name that does
 * not resolve is logged and skipped (Postfix refuses to start; we still
 * recognise the names in mydestination). */
struct local_domain *local_domain_open(const char *mydestination,
                                       const char *inet_interfaces,
                                       const char *proxy_interfaces,
                                       struct buf *err);

/* 1 when local, 0 when not, -1 when a mydestination table lookup failed
 * (temporary). */
int local_domain_match(struct local_domain *ld, const char *domain);

/* 1 when the address literal text (with brackets) is one of our
 * interface addresses; 0 otherwise (also for malformed literals). */
int local_domain_is_own_literal(const struct local_domain *ld,
                                const char *literal);

/* 1 when the address (family AF_INET with 4 bytes, AF_INET6 with 16) is
 * one of our interface addresses (inet_interfaces, proxy_interfaces), 0
 * otherwise; the SMTP client's loop detection (dns/targets.h) calls it
 * with ld as its context. */
int local_domain_is_own_address(int family, const unsigned char *addr,
                                void *ld);

void local_domain_free(struct local_domain *ld);

#endif
