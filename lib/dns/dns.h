/* dns.h: the DNS client of the daemons: lookups that never block the
 * event loop, on libunbound.
 *
 * One client (one ub_ctx) per process. libunbound resolves in a worker
 * thread of its own and signals answers on a pipe (ub_fd); the client
 * watches that pipe on the process's event loop, so every callback runs
 * from the loop like any other event, never from the worker. A lookup
 * never calls back before dns_*_start() returns, and calls back exactly
 * once unless cancelled.
 *
 * Resolvers: the name servers of /etc/resolv.conf (libunbound forwards
 * to them, as the system's stub resolver would), or the servers named by
 * postern_dns_servers ("ip" or "ip@port"), which the tests use to reach a
 * DNS server on loopback. /etc/hosts is not consulted: mail routing is a
 * DNS matter. libunbound validates DNSSEC when given a trust anchor
 * (trust_anchor_file; the SMTP client sets it with smtp_dns_support_level
 * = dnssec, lib/dns/targets.h); a result then says `secure` or `bogus`.
 *
 * Every lookup is bounded by postern_dns_timeout; an expired lookup is
 * cancelled in libunbound and reported as DNS_TEMPFAIL ("timeout").
 * Records are parsed by lib/dns/dns_rr (bounded sizes, three-way outcome).
 * See docs/dns.md. */
#ifndef POSTERN_DNS_H
#define POSTERN_DNS_H

#include "base/buf.h"
#include "dns/dns_rr.h"
#include "base/event.h"
#include "base/str.h"

struct dns_settings {
    struct strlist servers;  /* "ip" or "ip@port"; empty: resolv_conf */
    const char *resolv_conf; /* default /etc/resolv.conf */
    long timeout_ms;         /* per lookup; > 0 */
    /* DNSSEC trust anchors (a zone file of DS or DNSKEY records, such as
     * Debian's /usr/share/dns/root.key); NULL: no validation, every
     * answer is insecure. The string is not copied. */
    const char *trust_anchor_file;
};

/* Defaults: no servers (resolv.conf), 10 s. */
void dns_settings_init(struct dns_settings *settings);
/* From main.cf: postern_dns_servers, postern_dns_timeout. */
void dns_settings_from_config(struct dns_settings *settings);
void dns_settings_free(struct dns_settings *settings);
/* Checks one postern_dns_servers entry ("192.0.2.1", "::1@5353").
 * Returns 0, or -1 with the reason in err. */
int dns_server_check(const char *entry, struct buf *err);

struct dns_client;

/* Creates the client. Read resolv.conf here, before a chroot. loop may
 * be NULL for a client used only through dns_lookup_sync(). Returns
 * NULL with the reason in err when the settings are unusable. */
struct dns_client *dns_client_new(struct event_loop *loop,
                                  const struct dns_settings *settings,
                                  struct buf *err);
/* Cancels every pending lookup (no callbacks) and frees the client. */
void dns_client_free(struct dns_client *client);
/* Lookups started and not yet finished or cancelled. */
size_t dns_client_pending(const struct dns_client *client);
/* The loop the client was made with (NULL for a synchronous client). */
struct event_loop *dns_client_loop(const struct dns_client *client);

/* ---- one query ---- */

struct dns_query;
/* The answer; the callee may keep the records with dns_result_move().
 * The query is freed when the callback returns. */
typedef void (*dns_query_cb)(struct dns_result *result, void *ctx);

/* Looks up name (one trailing dot allowed) for type (DNS_TYPE_*). A
 * name that is not a host name in DNS syntax is answered NOTFOUND
 * without a query. Needs a client with a loop. */
struct dns_query *dns_query_start(struct dns_client *client, const char *name,
                                  int type, dns_query_cb cb, void *ctx);
/* Stops a lookup whose callback has not run yet; no callback follows. */
void dns_query_cancel(struct dns_query *query);

/* Blocking lookup for tools (waits at most the timeout). Do not use it
 * in a process that serves sessions. Returns out->status. */
enum dns_status dns_lookup_sync(struct dns_client *client, const char *name,
                                int type, struct dns_result *out);

/* ---- what a domain or host name is (MX, A and AAAA at once) ---- */

struct dns_domain_lookup;
/* status as dns_domain_combine() decided; why is a short reason for
 * logs ("timeout", "SERVFAIL", ...; "" when found). The lookup is freed
 * when the callback returns. */
typedef void (*dns_domain_cb)(enum dns_domain_status status, const char *why,
                              void *ctx);

/* Asks for the MX, A and AAAA records of name in parallel and reports as
 * soon as dns_domain_combine() can decide, cancelling what is left. */
struct dns_domain_lookup *dns_domain_start(struct dns_client *client,
                                           const char *name,
                                           enum dns_domain_mode mode,
                                           dns_domain_cb cb, void *ctx);
/* Stops a domain lookup whose callback has not run; no callback follows. */
void dns_domain_cancel(struct dns_domain_lookup *lookup);

#endif
