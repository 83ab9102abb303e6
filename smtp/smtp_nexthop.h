/* smtp_nexthop.h: from a deliver/1 next hop to the addresses to try.
 *
 * The next hop comes from routing (relayhost, transport_maps,
 * default_transport's "smtp:[host]:port"); the syntax is Postfix's:
 *   smtp   [host]:port  [host]  host:port  host
 *   lmtp   inet:host:port  inet:[host]:port  unix:/path  unix:relative
 *          (a relative unix path is under $queue_directory, so
 *          lmtp:unix:private/dovecot-lmtp works as in Postfix), or a
 *          bare host[:port] meaning inet:
 * The port may be a number or a service name; the default is smtp (25)
 * for smtp and lmtp (24) for lmtp, as Postfix's. As since Postfix 3.5,
 * the next hop may be a list of such destinations separated by commas
 * or white space, tried in order ("[10.0.0.1]:25, [10.0.0.2]:25").
 *
 * What this file resolves itself is deliberately small, so that the DNS
 * resolver can replace it: literal IPv4 and IPv6 addresses (bracketed or
 * not) and unix paths. A name that needs a lookup (MX, or A/AAAA for
 * [name] and lmtp hosts) is a temporary failure for now ("MX lookup not
 * built yet"): the mail waits in deferred/ until the resolver is plugged
 * in at smtp_nexthop_resolve. */
#ifndef POSTERN_SMTP_NEXTHOP_H
#define POSTERN_SMTP_NEXTHOP_H

#include <stddef.h>
#include <sys/socket.h>

#include "base/buf.h"

/* Longest host name, unix path or address text kept. */
#define SMTP_HOST_MAX 255

/* One address to connect to. */
struct smtp_addr {
    struct sockaddr_storage sa;
    socklen_t salen;
    int family;                  /* AF_INET, AF_INET6, AF_UNIX */
    char host[SMTP_HOST_MAX + 1]; /* name for logs: the address itself for
                                   * a literal, $myhostname for unix */
    char addr[SMTP_HOST_MAX + 1]; /* numeric address; the path as the next
                                   * hop gave it for unix */
    unsigned port;                /* 0 for unix */
    char dest[SMTP_HOST_MAX + 1]; /* the destination of the next-hop list
                                   * it came from, as written ("[mail.
                                   * isp.example]:587"), for
                                   * smtp_sasl_password_maps */
    /* DANE (smtp_dns.c; 0 for literals and unix): the host name came
     * from DNSSEC-validated data or from the next hop itself ([host]),
     * and the address records were validated too, so the host's TLSA
     * records may be asked for (RFC 7672 section 2.2). */
    int host_dnssec;
    int tlsa_allowed;
    /* The host name came from an MX lookup DNSSEC did not validate, and
     * its address records were validated: its TLSA records may be used
     * as smtp_tls_dane_insecure_mx_policy says (RFC 7672 section 2.2.1). */
    int mx_insecure;
    /* With tlsa_allowed or mx_insecure: the name the address records
     * belong to when
     * the host name is a CNAME (the chain validated), else "": its TLSA
     * records are asked for first (RFC 7672 section 2.2.2). */
    char canonical[SMTP_HOST_MAX + 1];
};

struct smtp_nexthop {
    struct smtp_addr *addrs; /* in the order to try */
    size_t count;
    int found_myself;        /* an MX host of a domain looked up is this
                                host: no smtp_fallback_relay (Postfix) */
};

enum smtp_nexthop_result {
    SMTP_NEXTHOP_OK = 0,
    SMTP_NEXTHOP_DEFER,  /* try later: reason and dsn set */
    SMTP_NEXTHOP_BOUNCE, /* never works: reason and dsn set */
};

/* Parses nexthop (lmtp: the LMTP forms) and fills out (free with
 * smtp_nexthop_free, also after a failure). queue_dir anchors relative
 * unix paths; myhostname names a unix socket's host in logs, as
 * Postfix's lmtp does. On failure reason holds the text for the log and the
 * notice, dsn (at least 10 bytes) the status code. */
enum smtp_nexthop_result smtp_nexthop_resolve(const char *nexthop, int lmtp,
                                              const char *queue_dir,
                                              const char *myhostname,
                                              struct smtp_nexthop *out,
                                              struct buf *reason, char *dsn);
void smtp_nexthop_free(struct smtp_nexthop *nh);

/* How a name is looked up: an MX lookup when mx is 1 (smtp, not
 * bracketed), else the host's addresses; each address found is added to
 * out with smtp_nexthop_add. Returns as smtp_nexthop_resolve. The daemon
 * sets it (smtp_dns.c); while it is NULL a name defers ("not built"),
 * which is what the parser's unit test and fuzz target see. */
typedef enum smtp_nexthop_result (*smtp_nexthop_lookup_fn)(
    const char *host, int mx, unsigned port, struct smtp_nexthop *out,
    struct buf *reason, char *dsn);
extern smtp_nexthop_lookup_fn smtp_nexthop_lookup;
void smtp_nexthop_add(struct smtp_nexthop *nh, const struct smtp_addr *a);

/* Appends "host[addr]:port" (Postfix's relay= form), or "host[path]"
 * for a unix socket. */
void smtp_addr_format(const struct smtp_addr *a, struct buf *out);

#endif
