/* targets.h: delivery targets: from a next hop (lib/dns/nexthop) to the
 * ordered list of hosts and addresses the SMTP or LMTP client connects
 * to, as Postfix's smtp(8) finds them, on the event loop.
 *
 * A domain is looked up by MX: the exchanges sorted by preference, each
 * exchange's A and AAAA records per inet_protocols; no MX (NXDOMAIN or
 * NODATA) means the domain's own addresses at preference 0 (RFC 5321
 * implicit MX). [host] skips the MX lookup; [address] needs no lookup.
 * Then, as Postfix does:
 *  - loop detection (smtp on port 25 only): the first address of ours
 *    (is_own_address: inet_interfaces and proxy_interfaces) cuts the list
 *    at its preference; nothing left is "mail for D loops back to myself"
 *    (bounce) when we are a best MX, else "unable to find primary relay
 *    for D" (defer);
 *  - addresses shuffled (smtp_randomize_addresses) and sorted again by
 *    preference, then by family when smtp_address_preference says ipv4
 *    or ipv6, so equal preferences come in a new order each lookup;
 *  - smtp_balance_inet_protocols keeps both families within the limit,
 *    and smtp_mx_address_limit bounds the list.
 * Errors carry Postfix's enhanced status and text (docs/dns.md, "Delivery
 * targets"): null MX 5.1.0 "Domain D does not accept mail (nullMX)",
 * NXDOMAIN 5.4.4 "Host or domain name not found. Name service error for
 * name=D type=AAAA: Host not found", a failed lookup 4.4.3 "... type=MX:
 * Host not found, try again". A DNSSEC-bogus answer is a failed lookup.
 *
 * DNSSEC: with smtp_dns_support_level = dnssec the DNS client is made with
 * a trust anchor (targets_dns_settings) and each result says whether the
 * MX RRset and each address RRset were validated (`secure`), for DANE;
 * targets_tlsa_start() asks for a host's TLSA records.
 *
 * Use (the smtp daemon):
 *   targets_settings_from_config(&ts, "smtp", &err);   once, at start
 *   ts.is_own_address = local_domain_is_own_address;  routing/local_domain
 *   ts.own_ctx = local_domain;
 *   dns_settings_from_config(&ds); targets_dns_settings(&ts, &ds);
 *   client = dns_client_new(loop, &ds, &err);          before a chroot
 *   nexthop_parse_smtp(request_nexthop, 25, &hop, &err);
 *   lookup = targets_start(client, &ts, &hop, done, session);
 *   done(): result->status OK: connect to result->list[0..count) in
 *   order; DEFER/BOUNCE: result->dsn and result->reason for every
 *   recipient (relay=none, as Postfix logs it). */
#ifndef POSTERN_TARGETS_H
#define POSTERN_TARGETS_H

#include <stddef.h>

#include "base/buf.h"
#include "dns/dns.h"
#include "dns/dns_rr.h"
#include "dns/nexthop.h"

enum targets_prefer {
    TARGETS_PREFER_ANY,
    TARGETS_PREFER_IPV4,
    TARGETS_PREFER_IPV6,
};

struct targets_settings {
    int ipv4, ipv6;             /* inet_protocols */
    enum targets_prefer prefer; /* smtp_address_preference */
    unsigned address_limit;     /* smtp_mx_address_limit; 0: none */
    int randomize;              /* smtp_randomize_addresses */
    int balance;                /* smtp_balance_inet_protocols */
    int defer_if_no_mx_address; /* smtp_defer_if_no_mx_address_found */
    int dnssec;                 /* smtp_dns_support_level = dnssec */
    int lmtp;                   /* never loop detection */
    /* Our own addresses (inet_interfaces, proxy_interfaces); NULL: none.
     * family AF_INET (4 bytes) or AF_INET6 (16 bytes). */
    int (*is_own_address)(int family, const unsigned char *addr, void *ctx);
    void *own_ctx;
    /* A number below bound, for the shuffle; NULL: arc4random_uniform. */
    unsigned (*random_below)(unsigned bound);
};

/* Postfix's defaults: all protocols, any, 5, randomize, balance. */
void targets_settings_init(struct targets_settings *s);
/* From main.cf for prefix "smtp" or "lmtp": inet_protocols,
 * PREFIX_address_preference, PREFIX_mx_address_limit,
 * PREFIX_randomize_addresses, PREFIX_balance_inet_protocols,
 * PREFIX_defer_if_no_mx_address_found, PREFIX_dns_support_level,
 * PREFIX_host_lookup. Returns 0, or -1 with the reason in err for a value
 * we cannot honour (a bad keyword, dns_support_level "disabled",
 * host_lookup without "dns"). is_own_address is left NULL. */
int targets_settings_from_config(struct targets_settings *s, const char *prefix,
                                 struct buf *err);
/* The DNS client settings these targets need: with dnssec, the trust
 * anchor file postern_dns_trust_anchor_file when it exists (a warning
 * otherwise, and answers are then never `secure`). */
void targets_dns_settings(const struct targets_settings *s,
                          struct dns_settings *dns);

enum targets_status {
    TARGETS_OK,     /* count >= 1 */
    TARGETS_DEFER,  /* try again later: dsn 4.x.x */
    TARGETS_BOUNCE, /* permanent: dsn 5.x.x */
};

struct target {
    /* The MX exchange or host name as asked (lower case, no trailing
     * dot; for an address next hop the address text). */
    char host[DNS_NAME_MAX + 1];
    /* The name the address records belong to when CNAMEs were followed,
     * else "". A DANE client checks TLSA at this name first when `secure`
     * (RFC 7672 section 2.2.2), and accepts it in certificates. */
    char canonical[DNS_NAME_MAX + 1];
    unsigned preference;
    unsigned port;
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    char addr_text[46]; /* "192.0.2.1", "2001:db8::1" */
    int secure;         /* the address RRset was DNSSEC-validated */
};

struct targets {
    enum targets_status status;
    char dsn[12];     /* enhanced status of an error ("4.4.3"), else "" */
    char reason[600]; /* Postfix's text for logs and DSNs, else "" */
    /* The name looked up: the next hop's domain or host in A-label form. */
    char name[DNS_NAME_MAX + 1];
    int from_mx;   /* the list came from MX records */
    int mx_secure; /* the MX RRset was DNSSEC-validated */
    /* The MX RRset's owner when the domain is a CNAME, else "". */
    char mx_canonical[DNS_NAME_MAX + 1];
    int found_myself; /* an MX host of the domain is us (we are backup) */
    unsigned best_preference; /* of the domain's best MX (0 without MX) */
    size_t count;
    struct target *list; /* count of them, best first */
};

void targets_init(struct targets *t);
void targets_free(struct targets *t);
/* Moves src into dst (freeing what dst held); src is left empty. */
void targets_move(struct targets *dst, struct targets *src);

struct targets_lookup;
/* The outcome; the callee may keep it with targets_move(). The lookup is
 * freed when the callback returns. */
typedef void (*targets_cb)(struct targets *result, void *ctx);

/* Resolves hop (not NEXTHOP_UNIX) on client's loop; cb runs exactly once
 * unless cancelled, never before this returns. settings is copied (its
 * own_ctx must outlive the lookup). */
struct targets_lookup *targets_start(struct dns_client *client,
                                     const struct targets_settings *settings,
                                     const struct nexthop *hop, targets_cb cb,
                                     void *ctx);
/* Stops a lookup whose callback has not run; no callback follows. */
void targets_cancel(struct targets_lookup *lookup);

/* Asks for the TLSA records of _PORT._tcp.HOST (RFC 7672). The result's
 * records are DNS_TYPE_TLSA; `secure` says whether they were validated
 * (only a secure answer may be used for DANE); a bogus answer is
 * TEMPFAIL. A wrapper around dns_query_start(). */
struct dns_query *targets_tlsa_start(struct dns_client *client,
                                     const char *host, unsigned port,
                                     dns_query_cb cb, void *ctx);

/* ---- the pure steps, for unit tests (targets_list.c) ---- */

/* What the MX answer means for domain: 1 to look up the exchanges, 0 for
 * no MX (look up the domain's own addresses), -1 when out holds the
 * final error (temporary failure, null MX, malformed). */
int targets_mx_step(const struct dns_result *mx, const char *domain,
                    struct targets *out);

/* One host's address answers; a or aaaa NULL when not asked. */
struct targets_host {
    const char *name;
    unsigned preference;
    const struct dns_result *a, *aaaa;
};

/* Builds out's list (or error) from the host answers, in MX preference
 * order (or the one host at preference 0 when from_mx is 0), applying
 * loop detection (loop_detect), the shuffle, the family preference,
 * the balance and the limit. out->name, from_mx and mx_secure are set by
 * the caller first. */
void targets_assemble(const struct targets_settings *s, int loop_detect,
                      unsigned port, const struct targets_host *hosts,
                      size_t host_count, struct targets *out);

#endif
